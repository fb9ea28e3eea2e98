import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { ImportFieldMatch, ImportLabelSetChoice, ImportProblem, ImportRoleMatch } from '../../shared/types.ts';
import { chooseLabelSet, matchFields, type ProjectSchema } from './importMatch.ts';
import { proposeRoles } from './importRoles.ts';
import { parseCell } from '../files/values.ts';
import { headProblem, parseCsv, readCsvFile, type CsvRow } from '../files/csv.ts';
import { mapColumns, rowLabel, type ColumnMapping, type MappedField, type MappingOptions } from './presets.ts';
import { idFromCell, scanImages, type ScannedFile } from '../files/imageFiles.ts';
import { isMissing } from '../files/values.ts';

/** One metadata row, keyed by the image id it names. */
export interface MetadataRecord {
  line: number;
  id: string;
  label: string | null;
  patient: string | null;
  lesion: string | null;
  cells: string[];
  /**
   * The row's cell count did not fit the header: its cells may sit under the wrong columns, so only its image is
   * imported; its label, patient, lesion and values are left as they are (the problem table names the row).
   */
  misaligned?: boolean;
}

export interface ImportRequest extends MappingOptions {
  imagesDir: string;
  metadataPath?: string;
}

/** Everything an import will do, worked out before anything is written: the import screen previews it. */
export interface ImportPlan {
  imagesDir: string;
  metadataPath: string | null;
  metadataName: string;
  header: string[];
  mapping: ColumnMapping | null;
  records: Map<string, MetadataRecord>;
  files: ScannedFile[];
  problems: ImportProblem[];
  rowsMatched: number;
  rowsWithoutImage: number;
  imagesWithoutRow: number;
  /** Where the labels go, and why (null: no labels). */
  labelSet: ImportLabelSetChoice | null;
  /** New columns that look like existing fields: proposals the import screen offers. */
  fieldMatches: ImportFieldMatch[];
  /** Roles proposed for the columns of a CSV no preset knows. */
  roleMatches: ImportRoleMatch[];
  /** Cells the run will store as missing, already reported in problems (the run does not report them again). */
  badCells: Set<string>;
  /** Names of the fields the project had before this import. */
  schemaFields: string[];
}

/** The key of a cell in ImportPlan.badCells. */
export const cellKey = (line: number, column: string) => `${line}\u0000${column}`;

/**
 * A preview reads at most this much of the CSV (and says so): every real dataset's metadata fits (ISIC 2020's is
 * 2.6 MB), and a 40 MB file no longer costs its whole size in memory and time before anything is shown.
 */
export const PREVIEW_CSV_BYTES = 8 * 2 ** 20;

/**
 * Reads and maps the CSV, scans the folder and joins the two on the image id (the file stem). A preview reads only
 * the first PREVIEW_CSV_BYTES of the CSV.
 */
