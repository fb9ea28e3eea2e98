import { KEY_SEPARATOR } from '../fusion/dataset.ts';
import { makeDirs } from '../../fsChecks.ts';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import { FieldsRepo } from '../../db/repos/fieldsRepo.ts';
import type { Project } from '../../project.ts';
import { packageVersion } from '../backend.ts';
import { backboneDigest, backboneFiles } from '../resolveBackbone.ts';
import { sha256File } from '../download.ts';
import { FeatureStore } from '../../db/repos/featureStore.ts';
import type { Mode } from '../fusion/crossval.ts';
import { runModels, runReport } from '../fusion/runs.ts';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type Manifest, type PreprocessingFile } from './format.ts';
import { modelCard } from './modelCard.ts';
import { loadRunData } from '../fusion/runData.ts';
import { runSubgroups } from '../fusion/subgroups.ts';

const requireHere = createRequire(import.meta.url);

const DERMFUSE_VERSION = (requireHere('../../../../package.json') as { version: string }).version;

/**
 * Writes a bundle for one mode of a finished run: the backbone (copied), preprocessing.json with every fitted
 * piece, a model card and a manifest with the SHA-256 of every file. Written into a temporary folder and renamed,
 * so a half-written bundle never appears at `out`.
 */
export async function exportBundle(project: Project, runId: number, mode: Mode, out: string): Promise<{ out: string; files: number; bytes: number }> {
  const report = runReport(project, runId);
  if (report.status !== 'done' || !report.result)
    throw new DermFuseError('INVALID_ARGUMENT', `Run ${runId} is ${report.status}; only finished runs can be exported.`);
  const result = report.result;
  const models = runModels(project, runId);
  const target = path.resolve(out);
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0)
    throw new DermFuseError('INVALID_ARGUMENT', `${target} exists and is not empty: choose a new folder for the bundle.`);
  const tmp = `${target}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  makeDirs(tmp, 'bundle folder');
  try {
    let backbone: PreprocessingFile['backbone'] = null;
    if (mode !== 'metadata') {
      if (report.snapshot.backboneKey.includes(KEY_SEPARATOR)) {
        throw new DermFuseError(
          'INVALID_ARGUMENT',
          `Run ${runId} fuses several backbones (${report.snapshot.backboneKey.split(KEY_SEPARATOR).join(', ')}); a bundle carries one backbone: export a run trained on one, or the metadata model.`,
        );
      }
      const b = new FeatureStore(project.db).backbone(report.snapshot.backboneKey);
      const present = (spec: NonNullable<typeof b>['spec']) => {
        try {
          return backboneFiles(spec).every((f) => fs.existsSync(path.join(spec.dir, f)));
        } catch {
          return false;
        }
      };
      if (!b || !b.spec.dir || !present(b.spec)) {
        throw new DermFuseError(
          'FILE_NOT_FOUND',
          `The backbone of run ${runId} (${report.snapshot.backboneKey}) is not on disk any more (${b?.spec.dir ?? 'unknown folder'}): extract again to restore it.`,
        );
      }
      if (b.spec.digest && backboneDigest(b.spec) !== b.spec.digest) {
        throw new DermFuseError(
          'INVALID_VALUE',
          `The backbone files in ${b.spec.dir} changed since run ${runId} extracted its features; the bundle would not reproduce the run.`,
        );
      }
      const dest = path.join(tmp, 'backbone');
      fs.mkdirSync(dest);
      for (const f of backboneFiles(b.spec)) fs.copyFileSync(path.join(b.spec.dir, f), path.join(dest, f));
      const { dir: _dir, ...spec } = b.spec;
      backbone = { ...spec, folder: 'backbone' };
    }
    const fieldTypes = new Map(new FieldsRepo(project.db).list().map((f) => [f.name, f.type]));
    const fields = result.fieldsUsed.map((name) => ({ name, type: fieldTypes.get(name) ?? 'text' }));
    const pre: PreprocessingFile = {
      mode,
      label: result.label,
      positive: report.config.positive,
      classes: result.classes,
      threshold: models.thresholds[mode],
      backbone,
      fields,
      models: {
        ...models,
        // Only what the mode needs travels.
        pca: mode === 'metadata' ? null : models.pca,
        fused: mode === 'fused' ? models.fused : null,
      },
    };
    fs.writeFileSync(path.join(tmp, 'preprocessing.json'), JSON.stringify(pre));
    fs.writeFileSync(path.join(tmp, 'MODEL_CARD.md'), modelCard(result, mode, runSubgroups(project, loadRunData(project, runId))));
    const files: Manifest['files'] = {};
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else files[path.relative(tmp, full).split(path.sep).join('/')] = { sha256: sha256File(full), bytes: fs.statSync(full).size };
      }
    };
    walk(tmp);
    const manifest: Manifest = {
      format: BUNDLE_FORMAT,
      version: BUNDLE_VERSION,
      createdAt: new Date().toISOString(),
      versions: { dermfuse: DERMFUSE_VERSION, '@tensorflow/tfjs': packageVersion('@tensorflow/tfjs') },
      runId,
      mode,
      files,
    };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
    return { out: target, files: Object.keys(files).length + 1, bytes: Object.values(files).reduce((s, f) => s + f.bytes, 0) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
