// Near-duplicate scan: what it finds on the 686 PAD photos, and how its parts scale to 10,000 images.
import { FeatureStore } from '../../src/main/db/repos/featureStore.ts';
import { centredUnitRows, scanPairs } from '../../src/main/quality/pairs.ts';
import { hashesFromBlob } from '../../src/main/quality/phash.ts';
import { duplicateReport } from '../../src/main/quality/report.ts';
import { scanQuality } from '../../src/main/quality/scan.ts';
import { withPadProject } from './padProject.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';

const LARGE = 10_000;

export async function duplicatesBench(shared: string): Promise<object> {
  return withPadProject(shared, async (project) => {
    const s = await scanQuality(project);
    const groups = duplicateReport(project).groups.map((g) => ({
      images: g.members.map((m) => `${m.externalId} (patient ${m.patient}, lesion ${m.lesion}, ${m.label})`),
      spansPatients: g.spansPatients,
      spansLesions: g.spansLesions,
      labelsDisagree: g.labelsDisagree,
    }));
    const pad686 = {
      images: s.images,
      pairs: s.pairs,
      groups: s.groups,
      crossPatientGroups: s.crossPatientGroups,
      crossLesionGroups: s.crossLesionGroups,
      labelConflictGroups: s.labelConflictGroups,
      seconds: { total: r1(s.seconds), features: r1(s.extractSeconds), hashes: r1(s.hashSeconds), pairs: r2(s.pairSeconds) },
      hashesPerSecond: Math.round(s.hashed / s.hashSeconds),
      groupList: groups,
    };

    // 10,000 images: the PAD features and hashes tiled with noise, through the same all-pairs pass.
    const vectors = new FeatureStore(project.db).imageVectors(s.featureKey!);
    const hashes = project.db.prepare('SELECT phash FROM image_hashes ORDER BY image_id').pluck().all() as Buffer[];
    const d = vectors[0]!.vector.length;
    const rand = rngFrom(1);
    const flat = new Float32Array(LARGE * d);
    const h = new Uint32Array(LARGE * 16);
    for (let i = 0; i < LARGE; i++) {
      const v = vectors[i % vectors.length]!.vector;
      for (let j = 0; j < d; j++) flat[i * d + j] = v[j]! * (0.7 + 0.6 * rand());
      const src = hashesFromBlob(hashes[i % hashes.length]!);
      for (let k = 0; k < 16; k++) h[i * 16 + k] = src[k]! ^ (rand() < 0.5 ? 1 << Math.floor(rand() * 31) : 0);
    }
    const t0 = performance.now();
    const unit = centredUnitRows(flat, d);
    const scan = await scanPairs(LARGE, h, { unit, d, present: new Uint8Array(LARGE).fill(1) });
    const pairSeconds = (performance.now() - t0) / 1000;
    return {
      pad686,
      tenThousand: {
        pairPassSeconds: r1(pairSeconds),
        comparisons: (LARGE * (LARGE - 1)) / 2,
        pairsFound: scan.pairs.length,
        // A first scan of 10,000 new images also embeds and hashes each once (rates measured above and by `extract`).
        hashSecondsAtPadRate: r1(LARGE / pad686.hashesPerSecond),
      },
    };
  });
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
