import { DermFuseError } from '../../shared/errors.ts';
import type { ImportProblem } from '../../shared/types.ts';
import path from 'node:path';
import { formatBytes, readRegularFile, readRegularHead } from './fsChecks.ts';

export interface CsvRow {
  /** 1-based line in the file where the record starts (the header is line 1). */
  line: number;
  cells: string[];
  /** The record had fewer or more cells than the header: its cells may not sit under their columns. */
  misaligned?: boolean;
}

export interface CsvTable {
  header: string[];
  rows: CsvRow[];
  delimiter: string;
  problems: ImportProblem[];
}

const DELIMITERS = [',', ';', '\t'] as const;

/** Picks the delimiter that splits the header line (outside quotes) into the most columns. */
export function sniffDelimiter(text: string): string {
  let best: string = ',';
  let bestCount = -1;
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  for (const d of DELIMITERS) {
    let count = 0;
    let quoted = false;
    for (const ch of firstLine) {
      if (ch === '"') quoted = !quoted;
      else if (ch === d && !quoted) count++;
    }
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

const QUOTE = 0x22;

/** How many line feeds `text` holds between `from` and `to`. */
function lineFeeds(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Splits CSV text into records per RFC 4180: quoted fields may hold delimiters, quotes ("") and newlines. A quote
 * opens a quoted field only at the start of a cell; elsewhere it is an ordinary character. Cells are cut whole
 * (a sticky regex or indexOf, never a character at a time), so a large file parses in a fraction of the time.
 * `partial`: the text is the head of a longer file, so a last record cut short (unterminated, or inside quotes) is
 * dropped rather than read or refused.
 */
export function splitRecords(text: string, delimiter: string, partial = false): CsvRow[] {
  const rows: CsvRow[] = [];
  const n = text.length;
  // An unquoted cell runs to the next delimiter or line break (the delimiter as a \u escape: safe in a class).
  const plain = new RegExp(`[^\\u${delimiter.charCodeAt(0).toString(16).padStart(4, '0')}\\r\\n]*`, 'y');
  let cells: string[] = [];
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endRecord = (): void => {
    // A blank line is no record.
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: recordLine, cells });
    cells = [];
  };
  while (i < n) {
    // Here a cell starts.
    let cell: string;
    if (text.charCodeAt(i) === QUOTE) {
      // Pieces between doubled quotes ("" reads as "), joined once at the closing quote.
      const pieces: string[] = [];
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) {
          if (partial) return rows;
          throw new DermFuseError('CSV_INVALID', `line ${recordLine}: a quoted field is never closed (missing ")`);
        }
        line += lineFeeds(text, from, q);
        if (text.charCodeAt(q + 1) === QUOTE) {
          pieces.push(text.slice(from, q + 1));
          from = q + 2;
          continue;
        }
        pieces.push(text.slice(from, q));
        i = q + 1;
        break;
      }
      cell = pieces.length === 1 ? pieces[0]! : pieces.join('');
      const next = text[i];
      // `"MEL"x` is not a field: guessing MELx would change the data silently.
      if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r') {
        throw new DermFuseError(
          'CSV_INVALID',
          `line ${line}, column ${cells.length + 1}: characters follow the closing quote of a quoted field; quote the whole field or remove the quotes`,
        );
      }
    } else {
      plain.lastIndex = i;
      plain.test(text);
      cell = text.slice(i, plain.lastIndex);
      i = plain.lastIndex;
    }
    cells.push(cell);
    if (i >= n) break;
    if (text[i] === delimiter) {
      i++;
      // A delimiter at the very end leaves one more, empty, cell.
      if (i === n) cells.push('');
      continue;
    }
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    endRecord();
    line++;
    recordLine = line;
  }
  if (cells.length > 0 && !partial) endRecord();
  return rows;
}

/**
 * Parses a metadata CSV: strips a BOM, sniffs `,` `;` or tab, trims header names, drops trailing columns that
 * have no header and no values, and reports rows with a wrong number of cells (naming the file and line).
 */