export async function planImport(req: ImportRequest, projectDir: string, opts: { preview?: boolean; schema?: ProjectSchema } = {}): Promise<ImportPlan> {
  const schema: ProjectSchema = opts.schema ?? { labelSets: [], fields: [] };
  const problems: ImportProblem[] = [];
  let header: string[] = [];
  let mapping: ColumnMapping | null = null;
  const records = new Map<string, MetadataRecord>();
  const metadataPath = req.metadataPath ? path.resolve(req.metadataPath) : null;
  const metadataName = metadataPath ? path.basename(metadataPath) : '';
  let tableRows: CsvRow[] = [];

  if (metadataPath) {
    const decoded = await readCsvFile(metadataPath, `Metadata file ${metadataPath}`, opts.preview ? PREVIEW_CSV_BYTES : undefined);
    if (decoded.head) problems.push(headProblem(metadataName, decoded.head));
    problems.push(...decoded.problems);
    const table = parseCsv(decoded.text, metadataName, decoded.head !== null);
    tableRows = table.rows;
    problems.push(...table.problems);
    header = table.header;
    try {
      mapping = mapColumns(table, metadataName, req);
    } catch (err) {
      // A preview shows the columns beside why they could not be mapped, so the user can name the right ones.
      if (!opts.preview || !(err instanceof DermFuseError) || (err.code !== 'PRESET_UNRECOGNISED' && err.code !== 'COLUMN_NOT_FOUND')) throw err;
      problems.unshift({ source: metadataName, message: err.message });
    }
  }
  // A column mapped to a field the project has is read as that field's type (the stored type wins), unless overridden.
  if (mapping) {
    for (const f of mapping.fields) {
      const known = schema.fields.find((x) => x.name === f.name);
      if (known && !req.types?.[f.column] && known.type !== f.type) Object.assign(f, { type: known.type, allowedValues: known.allowedValues });
      if (known?.type === 'category' && f.type === 'category') respell(f, known.allowedValues ?? [], columnValues(f.column), problems, metadataName);
    }
  }
  /** The distinct non-empty values of a column, from the rows that fit the header. */
  function columnValues(name: string): string[] {
    const i = header.indexOf(name);
    const seen = new Set<string>();
    for (const r of tableRows) if (!r.misaligned && (r.cells[i] ?? '').trim() !== '') seen.add((r.cells[i] ?? '').trim());
    return [...seen];
  }
  const badCells = new Set<string>();
  if (metadataPath && mapping) {
    const col = (name: string | null): number => (name === null ? -1 : header.indexOf(name));
    const idCol = col(mapping.id);
    const patientCol = col(mapping.patient);
    const lesionCol = col(mapping.lesion);
    const cellOrNull = (cells: string[], i: number): string | null => {
      if (i < 0) return null;
      const v = cells[i] ?? '';
      return isMissing(v) ? null : v.trim();
    };
    for (const row of tableRows) {
      const id = idFromCell(row.cells[idCol] ?? '');
      if (id === '') {
        problems.push({ source: `${metadataName} line ${row.line}`, line: row.line, column: mapping.id, message: `empty image id; row skipped` });
        continue;
      }
      const rec: MetadataRecord = {
        line: row.line,
        id,
        label: rowLabel(mapping, header, row.cells),
        patient: cellOrNull(row.cells, patientCol),
        lesion: cellOrNull(row.cells, lesionCol),
        cells: row.cells,
        ...(row.misaligned ? { misaligned: true } : {}),
      };
      if (row.misaligned)
        problems.push({
          source: `${metadataName} line ${row.line}`,
          line: row.line,
          column: mapping.id,
          value: id,
          message: `the row does not fit the header: its label and values are not imported (fix the row, then import again)`,
        });
      for (const f of row.misaligned ? [] : mapping.fields) {
        const i = header.indexOf(f.column);
        const parsed = parseCell(f.type, row.cells[i] ?? '');
        if (!parsed.ok) {
          badCells.add(cellKey(row.line, f.column));
          problems.push({
            source: `${metadataName} line ${row.line}`,
            line: row.line,
            column: f.column,
            value: (row.cells[i] ?? '').slice(0, 80),
            message: `${parsed.reason}; stored as missing`,
          });
        }
      }
      const first = records.get(id);
      if (!first) records.set(id, rec);
      else if (first.cells.join('\u0000') !== rec.cells.join('\u0000')) {
        problems.push({
          source: `${metadataName} line ${row.line}`,
          message: `image id ${id} appears again (first at line ${first.line}) with different values; line ${first.line} is used`,
        });
      }
    }
  }

  const scanned = await scanImages(req.imagesDir, [projectDir], problems);
  const byStem = new Map<string, ScannedFile>();
  for (const f of scanned) {
    const first = byStem.get(f.stem);
    if (first) problems.push({ source: f.path, message: `same image id "${f.stem}" as ${first.path}; this file is skipped (ids must be unique)` });
    else byStem.set(f.stem, f);
  }
  const files = [...byStem.values()];
  let rowsMatched = 0;
  for (const [id, rec] of records) {
    if (byStem.has(id)) rowsMatched++;
    else
      problems.push({
        source: `${metadataName} line ${rec.line}`,
        line: rec.line,
        column: mapping?.id,
        value: id,
        message: `no image named "${id}" in the image folder; the row is not imported (check the id, or the folder)`,
      });
  }
  let labelSet: ImportLabelSetChoice | null = null;
  if (mapping?.labelSet) {
    // The labels that will be imported: those of rows with an image.
    const values = [...new Set([...records.values()].filter((r) => byStem.has(r.id) && !r.misaligned).map((r) => r.label))]
      .filter((l): l is string => l !== null)
      .sort();
    // No label values at all (photos to label): no set is made for them; the project's sets stay as they are.
    if (values.length > 0 || req.labelSet) {
      labelSet = chooseLabelSet(schema, mapping.label ?? mapping.labelSet, values, req.labelSet);
      mapping.labelSet = labelSet.name;
    } else mapping.labelSet = null;
  }
  const fieldMatches = mapping
    ? matchFields(
        schema,
        mapping.fields.filter((f) => f.name === f.column),
      )
    : [];
  return {
    imagesDir: path.resolve(req.imagesDir),
    metadataPath,
    metadataName,
    header,
    mapping,
    records,
    files,
    problems,
    rowsMatched,
    rowsWithoutImage: records.size - rowsMatched,
    imagesWithoutRow: metadataPath ? files.filter((f) => !records.has(f.stem)).length : 0,
    labelSet,
    fieldMatches,
    roleMatches: metadataPath
      ? proposeRoles(
          schema,
          header,
          tableRows.filter((r) => !r.misaligned),
          new Set(byStem.keys()),
        )
      : [],
    badCells,
    schemaFields: schema.fields.map((f) => f.name),
  };
}

/**
 * A category column read into an existing category field: values the field spells otherwise (female for FEMALE) take
 * its spelling, and values it does not have are named once (they are added as new values: F beside FEMALE would split
 * one category in two for every model and subgroup, so the user must see it).
 */
function respell(f: MappedField, allowed: readonly string[], values: readonly string[], problems: ImportProblem[], file: string): void {
  const byLower = new Map(allowed.map((a) => [a.toLocaleLowerCase(), a]));
  const spelling: Record<string, string> = {};
  const unknown: string[] = [];
  for (const v of values) {
    if (allowed.includes(v)) continue;
    const same = byLower.get(v.toLocaleLowerCase());
    if (same) spelling[v] = same;
    else unknown.push(v);
  }
  if (Object.keys(spelling).length > 0) f.spelling = spelling;
  f.allowedValues = [...new Set(values.map((v) => spelling[v] ?? v))].sort();
  if (unknown.length > 0 && allowed.length > 0)
    problems.push({
      source: file,
      column: f.column,
      value: unknown.slice(0, 10).join(', '),
      message: `column "${f.column}" goes to the field "${f.name}", which has the values ${allowed.slice(0, 10).join(', ')}${allowed.length > 10 ? ', …' : ''}; ${unknown.length === 1 ? 'this value is' : `these ${unknown.length} values are`} not among them and would be added beside them (map the column to a new field if they mean something else)`,
    });
}
