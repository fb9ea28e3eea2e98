import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { initBackend } from '../../src/main/ml/tfjs/backend.ts';
import { openExternal, readExternal } from '../../src/main/validation/externalSet.ts';
import { imageShift } from '../../src/main/validation/shift.ts';
import type { ValidationSource } from '../../src/shared/validation.ts';
import { tempDir } from '../fixtures/generate.ts';
import { labelledSet } from '../fixtures/validationSets.ts';

const tmp = tempDir();
const images = path.join(tmp.dir, 'images');
const csv = path.join(tmp.dir, 'set.csv');
const scratch = path.join(tmp.dir, 'validation-sets');
const source: ValidationSource = { kind: 'folder', imagesDir: images, metadataPath: csv, idColumn: 'image_id', labelColumn: 'dx', patientColumn: 'patient_id' };

/** The stored copy of the folder as a validation reads it: id → label and age. */
async function read(): Promise<{ rows: Map<string, { label: string; age: unknown }>; problems: number }> {
  const opened = await openExternal(source, scratch);
  try {
    const ext = readExternal(opened.project, opened.description, 'dx');
    const age = ext.fields.findIndex((f) => f.name === 'age');
    return { rows: new Map(ext.images.map((img, i) => [img.external_id, { label: img.label, age: ext.meta[i]![age] }])), problems: opened.problems.length };
  } finally {
    opened.project.close();
  }
}

beforeAll(async () => {
  await labelledSet(images, csv, 30, 5, ['melanoma', 'nevus']);
}, 60_000);
afterAll(() => tmp.cleanup());

describe('the stored copy of a validated folder', () => {
  it('reflects exactly the current CSV after rows are deleted, relabelled and their ages changed (not the rows it had)', async () => {
    const before = await read();
    expect(before.rows.size).toBe(30);
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    const [header, ...rows] = lines;
    // Drop the last 10 rows; relabel the first 5; every age + 20.
    const edited = rows.slice(0, 20).map((line, i) => {
      const cells = line.split(',');
      if (i < 5) cells[1] = cells[1] === 'melanoma' ? 'nevus' : 'melanoma';
      cells[4] = String(Number(cells[4]) + 20);
      return cells.join(',');
    });
    fs.writeFileSync(csv, [header, ...edited].join('\n') + '\n');
    const after = await read();
    expect(after.rows.size).toBe(20);
    for (const line of edited) {
      const [id, label, , , age] = line.split(',');
      expect(after.rows.get(id!)).toEqual({ label, age: Number(age) });
    }
  });

  it('is reused while the CSV and folder are unchanged, with the import problems it found', async () => {
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    lines[1] = lines[1]!.replace(/,(\d+),/, ',sixty,');
    fs.writeFileSync(csv, lines.join('\n') + '\n');
    const first = await openExternal(source, scratch);
    const marker = path.join(first.project.dir, 'marker');
    fs.writeFileSync(marker, '');
    first.project.close();
    const again = await openExternal(source, scratch);
    again.project.close();
    expect(again.problems).toEqual(first.problems);
    expect(again.problems.some((p) => p.line === 2 && p.column === 'age')).toBe(true);
    // Not imported again: a rebuilt copy starts from an empty folder.
    expect(fs.existsSync(marker)).toBe(true);
  });
});

/** Synthetic backbone features: n rows of DIM, patients of two photos sharing a centre, the first `shift` columns moved. */
const DIM = 64;
function features(n: number, seed: number, side: string, shift = 0) {
  const rand = rngFrom(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const vectors = new Float32Array(n * DIM);
  let centre = new Float32Array(DIM);
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) centre = Float32Array.from({ length: DIM }, () => g());
    for (let j = 0; j < DIM; j++) vectors[i * DIM + j] = centre[j]! + g() * (j < 10 ? 3 : 1) + (j < 10 ? shift : 0);
  }
  const ids = Array.from({ length: n }, (_, i) => `${side}${i}`);
  return { vectors, ids, shas: ids, groups: ids.map((_, i) => `${side}P${Math.floor(i / 2)}`) };
}

describe('the photo classifier (training against external images)', () => {
  it('reads AUC ≈ 0.5 when both come from one distribution (the interval covers 0.5 in most seeds), and flags a planted shift', async () => {
    await initBackend();
    const seeds = [1, 2, 3, 4, 5];
    const nulls = seeds.map((s) => imageShift(16, features(150, 10 * s, 't'), features(60, 10 * s + 1, 'e'), s).auc);
    const covering = nulls.filter((a) => a.ci[0] <= 0.5 && a.ci[1] >= 0.5).length;
    const mean = nulls.reduce((t, a) => t + a.value, 0) / nulls.length;
    process.stdout.write(`null AUCs: ${nulls.map((a) => `${a.value.toFixed(3)} [${a.ci.map((c) => c.toFixed(3)).join(', ')}]`).join('; ')}\n`);
    expect(covering).toBeGreaterThanOrEqual(4);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.06);
    const shifted = imageShift(16, features(150, 7, 't'), features(60, 8, 'e', 1.5), 1).auc;
    expect(shifted.ci[0]).toBeGreaterThan(0.6);
  }, 120_000);
});