export function parseCsv(text: string, fileName: string, partial = false): CsvTable {
  const clean = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const delimiter = sniffDelimiter(clean);
  const records = splitRecords(clean, delimiter, partial);
  const headerRow = records.shift();
  if (!headerRow) throw new DermFuseError('CSV_INVALID', `${fileName} is empty: it needs a header row and data rows.`);
  let header = headerRow.cells.map((h) => restoreFormula(h).trim());
  const problems: ImportProblem[] = [];

  // Trailing unnamed columns (a trailing delimiter, or spreadsheet leftovers) are dropped when they hold nothing.
  let width = header.length;
  while (width > 0 && header[width - 1] === '' && records.every((r) => (r.cells[width - 1] ?? '').trim() === '')) width--;
  header = header.slice(0, width);
  const seen = new Map<string, number>();
  header = header.map((h, i) => {
    const name = h === '' ? `column_${i + 1}` : h;
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    if (count > 0) {
      problems.push({ source: `${fileName} line 1`, message: `column "${name}" appears twice; the second is read as "${name}_${count + 1}"` });
      return `${name}_${count + 1}`;
    }
    return name;
  });

  const rows: CsvRow[] = [];
  for (const r of records) {
    const extra = r.cells.slice(width).filter((c) => c.trim() !== '');
    const short = extra.length === 0 && r.cells.length < width;
    if (extra.length > 0) {
      problems.push({
        source: `${fileName} line ${r.line}`,
        line: r.line,
        message: `row has ${r.cells.length} cells but the header has ${width} columns; the extra cells are ignored (check for an unquoted comma)`,
      });
    } else if (short) {
      problems.push({
        source: `${fileName} line ${r.line}`,
        line: r.line,
        message: `row has ${r.cells.length} cells but the header has ${width} columns; the missing ones are read as empty and its values may sit under the wrong columns (check the row)`,
      });
    }
    const cells = r.cells.slice(0, width).map(restoreFormula);
    while (cells.length < width) cells.push('');
    rows.push({ line: r.line, cells, ...(extra.length > 0 || short ? { misaligned: true } : {}) });
  }
  return { header, rows, delimiter, problems };
}

/**
 * Decodes a CSV file's bytes: UTF-8 (with or without BOM), UTF-16 by its BOM, and Windows-1252 (what Excel writes
 * on Windows) when the bytes are not valid UTF-8, saying so. A file with NUL bytes and no BOM is refused.
 */
export function decodeCsvBytes(bytes: Uint8Array, fileName: string): { text: string; problems: ImportProblem[] } {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), problems: [] };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), problems: [] };
  if (bytes.subarray(0, 1 << 16).includes(0)) {
    throw new DermFuseError(
      'CSV_INVALID',
      `${fileName} is not a text CSV file: it holds NUL bytes (a binary file, or UTF-16 without a byte-order mark). Save it as "CSV UTF-8".`,
    );
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes), problems: [] };
  } catch {
    return {
      text: new TextDecoder('windows-1252').decode(bytes),
      problems: [{ source: fileName, message: 'not valid UTF-8: read as Windows-1252 (check accented letters; save as "CSV UTF-8" to be sure)' }],
    };
  }
}

/**
 * Spreadsheets run a cell that starts with = + - @ (or a tab or CR before one) as a formula: `=HYPERLINK(...)` in a
 * metadata value would run when the export is opened. Such cells are written with a leading apostrophe (shown as
 * text, not run); plain numbers such as -3.5 are left alone. A cell that already starts with apostrophes before one
 * of those characters gets one more, so reading strips exactly one and every value round-trips.
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** Undoes `neutraliseFormula` when a CSV is read back. */
export function restoreFormula(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell) && !PLAIN_NUMBER.test(cell.slice(1)) ? cell.slice(1) : cell;
}

/** A cell for writing CSV: formula-neutralised, quoted when it needs it. */
export function csvCell(raw: string): string {
  const value = neutraliseFormula(raw);
  return /[",\r\n;]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The most of a CSV read at all: V8 holds no longer string (2^29 characters). */
const MAX_CSV_BYTES = 512 * 2 ** 20;

export interface CsvText {
  text: string;
  problems: ImportProblem[];
  /** When only the head was read: its size and the file's (the text then ends at a line break; parse it as partial). */
  head: { read: number; size: number } | null;
}

/** A UTF-8 or Windows-1252 head cut after its last line feed (never inside a character); UTF-16 to whole code units. */
function wholeLines(bytes: Buffer): Buffer {
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (utf16) return bytes.subarray(0, bytes.length - (bytes.length % 2));
  return bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1);
}

/**
 * Reads and decodes a metadata CSV without blocking: a regular file (a FIFO or a device is refused by name, never
 * waited on), at most MAX_CSV_BYTES. With `headBytes`, only that much of a larger file (a preview), cut at a line
 * break; `head` then says how much of how much was read.
 */
export async function readCsvFile(file: string, what: string, headBytes?: number): Promise<CsvText> {
  const name = path.basename(file);
  if (headBytes === undefined) return { ...decodeCsvBytes(await readRegularFile(file, what, MAX_CSV_BYTES), name), head: null };
  const { bytes, size } = await readRegularHead(file, what, headBytes);
  if (bytes.length === size) return { ...decodeCsvBytes(bytes, name), head: null };
  const lines = wholeLines(bytes);
  if (lines.length === 0) throw new DermFuseError('CSV_INVALID', `${name} has no line break in its first ${formatBytes(bytes.length)}: it is not a CSV file.`);
  return { ...decodeCsvBytes(lines, name), head: { read: lines.length, size } };
}

/** The problem a preview shows when it read only the head of the CSV. */
export function headProblem(name: string, head: { read: number; size: number }): ImportProblem {
  return {
    source: name,
    message: `preview read the first ${formatBytes(head.read)} of ${formatBytes(head.size)}: its counts cover those rows only; the import reads the whole file`,
  };
}
