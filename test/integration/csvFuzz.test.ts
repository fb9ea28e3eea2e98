import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DermFuseError } from '../../src/shared/errors.ts';
import { decodeCsvBytes, parseCsv } from '../../src/main/files/csv.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { mapColumns } from '../../src/main/images/presets.ts';
import { rngFrom } from '../../src/main/ml/stats/random.ts';
import { makeImages, tempDir } from '../fixtures/generate.ts';

/** The errors a bad CSV may give: each names the file and what is wrong. Anything else is a crash. */
const NAMED = new Set(['CSV_INVALID', 'PRESET_UNRECOGNISED', 'COLUMN_NOT_FOUND']);
const PIECES = [
  'image_id',
  'isic_id',
  'img_id',
  'dx',
  'diagnostic',
  'patient_id',
  'age',
  '"',
  '""',
  ',',
  ';',
  '\t',
  '\n',
  '\r\n',
  '\r',
  'é',
  '\ufeff',
  '\u0000',
  ' ',
  'MEL',
  '=1+1',
  "'",
  'True',
  '3.5',
  'UNK',
];

let tmp: ReturnType<typeof tempDir>;
let images: string;

function randomBytes(rand: () => number): Buffer {
  const kind = Math.floor(rand() * 4);
  const n = 1 + Math.floor(rand() * 400);
  if (kind === 0) return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const text = Array.from({ length: n / 4 }, () => PIECES[Math.floor(rand() * PIECES.length)]!).join('');
  if (kind === 1) return Buffer.from(text, 'utf8');
  if (kind === 2) return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  return Buffer.from(text, 'latin1');
}

/** Runs one case; true when it was refused (with a named error), false when it was read. */
function expectNamed(run: () => unknown, what: string): boolean {
  try {
    run();
    return false;
  } catch (err) {
    expect(err, what).toBeInstanceOf(DermFuseError);
    expect(NAMED.has((err as DermFuseError).code), `${what}: ${(err as Error).message}`).toBe(true);
    return true;
  }
}

beforeAll(async () => {
  tmp = tempDir();
  images = path.join(tmp.dir, 'images');
  await makeImages(images, 2, 1, 16);
});
afterAll(() => tmp.cleanup());

describe('fuzzed CSV files', () => {
  it('never crash the reader or the column mapping: every failure is a named error', () => {
    const rand = rngFrom(2026);
    let unreadable = 0;
    let mapped = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = randomBytes(rand);
      const what = `case ${i}: ${bytes.toString('hex').slice(0, 80)}`;
      let table: ReturnType<typeof parseCsv> | null = null;
      unreadable += +expectNamed(() => (table = parseCsv(decodeCsvBytes(bytes, 'f.csv').text, 'f.csv')), what);
      if (!table) continue;
      const t: ReturnType<typeof parseCsv> = table;
      expectNamed(() => mapColumns(t, 'f.csv', {}), what);
      mapped += +!expectNamed(() => mapColumns(t, 'f.csv', { preset: 'generic', idColumn: t.header[0] ?? 'x', labelColumn: t.header[1] }), what);
    }
    // The cases reach every outcome, so the error paths are exercised as well as the happy path.
    expect(unreadable).toBeGreaterThan(100);
    expect(mapped).toBeGreaterThan(100);
  });

  it('never crash the import plan either', async () => {
    const rand = rngFrom(7);
    const file = path.join(tmp.dir, 'fuzz.csv');
    for (let i = 0; i < 150; i++) {
      fs.writeFileSync(file, randomBytes(rand));
      try {
        await planImport({ imagesDir: images, metadataPath: file }, tmp.dir, { preview: i % 2 === 0 });
      } catch (err) {
        expect(err).toBeInstanceOf(DermFuseError);
        expect(NAMED.has((err as DermFuseError).code), (err as Error).message).toBe(true);
      }
    }
  });
});
