import { describe, expect, it } from 'vitest';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { groupedStratifiedFolds } from '../../src/main/ml/stats/splits.ts';
import { mergeDuplicateGroups } from '../../src/main/ml/stats/duplicateGroups.ts';
import { centredUnitRows, connectedGroups, isNearDuplicate, scanPairs, THRESHOLDS } from '../../src/main/quality/pairs.ts';
import { contrastOf, hashDistance, hashesOfGrey } from '../../src/main/quality/phash.ts';

const S = 32;
function randomGrey(seed: number): Uint8Array {
  const rand = rngFrom(seed);
  // Smooth blobs, like a photo at 32 x 32 (white noise would make every hash a coin toss).
  const blobs = Array.from({ length: 6 }, () => ({ x: rand() * S, y: rand() * S, r: 3 + rand() * 10, v: rand() * 200 }));
  return Uint8Array.from({ length: S * S }, (_, i) => {
    const x = i % S;
    const y = Math.floor(i / S);
    return Math.min(255, 30 + blobs.reduce((s, b) => s + b.v * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r)), 0));
  });
}
const transform = (g: Uint8Array, f: (x: number, y: number) => [number, number]) =>
  Uint8Array.from({ length: S * S }, (_, i) => {
    const [sx, sy] = f(i % S, Math.floor(i / S));
    return g[sy * S + sx]!;
  });

describe('perceptual hashes', () => {
  it('match an image to its flips and quarter turns exactly, and tell different images apart', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const g = randomGrey(seed);
      const base = hashesOfGrey(g);
      const variants = [
        transform(g, (x, y) => [S - 1 - x, y]),
        transform(g, (x, y) => [x, S - 1 - y]),
        transform(g, (x, y) => [y, x]),
        transform(g, (x, y) => [y, S - 1 - x]),
        transform(g, (x, y) => [S - 1 - x, S - 1 - y]),
      ];
      for (const v of variants) expect(hashDistance(hashesOfGrey(v), 0, base, 0)).toBe(0);
      // Brighter and less contrasted (no clipping): the same bits, bar rounding.
      expect(hashDistance(hashesOfGrey(g.map((x) => Math.round(x * 0.9 + 12))), 0, base, 0)).toBeLessThanOrEqual(2);
      expect(hashDistance(hashesOfGrey(randomGrey(seed + 100)), 0, base, 0)).toBeGreaterThan(THRESHOLDS.hashOnlyBits);
    }
  });

  it('measure a blank frame’s contrast as none', () => {
    expect(contrastOf(new Uint8Array(S * S).fill(200))).toBe(0);
    expect(contrastOf(randomGrey(3))).toBeGreaterThan(10);
  });
});

describe('near-duplicate pairs', () => {
  it('pairs images by the rule and groups them transitively', async () => {
    const grey = [randomGrey(1), transform(randomGrey(1), (x, y) => [S - 1 - x, y]), randomGrey(2), randomGrey(3), randomGrey(3)];
    const hashes = new Uint32Array(grey.length * 16);
    grey.forEach((g, i) => hashes.set(hashesOfGrey(g), i * 16));
    const scan = await scanPairs(grey.length, hashes, null);
    expect(scan.pairs.map((p) => [p.a, p.b])).toEqual([
      [0, 1],
      [3, 4],
    ]);
    expect(scan.typicality).toBeNull();
    expect(
      connectedGroups(6, [
        { a: 0, b: 1 },
        { a: 4, b: 1 },
        { a: 2, b: 5 },
      ]),
    ).toEqual([
      [0, 1, 4],
      [2, 5],
    ]);
    // A large cosine makes up for a few hash bits; a far hash needs a cosine it cannot have.
    expect(isNearDuplicate(10, 0.8)).toBe(true);
    expect(isNearDuplicate(10, 0.5)).toBe(false);
    expect(isNearDuplicate(30, 0.99)).toBe(false);
  });

  it('finds with its subspace bound exactly the pairs a brute-force pass over full cosines finds', async () => {
    const rand = rngFrom(9);
    const n = 300;
    const d = 200;
    // Clustered rows (so some pairs come close) and hashes drawn near each cluster's: every branch of the rule is hit.
    const centres = Array.from({ length: 40 }, () => Float32Array.from({ length: d }, () => rand() * 2 - 1));
    const x = new Float32Array(n * d);
    const hashes = new Uint32Array(n * 16);
    const base = centres.map((_, c) => hashesOfGrey(randomGrey(c + 1)));
    for (let i = 0; i < n; i++) {
      const c = i % centres.length;
      const noise = 0.2 + rand() * 1.5;
      for (let j = 0; j < d; j++) x[i * d + j] = centres[c]![j]! + noise * (rand() * 2 - 1);
      for (let w = 0; w < 16; w++) hashes[i * 16 + w] = base[c]![w]! ^ (rand() < 0.3 ? 1 << Math.floor(rand() * 31) : 0);
    }
    const unit = centredUnitRows(x, d);
    const scan = await scanPairs(n, hashes, { unit, d, present: new Uint8Array(n).fill(1) });
    const brute: string[] = [];
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        let c = 0;
        for (let j = 0; j < d; j++) c += unit[a * d + j]! * unit[b * d + j]!;
        if (isNearDuplicate(hashDistance(hashes, a, hashes, b), c)) brute.push(`${a}:${b}`);
      }
    }
    expect(brute.length).toBeGreaterThan(50);
    expect(brute.length).toBeLessThan((n * (n - 1)) / 4);
    expect(scan.pairs.map((p) => `${p.a}:${p.b}`)).toEqual(brute);
  });

  it('stops when cancelled', async () => {
    const c = new AbortController();
    c.abort();
    await expect(scanPairs(3, new Uint32Array(48), null, { signal: c.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('merging near-duplicates into one group for the folds', () => {
  it('never lets folds split a near-duplicate pair, and counts the pairs unmerged folds split (300 random datasets)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = rngFrom(seed);
      const n = 20 + Math.floor(rand() * 60);
      const ids = Array.from({ length: n }, (_, i) => 100 + i);
      const groups = ids.map(() => `P${Math.floor(rand() * n * 0.6)}`);
      const shas = ids.map((id) => `sha${id}`);
      const labels = Int32Array.from(ids, () => (rand() < 0.4 ? 1 : 0));
      const edges = Array.from({ length: Math.floor(rand() * 12) }, () => ({ a: ids[Math.floor(rand() * n)]!, b: ids[Math.floor(rand() * n)]! })).filter(
        (e) => e.a !== e.b,
      );
      const k = 3;
      if (new Set(groups).size < k + 4) continue;
      const { groups: merged, merges } = mergeDuplicateGroups(ids, groups, shas, labels, edges, { k, seed }, 'unreviewed');
      const fold = groupedStratifiedFolds(
        ids.map((_, i) => ({ group: merged[i]!, sha256: shas[i]!, label: labels[i]! })),
        k,
        seed,
      );
      const row = (id: number) => id - 100;
      for (const e of edges) expect(fold[row(e.a)]).toBe(fold[row(e.b)]);
      const before = groupedStratifiedFolds(
        ids.map((_, i) => ({ group: groups[i]!, sha256: shas[i]!, label: labels[i]! })),
        k,
        seed,
      );
      expect(merges.crossedFolds).toBe(edges.filter((e) => before[row(e.a)] !== before[row(e.b)]).length);
      expect(merges.merges).toBe(edges.filter((e) => groups[row(e.a)] !== groups[row(e.b)]).length);
    }
  });
});
