import { KEY_SEPARATOR } from '../fusion/dataset.ts';
import { repoOf } from '../../db/open.ts';
import { makeDirs, sha256OfFile } from '../../files/fsChecks.ts';
import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import { FieldsRepo } from '../../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../../db/repos/labelsRepo.ts';
import type { Project } from '../../project.ts';
import { packageVersion } from '../tfjs/backend.ts';
import { backboneDigest, backboneFiles, NOTICE_FILES } from '../backbone/resolve.ts';
import { FeatureStore } from '../../db/repos/featureStore.ts';
import type { Mode } from '../fusion/crossval.ts';
import { runModels, runReport } from '../fusion/runs.ts';
import { backboneFolder, BUNDLE_FORMAT, BUNDLE_VERSION, type BundleBackbone, type Manifest, type PreprocessingFile } from './format.ts';
import { modelCard } from './modelCard.ts';
import { loadRunData } from '../fusion/runData.ts';
import { runSubgroups } from '../fusion/subgroups.ts';
import { ValidationsRepo } from '../../db/repos/validationsRepo.ts';
import { appVersion } from '../../resources.ts';

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
    // One folder per backbone, in the order the run concatenated their features: backbone, backbone-2, ...
    const backbones: BundleBackbone[] = [];
    const keys = mode === 'metadata' ? [] : report.snapshot.backboneKey.split(KEY_SEPARATOR);
    for (const [i, key] of keys.entries()) backbones.push(await copyBackbone(project, runId, key, tmp, backboneFolder(i)));
    const [backbone = null, ...moreBackbones] = backbones;
    const fieldTypes = new Map(
      repoOf(project.db, FieldsRepo)
        .list()
        .map((f) => [f.name, f.type]),
    );
    const fields = result.fieldsUsed.map((name) => ({ name, type: fieldTypes.get(name) ?? 'text' }));
    const pre: PreprocessingFile = {
      mode,
      label: result.label,
      positive: report.config.positive,
      classes: result.classes,
      threshold: models.thresholds[mode],
      backbone,
      ...(moreBackbones.length > 0 && { moreBackbones }),
      fields,
      labelClasses: repoOf(project.db, LabelsRepo).classNamesOf(report.snapshot.labelSetId),
      internal: result.modes,
      models: {
        ...models,
        // Only what the mode needs travels.
        pca: mode === 'metadata' ? null : models.pca,
        fused: mode === 'fused' ? models.fused : null,
      },
    };
    fs.writeFileSync(path.join(tmp, 'preprocessing.json'), JSON.stringify(pre));
    fs.writeFileSync(
      path.join(tmp, 'MODEL_CARD.md'),
      modelCard(result, mode, runSubgroups(project, loadRunData(project, runId)), repoOf(project.db, ValidationsRepo).reportsOf(runId)),
    );
    const files: Manifest['files'] = {};
    const walk = async (dir: string): Promise<void> => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else files[path.relative(tmp, full).split(path.sep).join('/')] = { sha256: await sha256OfFile(full, full), bytes: fs.statSync(full).size };
      }
    };
    await walk(tmp);
    const manifest: Manifest = {
      format: BUNDLE_FORMAT,
      // A bundle that older builds read correctly keeps their version: only several backbones need version 2.
      version: moreBackbones.length > 0 ? BUNDLE_VERSION : 1,
      createdAt: new Date().toISOString(),
      versions: { dermfuse: appVersion(), '@tensorflow/tfjs': packageVersion('@tensorflow/tfjs') },
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

/** Copies the backbone of one feature set of a run into the bundle, checking it is the one the run used. */
async function copyBackbone(project: Project, runId: number, key: string, tmp: string, folder: string): Promise<BundleBackbone> {
  const b = repoOf(project.db, FeatureStore).backbone(key);
  const present = async (spec: NonNullable<typeof b>['spec']): Promise<boolean> => {
    try {
      return (await backboneFiles(spec)).every((f) => fs.existsSync(path.join(spec.dir, f)));
    } catch {
      return false;
    }
  };
  if (!b || !b.spec.dir || !(await present(b.spec))) {
    throw new DermFuseError(
      'FILE_NOT_FOUND',
      `The backbone of run ${runId} (${key}) is not on disk any more (${b?.spec.dir ?? 'unknown folder'}): extract again to restore it.`,
    );
  }
  if (b.spec.digest && (await backboneDigest(b.spec)) !== b.spec.digest) {
    throw new DermFuseError(
      'INVALID_VALUE',
      `The backbone files in ${b.spec.dir} changed since run ${runId} extracted its features; the bundle would not reproduce the run.`,
    );
  }
  const dest = path.join(tmp, folder);
  fs.mkdirSync(dest);
  for (const f of await backboneFiles(b.spec)) fs.copyFileSync(path.join(b.spec.dir, f), path.join(dest, f));
  // The weights' licence and provenance travel with them (BSD-3 and Apache-2.0 ask for the notice with every copy).
  for (const f of NOTICE_FILES) if (fs.existsSync(path.join(b.spec.dir, f))) fs.copyFileSync(path.join(b.spec.dir, f), path.join(dest, f));
  const { dir: _dir, ...spec } = b.spec;
  return { ...spec, folder };
}
