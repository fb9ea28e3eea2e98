import { describe, expect, it } from 'vitest';
import { inferType, isMissing, levelsOf, parseCell, parseNumber } from '../../src/main/files/values.ts';
import { idFromCell } from '../../src/main/files/imageFiles.ts';

describe('missing markers and values', () => {
  it('treats empty cells and UNK/unknown/NA markers as missing', () => {
    for (const m of ['', ' ', 'UNK', 'unknown', 'NA', 'n/a', 'NaN', 'null']) expect(isMissing(m)).toBe(true);
    for (const v of ['0', 'False', 'NECK', 'unknown lesion']) expect(isMissing(v)).toBe(false);
  });

  it('parses numbers with a decimal point or a decimal comma, and nothing else', () => {
    expect(parseNumber('3.0')).toBe(3);
    expect(parseNumber('4,5')).toBe(4.5);
    expect(parseNumber('-1e3')).toBe(-1000);
    expect(parseNumber('12 years')).toBeNull();
    expect(parseNumber('1,000,000')).toBeNull();
  });

  it('infers PAD-UFES-20 style types: True/False booleans, fitspatrick ordinal, age number, region category', () => {
    expect(inferType('smoke', ['True', 'False', 'UNK', ''])).toBe('boolean');
    expect(inferType('fitspatrick', ['3.0', '2.0', '', '6.0'])).toBe('ordinal');
    expect(inferType('age', ['55', '8', '71'])).toBe('number');
    expect(inferType('region', ['NECK', 'ARM', 'FACE', 'ARM'])).toBe('category');
    expect(
      inferType(
        'note',
        Array.from({ length: 200 }, (_, i) => `free text ${i}`),
      ),
    ).toBe('text');
    expect(inferType('empty', ['', 'UNK'])).toBe('text');
  });

  it('lists ordinal levels numerically and category levels sorted', () => {
    expect(levelsOf('ordinal', ['3.0', '10', '2', ''])).toEqual(['2', '3', '10']);
    expect(levelsOf('category', ['b', 'a', 'b', 'UNK'])).toEqual(['a', 'b']);
  });

  it('parses cells by type and explains a value that does not fit', () => {
    expect(parseCell('boolean', 'True')).toEqual({ ok: true, value: true });
    expect(parseCell('number', 'UNK')).toEqual({ ok: true, value: null });
    expect(parseCell('number', 'abc')).toEqual({ ok: false, reason: '"abc" is not a number' });
    expect(parseCell('category', ' ARM ')).toEqual({ ok: true, value: 'ARM' });
  });

  it('matches CSV ids to file stems whatever extension or folder the CSV names', () => {
    expect(idFromCell('PAT_46_881_939.png')).toBe('PAT_46_881_939');
    expect(idFromCell('ISIC_0000000')).toBe('ISIC_0000000');
    expect(idFromCell('train/ISIC_1.JPG')).toBe('ISIC_1');
    expect(idFromCell('name.with.dots')).toBe('name.with.dots');
  });
});
