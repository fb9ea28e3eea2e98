import { MAX_VALUE_CHARS, type FieldType, type FieldValue } from '../../shared/types.ts';

/** Cells that mean "not recorded" (PAD-UFES-20 writes UNK in its boolean columns; ISIC writes unknown). */
const MISSING_MARKERS = new Set(['', 'unk', 'unknown', 'na', 'n/a', 'nan', 'null', 'none', '?', '-', '#n/a']);

export function isMissing(cell: string): boolean {
  return MISSING_MARKERS.has(cell.trim().toLowerCase());
}

const TRUE_WORDS = new Set(['true', 'yes']);
const FALSE_WORDS = new Set(['false', 'no']);
const NUMBER_RE = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/;

/** Parses a number written with `.` or a single decimal `,` (European exports); null when it is not one. */
export function parseNumber(cell: string): number | null {
  const t = cell.trim();
  if (!NUMBER_RE.test(t)) return null;
  const n = Number(t.replace(',', '.'));
  return Number.isFinite(n) ? n : null;
}

export function parseBoolean(cell: string): boolean | null {
  const t = cell.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return null;
}

/** A string column with more distinct values than this (and than this share of its rows) is free text. */
const MAX_CATEGORIES = 50;
const MAX_CATEGORY_SHARE = 0.05;
/** Integer columns with at most this many distinct values named like a scale are ordinal (Fitzpatrick 1-6). */
const ORDINAL_NAME_RE = /fitz|fitsp|phototype|grade|stage|score/i;
const MAX_ORDINAL_LEVELS = 10;

/** Infers a field's type from its present (non-missing) cells and its column name. */
export function inferType(name: string, cells: readonly string[]): FieldType {
  const present = cells.filter((c) => !isMissing(c));
  if (present.length === 0) return 'text';
  if (present.every((c) => parseBoolean(c) !== null)) return 'boolean';
  const nums = present.map(parseNumber);
  if (nums.every((n) => n !== null)) {
    const distinct = new Set(nums);
    const integers = [...distinct].every((n) => Number.isInteger(n));
    if (ORDINAL_NAME_RE.test(name) && integers && distinct.size <= MAX_ORDINAL_LEVELS) return 'ordinal';
    return 'number';
  }
  const distinct = new Set(present.map((c) => c.trim()));
  return distinct.size <= Math.max(MAX_CATEGORIES, present.length * MAX_CATEGORY_SHARE) ? 'category' : 'text';
}

/** Allowed values of an ordinal or category field as seen in the data, in natural order. */
export function levelsOf(type: FieldType, cells: readonly string[]): string[] | null {
  const present = cells.filter((c) => !isMissing(c));
  if (type === 'ordinal') {
    const nums = [...new Set(present.map(parseNumber).filter((n): n is number => n !== null))].sort((a, b) => a - b);
    return nums.map(String);
  }
  if (type === 'category') return [...new Set(present.map((c) => c.trim()))].sort();
  return null;
}

export type ParsedCell = { ok: true; value: FieldValue } | { ok: false; reason: string };

/** Parses one cell as the field's type; missing markers become null. */
export function parseCell(type: FieldType, cell: string): ParsedCell {
  if (isMissing(cell)) return { ok: true, value: null };
  if (cell.length > MAX_VALUE_CHARS)
    return { ok: false, reason: `the value is ${cell.length.toLocaleString('en')} characters long (at most ${MAX_VALUE_CHARS.toLocaleString('en')})` };
  switch (type) {
    case 'number':
    case 'ordinal': {
      const n = parseNumber(cell);
      return n === null ? { ok: false, reason: `"${cell}" is not a number` } : { ok: true, value: n };
    }
    case 'boolean': {
      const b = parseBoolean(cell);
      return b === null ? { ok: false, reason: `"${cell}" is not a boolean (True/False, yes/no)` } : { ok: true, value: b };
    }
    case 'category':
    case 'text':
      return { ok: true, value: cell.trim() };
    default: {
      const never: never = type;
      throw new Error(`unknown field type ${String(never)}`);
    }
  }
}
