import type { FieldType, FieldValue } from '../../../shared/types.ts';

/** How one field becomes columns. Fitted on training rows only; serialised into exported bundles. */
export type FieldEncoding =
  | { name: string; kind: 'number'; mean: number; std: number; missingColumn: boolean; reference?: number | null }
  | { name: string; kind: 'boolean'; missingColumn: boolean; reference?: boolean | null }
  | { name: string; kind: 'category'; values: string[]; missingColumn: boolean; reference?: string | null };

export interface TabularEncoder {
  fields: FieldEncoding[];
  width: number;
  columns: string[];
  /**
   * The mean encoded training row (a number's standardised mean, each category's and each missing indicator's share):
   * the average patient, that contributions replace a field with. Encoders fitted before it was kept: absent.
   */
  referenceColumns?: number[];
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
      return { name: f.name, kind: 'number', mean, std, missingColumn, reference: xs.length ? mean : null };
    }
    if (f.type === 'boolean') {
      const yes = present.filter((v) => v === true || v === 1).length;
      return { name: f.name, kind: 'boolean', missingColumn, reference: present.length ? yes * 2 > present.length : null };
    }
    return { name: f.name, kind: 'category', values: [...new Set(present.map(String))].sort(), missingColumn, reference: mostFrequent(present.map(String)) };
  });
  const columns: string[] = [];
  for (const e of encodings) {
    if (e.kind === 'category') columns.push(...e.values.map((v) => `${e.name}=${v}`), `${e.name}=<other>`);
    else columns.push(e.name);
    if (e.missingColumn) columns.push(`${e.name}:missing`);
  }
  const enc: TabularEncoder = { fields: encodings, width: columns.length, columns };
  const sums = new Float64Array(enc.width);
  const one = new Float32Array(enc.width);
  for (const r of rows) encodeRow(enc, r, one).forEach((v, k) => (sums[k]! += v));
  return { ...enc, referenceColumns: Array.from(sums, (v) => v / Math.max(rows.length, 1)) };
}

/** The most frequent value (ties: the first in sort order); null when there is none. */
function mostFrequent(values: string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  for (const [v, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (best === null || c > counts.get(best)!) best = v;
  return best;
}

/**
 * The training reference of each field (the mean of a number, the most frequent category or boolean), in the
 * encoder's field order. Encoders fitted before references were kept give a number its mean and anything else
 * "missing" (null).
 */
export function referenceRow(enc: TabularEncoder): FieldValue[] {
  return enc.fields.map((e) => (e.kind === 'number' ? (e.reference === undefined ? e.mean : e.reference) : (e.reference ?? null)));
}

/** The encoded reference row: the mean training row where the encoder kept it, else the encoded referenceRow. */
export function referenceColumns(enc: TabularEncoder): Float64Array {
  return enc.referenceColumns ? Float64Array.from(enc.referenceColumns) : Float64Array.from(encodeRow(enc, referenceRow(enc)));
}

/**
 * How the reference of field j reads: a number's training mean; for a category or boolean the training shares of its
 * most common values ("FACE 40%, BACK 35%, ARM 25%"), which the average patient mixes.
 */
export function referenceLabel(enc: TabularEncoder, j: number): FieldValue {
  const e = enc.fields[j]!;
  if (e.kind === 'number' || !enc.referenceColumns) return referenceRow(enc)[j] ?? null;
  const [start] = fieldColumns(enc)[j]!;
  const names = e.kind === 'category' ? e.values : ['true'];
  const shares = names.map((name, k) => ({ name, share: enc.referenceColumns![start + k]! })).sort((a, b) => b.share - a.share);
  return shares
    .slice(0, 3)
    .map((x) => `${x.name} ${Math.round(100 * x.share)}%`)
    .join(', ');
}

/** The columns [start, end) each field occupies in an encoded row, in the encoder's field order. */
export function fieldColumns(enc: TabularEncoder): [number, number][] {
  let k = 0;
  return enc.fields.map((e) => {
    const start = k;
    k += (e.kind === 'category' ? e.values.length + 1 : 1) + (e.missingColumn ? 1 : 0);
    return [start, k];
  });
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
