import { describe, expect, it } from 'vitest';
import { proposeRoles } from '../../src/main/images/importRoles.ts';

const schema = { labelSets: [{ name: 'diagnostic', classes: ['BCC', 'MEL', 'NEV'] }], fields: [] };
const rows = (cells: string[][]) => cells.map((c) => ({ cells: c }));

describe('roles proposed for a CSV no preset knows', () => {
  it('finds the id by the photos its values name, the label by the classes its values are, patient and lesion by name', () => {
    const header = ['file', 'patient_id', 'lesion', 'dx', 'notes'];
    const table = rows([
      ['a.jpg', 'P1', 'L1', 'bcc', 'itchy'],
      ['b.JPG', 'P1', 'L2', 'Mel', ''],
      ['c', 'P2', 'L3', 'nev', 'x'],
      ['zz', 'P3', 'L4', 'MEL', 'y'],
    ]);
    expect(proposeRoles(schema, header, table, new Set(['a', 'b', 'c']))).toEqual([
      { column: 'file', role: 'id', by: 'values', reason: '75% of its values name a photo in the folder' },
      { column: 'dx', role: 'label', by: 'values', reason: 'its values are classes of the label set “diagnostic”' },
      { column: 'patient_id', role: 'patient', by: 'name', reason: 'its name' },
      { column: 'lesion', role: 'lesion', by: 'name', reason: 'its name' },
    ]);
  });

  it('names the label set of the column it proposes, not of another column that fits a set less well', () => {
    const two = { labelSets: [...schema.labelSets, { name: 'benign_or_not', classes: ['benign', 'malignant'] }], fields: [] };
    const header = ['dx', 'kind'];
    const table = rows([
      ['bcc', 'benign'],
      ['mel', 'malignant'],
      ['nev', 'x'],
    ]);
    expect(proposeRoles(two, header, table, new Set())).toEqual([
      { column: 'dx', role: 'label', by: 'values', reason: 'its values are classes of the label set “diagnostic”' },
    ]);
  });

  it('proposes nothing from values that are not photo names or classes, and a label column by name only when none fits', () => {
    const header = ['code', 'diagnosis', 'kind'];
    const table = rows([
      ['x1', 'psoriasis', 'a'],
      ['x2', 'eczema', 'b'],
    ]);
    expect(proposeRoles(schema, header, table, new Set(['a1']))).toEqual([{ column: 'diagnosis', role: 'label', by: 'name', reason: 'its name' }]);
  });
});
