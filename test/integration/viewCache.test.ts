import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillViewCache, type FillOptions } from '../../src/main/ml/finetune/viewCache.ts';
import { makeImages, tempDir } from '../fixtures/generate.ts';

const tmp = tempDir();
let images: { sha: string; path: string }[];
// The whole network trains (no trunk): the cached values are the preprocessed views, 3 x 16 x 16 each.
const options: FillOptions = {
  trunk: null,
  inputName: 'input',
  cut: 'input',
  pre: { inputSize: 16, scale: [1, 1, 1], offset: [0, 0, 0], resize: 'squash' },
  views: 2,
  augment: [],
  threads: 1,
};
const RECORD = 2 * 3 * 16 * 16 * 2;

beforeAll(async () => {
  const fakes = await makeImages(path.join(tmp.dir, 'img'), 6, 5, 24);
  images = fakes.map((f, i) => ({ sha: String(i).repeat(64).slice(0, 64), path: f.file }));
});
afterAll(() => tmp.cleanup());

describe('the cache of frozen views', () => {
  it('is filled by one process at a time: a living holder of the lock is refused by pid, a dead one’s lock is taken over', async () => {
    const dir = path.join(tmp.dir, 'locked');
    fs.mkdirSync(dir);
    const other = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(path.join(dir, 'fill.lock'), String(other.pid));
      await expect(fillViewCache(dir, images, options)).rejects.toMatchObject({
        code: 'BUSY',
        message: expect.stringContaining(`Another DermFuse process (pid ${other.pid}) is caching these views`),
      });
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // The holder died without unlocking (kill -9): its lock no longer stops anyone, and is gone after the fill.
    const cache = await fillViewCache(dir, images, options);
    expect(cache.count).toBe(6);
    cache.close();
    expect(fs.existsSync(path.join(dir, 'fill.lock'))).toBe(false);
  });

  it('drops the index lines of records the data file lost, and caches those images again (never reads zeros)', async () => {
    const dir = path.join(tmp.dir, 'short');
    (await fillViewCache(dir, images, options)).close();
    const data = path.join(dir, 'views.f16');
    const first = fs.readFileSync(data);
    expect(first.length).toBe(6 * RECORD);
    fs.truncateSync(data, 3 * RECORD + 100);
    const progress: number[] = [];
    const cache = await fillViewCache(dir, images, { ...options, onProgress: (done) => progress.push(done) });
    // Three images were whole; the other three were cached again, byte for byte as before.
    expect(progress[0]).toBe(3);
    expect(cache.count).toBe(6);
    cache.close();
    expect(fs.readFileSync(data).equals(first)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'index.txt'), 'utf8').split('\n')).toHaveLength(7);
  });

  it('with crops and jitter, caches the flips and turns first, unchanged, then as many random views, the same again when resumed', async () => {
    const plain = path.join(tmp.dir, 'plain');
    (await fillViewCache(plain, images, options)).close();
    const dir = path.join(tmp.dir, 'augmented');
    const augmented = { ...options, augment: ['crops', 'jitter'] as const };
    (await fillViewCache(dir, images, augmented)).close();
    const data = fs.readFileSync(path.join(dir, 'views.f16'));
    const before = fs.readFileSync(path.join(plain, 'views.f16'));
    expect(data.length).toBe(6 * 2 * RECORD);
    for (let r = 0; r < 6; r++) {
      const record = data.subarray(r * 2 * RECORD, (r + 1) * 2 * RECORD);
      // Views 0-1: the plain cache's record, byte for byte; views 2-3: other values (a crop and other colours).
      expect(record.subarray(0, RECORD).equals(before.subarray(r * RECORD, (r + 1) * RECORD))).toBe(true);
      expect(record.subarray(RECORD).equals(record.subarray(0, RECORD))).toBe(false);
    }
    // Cut short and filled again: the lost images' random views are drawn as before (from content hash and view).
    fs.truncateSync(path.join(dir, 'views.f16'), 2 * 2 * RECORD + 10);
    (await fillViewCache(dir, images, augmented)).close();
    expect(fs.readFileSync(path.join(dir, 'views.f16')).equals(data)).toBe(true);
  });
});
