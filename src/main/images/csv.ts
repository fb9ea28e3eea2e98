import { DermFuseError } from '../../shared/errors.ts';
import type { ImportProblem } from '../../shared/types.ts';

export interface CsvRow {
  /** 1-based line in the file where the record starts (the header is line 1). */
  line: number;
  cells: string[];
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

/** Splits CSV text into records per RFC 4180: quoted fields may hold delimiters, quotes ("") and newlines. */
export function splitRecords(text: string, delimiter: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const n = text.length;
  const endRecord = (): void => {
    cells.push(cell);
    // A blank line is no record.
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: recordLine, cells });
    cells = [];
    cell = '';
  };
  while (i < n) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === delimiter) {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else cell += ch;
    i++;
  }
  if (quoted) {
    throw new DermFuseError('CSV_INVALID', `line ${recordLine}: a quoted field is never closed (missing ")`);
  }
  if (cell !== '' || cells.length > 0) endRecord();
  return rows;
}

/**
 * Parses a metadata CSV: strips a BOM, sniffs `,` `;` or tab, trims header names, drops trailing columns that
 * have no header and no values, and reports rows with a wrong number of cells (naming the file and line).
 */
export function parseCsv(text: string, fileName: string): CsvTable {
  const clean = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const delimiter = sniffDelimiter(clean);
  const records = splitRecords(clean, delimiter);
  const headerRow = records.shift();
  if (!headerRow) throw new DermFuseError('CSV_INVALID', `${fileName} is empty: it needs a header row and data rows.`);
  let header = headerRow.cells.map((h) => h.trim());
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
    if (extra.length > 0) {
      problems.push({
        source: `${fileName} line ${r.line}`,
        message: `row has ${r.cells.length} cells but the header has ${width} columns; the extra cells are ignored`,
      });
    } else if (r.cells.length < width) {
      problems.push({
        source: `${fileName} line ${r.line}`,
        message: `row has ${r.cells.length} cells but the header has ${width} columns; the missing ones are read as empty`,
      });
    }
    const cells = r.cells.slice(0, width);
    while (cells.length < width) cells.push('');
    rows.push({ line: r.line, cells });
  }
  return { header, rows, delimiter, problems };
}

/** Quotes a cell for writing CSV when it needs it. */
export function csvCell(value: string): string {
  return /[",\r\n;]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}
