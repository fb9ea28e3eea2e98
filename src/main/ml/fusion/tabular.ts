import type { FieldType, FieldValue } from '../../../shared/types.ts';

/** How one field becomes columns. Fitted on training rows only; serialised into exported bundles. */
export type FieldEncoding =
  | { name: string; kind: 'number'; mean: number; std: number; missingColumn: boolean }
  | { name: string; kind: 'boolean'; missingColumn: boolean }
  | { name: string; kind: 'category'; values: string[]; missingColumn: boolean };

export interface TabularEncoder {
  fields: FieldEncoding[];
  width: number;
  columns: string[];
}

export interface FieldInput {
  name: string;
  type: FieldType;
}

/**
 * Fits the encoder on training rows: numbers and ordinals standardised (missing → 0 and a missing indicator),
 * categories one-hot over the values seen in training plus a missing and an 'other' (unseen) column, booleans 0/1
 * with a missing indicator. An indicator is made only when training rows have missing values.
 */
export function fitEncoder(fields: readonly FieldInput[], rows: readonly (readonly FieldValue[])[]): TabularEncoder {
  const encodings: FieldEncoding[] = fields.map((f, j) => {
    const present = rows.map((r) => r[j]!).filter((v) => v !== null && v !== undefined);
    const missingColumn = present.length < rows.length;
    if (f.type === 'number' || f.type === 'ordinal') {
      const xs = present.map(Number);
      const mean = xs.reduce((s, x) => s + x, 0) / Math.max(xs.length, 1);
      const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(xs.length, 1)) || 1;
      return { name: f.name, kind: 'number', mean, std, missingColumn };
    }
    if (f.type === 'boolean') return { name: f.name, kind: 'boolean', missingColumn };
    return { name: f.name, kind: 'category', values: [...new Set(present.map(String))].sort(), missingColumn };
  });
  const columns: string[] = [];
  for (const e of encodings) {
    if (e.kind === 'category') columns.push(...e.values.map((v) => `${e.name}=${v}`), `${e.name}=<other>`);
    else columns.push(e.name);
    if (e.missingColumn) columns.push(`${e.name}:missing`);
  }
  return { fields: encodings, width: columns.length, columns };
}

/** Encodes one row (values in the encoder's field order). Values never seen in training go to the 'other' column. */
export function encodeRow(enc: TabularEncoder, row: readonly FieldValue[], out: Float32Array = new Float32Array(enc.width)): Float32Array {
  let k = 0;
  enc.fields.forEach((e, j) => {
    const v = row[j];
    const missing = v === null || v === undefined;
    if (e.kind === 'number') out[k++] = missing ? 0 : (Number(v) - e.mean) / e.std;
    else if (e.kind === 'boolean') out[k++] = missing ? 0 : v === true || v === 1 ? 1 : 0;
    else {
      for (let c = 0; c <= e.values.length; c++) out[k + c] = 0;
      if (!missing) {
        const at = e.values.indexOf(String(v));
        out[k + (at < 0 ? e.values.length : at)] = 1;
      }
      k += e.values.length + 1;
    }
    if (e.missingColumn) out[k++] = missing ? 1 : 0;
  });
  return out;
}

export function encodeRows(enc: TabularEncoder, rows: readonly (readonly FieldValue[])[]): Float32Array {
  const out = new Float32Array(rows.length * enc.width);
  rows.forEach((r, i) => encodeRow(enc, r, out.subarray(i * enc.width, (i + 1) * enc.width)));
  return out;
}
