import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/main/files/csv.ts';
import { mapColumns, rowLabel } from '../../src/main/images/presets.ts';

const table = (text: string) => parseCsv(text, 'meta.csv');

describe('presets', () => {
  it('recognises PAD-UFES-20 and types its clinical fields', () => {
    const t = table(
      'patient_id,lesion_id,age,fitspatrick,region,smoke,diagnostic,img_id,biopsed\nPAT_1,1,8,,ARM,UNK,NEV,PAT_1_1_1.png,False\nPAT_2,2,55,3.0,NECK,False,BCC,PAT_2_2_2.png,True\n',
    );
    const m = mapColumns(t, 'meta.csv');
    expect(m).toMatchObject({ preset: 'pad-ufes-20', id: 'img_id', label: 'diagnostic', patient: 'patient_id', lesion: 'lesion_id' });
    const byName = Object.fromEntries(m.fields.map((f) => [f.name, f]));
    expect(byName.age).toMatchObject({ type: 'number', unit: 'years' });
    expect(byName.fitspatrick).toMatchObject({ type: 'ordinal', allowedValues: ['1', '2', '3', '4', '5', '6'] });
    expect(byName.region!.type).toBe('category');
    expect(byName.smoke!.type).toBe('boolean');
    expect(Object.keys(byName)).not.toContain('img_id');
  });

  it('recognises HAM10000 (no patient column, lesion_id groups images)', () => {
    const m = mapColumns(table('lesion_id,image_id,dx,dx_type,age,sex,localization\nHAM_1,ISIC_1,bkl,histo,80.0,male,scalp\n'), 'm.csv');
    expect(m).toMatchObject({ preset: 'ham10000', id: 'image_id', label: 'dx', patient: null, lesion: 'lesion_id' });
  });

  it('recognises ISIC 2020 and prefers benign_malignant when diagnosis is mostly unknown', () => {
    const rows = ['image_name,patient_id,sex,age_approx,anatom_site_general_challenge,diagnosis,benign_malignant,target'];
    for (let i = 0; i < 10; i++)
      rows.push(`ISIC_${i},IP_${i},male,45.0,torso,${i < 2 ? 'nevus' : 'unknown'},${i % 3 ? 'benign' : 'malignant'},${i % 3 ? 0 : 1}`);
    const m = mapColumns(table(rows.join('\n')), 'm.csv');
    expect(m).toMatchObject({ preset: 'isic', id: 'image_name', label: 'benign_malignant', patient: 'patient_id' });
    expect(m.fields.map((f) => f.name)).toContain('diagnosis');
  });

  it('recognises the ISIC archive export (isic_id, diagnosis filled)', () => {
    const m = mapColumns(table('isic_id,diagnosis,lesion_id,age_approx\nISIC_1,nevus,IL_1,40\n'), 'm.csv');
    expect(m).toMatchObject({ preset: 'isic', id: 'isic_id', label: 'diagnosis', lesion: 'lesion_id' });
  });

  it('reads ISIC 2019 one-hot ground truth as one label', () => {
    const t = table('image,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK\nISIC_1,0.0,1.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0\n');
    const m = mapColumns(t, 'm.csv');
    expect(m.oneHotLabels).toHaveLength(9);
    expect(rowLabel(m, t.header, t.rows[0]!.cells)).toBe('NV');
    expect(m.fields).toEqual([]);
  });

  it('asks which column holds the image id when no preset fits (in words, not flags), counting the columns without quoting the file', () => {
    expect(() => mapColumns(table('file,class\na,b\n'), 'mine.csv')).toThrow(/matches no preset.*; it has 2 columns\. Say which column holds the image id/s);
    expect(() => mapColumns(table('file,class\na,b\n'), 'mine.csv')).not.toThrow(/--/);
    expect(() => mapColumns(table('root:x:0:0:root:/root:/bin/bash\n'), 'passwd')).toThrow(/^(?!.*root:x).*matches no preset.*; it has 1 column\./s);
    expect(() => mapColumns(table('file,class\na,b\n'), 'mine.csv', { preset: 'generic', idColumn: 'nope' })).toThrow(
      /no column "nope" \(image id\); it has 2 columns/,
    );
  });

  it('takes generic id/label/patient columns and type overrides from options', () => {
    const m = mapColumns(table('file,class,who,score\na,x,p1,3\n'), 'm.csv', {
      preset: 'generic',
      idColumn: 'file',
      labelColumn: 'class',
      patientColumn: 'who',
      types: { score: 'category' },
    });
    expect(m).toMatchObject({ preset: 'generic', id: 'file', label: 'class', patient: 'who' });
    expect(m.fields).toEqual([expect.objectContaining({ name: 'score', type: 'category' })]);
  });

  it('names the missing column when an option points at none', () => {
    expect(() => mapColumns(table('file,class\na,b\n'), 'm.csv', { idColumn: 'nope' })).toThrow(/m\.csv has no column "nope" \(image id\)/);
  });
});
