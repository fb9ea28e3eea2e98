import { FieldsRepo } from '../../src/main/db/repos/fieldsRepo.ts';
import { ImagesRepo } from '../../src/main/db/repos/imagesRepo.ts';
import { SMALL_BUILT_IN_BACKBONE } from '../../src/main/ml/backbone/catalogue.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { Occluder } from '../../src/main/ml/explain/occlusion.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { explainImage } from '../../src/main/results/explain.ts';
import { round } from './importBench.ts';
import { withPadProject } from './padProject.ts';

const CANCER = ['BCC', 'MEL', 'SCC'];

/**
 * Explanations on PAD-UFES-20 with the small built-in backbone (MobileNetV2-0.35): a run on every patient field (the leakage-warned ones too,
 * so the warning has something to say), its permutation importance (timed inside training: shuffled predictions per
 * fold and 200 patient resamples), and 8x8 occlusion maps (cold: workers started and the model loaded; warm: the
 * next image; cached: the same image again).
 */
export async function explainBench(shared: string): Promise<object> {
  return withPadProject(shared, async (project) => {
    const f = await extractFeatures(project, SMALL_BUILT_IN_BACKBONE);
    const fields = new FieldsRepo(project.db)
      .list()
      .filter((x) => x.type !== 'text' && !/biops/.test(x.name))
      .map((x) => x.name);
    const run = await trainRun(project, { label: 'diagnostic', positive: CANCER, fields, group: 'patient', folds: 5, backbone: f.key, seed: 1 });
    const images = new ImagesRepo(project.db).list();
    const occluder = new Occluder();
    const timeMap = async (imageId: number) => {
      const t = performance.now();
      const e = await explainImage(project, occluder, { runId: run.runId, imageId, mode: 'fused' });
      return { seconds: round((performance.now() - t) / 1000, 3), cached: e.cached, hottest: round(Math.max(...e.occlusion!.cells.flat()), 4) };
    };
    try {
      const cold = await timeMap(images[0]!.id);
      const warm = [];
      for (const im of images.slice(1, 6)) warm.push(await timeMap(im.id));
      const cached = await timeMap(images[1]!.id);
      const imp = run.importance!;
      return {
        backbone: f.backbone,
        runtime: f.runtime?.detail,
        images: run.images,
        fields: fields.length,
        fusedAuc: round(run.modes.fused.auc),
        fusion: run.fusion,
        occlusion8x8: {
          copies: 65,
          batches: 'one per embedding worker',
          coldSeconds: cold.seconds,
          warmSeconds: warm.map((w) => w.seconds),
          warmMedianSeconds: warm.map((w) => w.seconds).sort((a, b) => a - b)[2],
          cachedSeconds: cached.seconds,
        },
        permutationImportance: {
          seconds: round(run.timings.importance ?? NaN, 2),
          resamples: imp.resamples,
          repeats: imp.repeats,
          blocks: imp.rows.length,
          top: imp.rows.slice(0, 6).map((r) => ({ block: r.block, drop: round(r.drop), ci: r.ci.map((x) => round(x)), leakage: r.leakage })),
          warning: imp.warning,
        },
        trainSeconds: round(run.seconds, 1),
      };
    } finally {
      await occluder.close();
    }
  });
}
