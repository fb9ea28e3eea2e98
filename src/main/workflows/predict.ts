import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue, PresetName } from '../../shared/types.ts';
import { csvCell, parseCsv, readCsvFile } from '../files/csv.ts';
import { mapColumns } from '../images/presets.ts';
import { idFromCell, scanImages } from '../files/imageFiles.ts';
import { writeOutputFile } from '../files/write.ts';
import { isInside, realPath } from '../files/fsChecks.ts';
import { parseCell } from '../files/values.ts';
import type { BackendName } from '../ml/tfjs/backend.ts';
import type { RuntimeInfo, RuntimeName } from '../../shared/jobs.ts';
import { loadBundle } from '../ml/bundle/loadBundle.ts';
import { scoreImages, type ScoredRow } from '../ml/bundle/score.ts';
import type { ProgressFn } from '../jobs/progress.ts';
import { explainScored, type BundleExplanation } from './explainBundle.ts';

export interface PredictOptions {
  metadataPath?: string;
  idColumn?: string;
  preset?: PresetName;
  backend?: BackendName;
  runtime?: RuntimeName;
  signal?: AbortSignal;
  /** Also explain each prediction: heatmap PNGs into this folder, contributions as contrib_* columns. */
  explainDir?: string;
  onProgress?: ProgressFn;
}

export interface PredictionRow extends ScoredRow {
  /** With --explain: why (contrib_* in log-odds of the predicted class, the heatmap's file). */
  explanation?: BundleExplanation;
}

export interface PredictSummary {
  mode: string;
  classes: string[];
  images: number;
  predicted: Record<string, number>;
  failed: number;
  warnings: string[];
  /** Where the image features were computed (null for a metadata-only model). */
  runtime: RuntimeInfo | null;
  rows: PredictionRow[];
}

/** Metadata of each image from the CSV, in the bundle's field order; what is absent is missing, never invented. */
async function readMetadata(bundleFields: { name: string; type: string }[], opts: PredictOptions, ids: string[], warnings: string[]): Promise<FieldValue[][]> {
  const empty = () => bundleFields.map(() => null as FieldValue);
  if (bundleFields.length === 0) return ids.map(empty);
  if (!opts.metadataPath) {
    warnings.push(`no --metadata: the model uses ${bundleFields.map((f) => f.name).join(', ')}, all treated as missing`);
    return ids.map(empty);
  }
  const name = path.basename(opts.metadataPath);
  const table = parseCsv((await readCsvFile(opts.metadataPath, `--metadata ${opts.metadataPath}`)).text, name);
  const mapping = mapColumns(table, name, { preset: opts.preset ?? 'auto', idColumn: opts.idColumn });
  const idCol = table.header.indexOf(mapping.id);
  const cols = bundleFields.map((f) => table.header.indexOf(f.name));
  bundleFields.forEach((f, j) => cols[j]! < 0 && warnings.push(`${name} has no column "${f.name}" that the model uses: treated as missing for every image`));
  const byId = new Map(table.rows.map((r) => [idFromCell(r.cells[idCol] ?? ''), r]));
  let withoutRow = 0;
  const out = ids.map((id) => {
    const row = byId.get(id);
    if (!row) {
      withoutRow++;
      return empty();
    }
    return bundleFields.map((f, j) => {
      if (cols[j]! < 0) return null;
      const p = parseCell(f.type as 'number', row.cells[cols[j]!] ?? '');
      if (!p.ok) warnings.push(`${name} line ${row.line}: column "${f.name}": ${p.reason}; treated as missing`);
      return p.ok ? p.value : null;
    });
  });
  if (withoutRow > 0) warnings.push(`${withoutRow} image(s) have no row in ${name}: their metadata is missing`);
  return out;
}

/**
 * Refuses an --explain folder that is, lies inside or holds the --images folder (real paths, so links do not hide
 * it): heatmaps written there would sit among, or over, the photos being scored.
 */
function checkExplainDir(explainDir: string, imagesDir: string): void {
  const ex = realPath(explainDir);
  const im = realPath(imagesDir);
  const how = ex === im ? 'is' : isInside(ex, im) ? 'is inside' : isInside(im, ex) ? 'contains' : null;
  if (how)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `--explain ${path.resolve(explainDir)} ${how} the --images folder ${path.resolve(imagesDir)}: heatmaps are never written among the photos; choose a folder outside it.`,
    );
}

/** Predicts every image of a folder with a bundle, exactly as the workbench's final model would. */
export async function predictWithBundle(bundleDir: string, imagesDir: string, opts: PredictOptions = {}): Promise<PredictSummary> {
  if (opts.explainDir) checkExplainDir(opts.explainDir, imagesDir);
  const bundle = await loadBundle(bundleDir);
  const files = await scanImages(imagesDir);
  if (files.length === 0) throw new DermFuseError('NOT_FOUND', `No images in ${imagesDir}.`);
  const warnings: string[] = [];
  const ids = files.map((f) => f.stem);
  const meta = await readMetadata(bundle.pre.mode === 'image' ? [] : bundle.pre.fields, opts, ids, warnings);
  const {
    rows: scoredRows,
    runtime,
    vectors,
    dim,
  } = await scoreImages(
    bundle,
    files.map((f) => ({ id: f.stem, path: f.path })),
    meta,
    opts,
  );
  const rows: PredictionRow[] = scoredRows;
  if (opts.explainDir) {
    const scored = files.map((f, i) => ({ f, i })).filter(({ i }) => rows[i]!.error === null);
    const why = await explainScored(
      bundle,
      scored.map(({ f, i }) => ({ row: i, id: f.stem, path: f.path, vector: dim ? vectors.subarray(i * dim, (i + 1) * dim) : null, meta: meta[i]! })),
      opts.explainDir,
      opts,
    );
    rows.forEach((r, i) => (r.explanation = why.get(i)));
  }
  const predicted: Record<string, number> = {};
  for (const r of rows) if (r.predicted) predicted[r.predicted] = (predicted[r.predicted] ?? 0) + 1;
  return {
    mode: bundle.pre.mode,
    classes: bundle.pre.classes,
    images: files.length,
    predicted,
    failed: rows.filter((r) => r.error).length,
    warnings,
    runtime,
    rows,
  };
}

/**
 * image_id, predicted, one probability column per class, the model's fields missing for that image, any error; with
 * --explain also one contrib_* column per field and the image (log-odds of the predicted class) and the heatmap file.
 */
export async function writePredictionsCsv(s: PredictSummary, out: string): Promise<void> {
  const explained = s.rows.find((r) => r.explanation)?.explanation;
  const contribs = explained ? Object.keys(explained.contributions) : [];
  const why = explained ? [...contribs, 'explain_method', 'heatmap'] : [];
  const header = ['image_id', 'predicted', ...s.classes.map((c) => `p_${c}`), 'missing_fields', 'error', ...why];
  const lines = [header.map(csvCell).join(',')];
  for (const r of s.rows) {
    const e = r.explanation;
    lines.push(
      [
        r.imageId,
        r.predicted ?? '',
        ...s.classes.map((c) => (r.probabilities[c] === undefined ? '' : String(r.probabilities[c]))),
        r.missingFields.join(';'),
        r.error ?? '',
        ...(explained ? [...contribs.map((k) => (e ? String(e.contributions[k]) : '')), e?.method ?? '', e?.heatmap ?? ''] : []),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  await writeOutputFile(out, Buffer.from(lines.join('\n') + '\n'));
}
