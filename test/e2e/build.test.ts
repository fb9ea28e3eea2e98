import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKERS } from '../../src/main/jobs/workers.ts';
import type { PreviewReply } from '../../src/main/images/previewWorker.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';

/** The main build (npm test builds before the tests run): the window's workers must be where spawnWorker looks. */
const OUT = path.resolve(import.meta.dirname, '../../out/main');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('the main build', () => {
  it('writes every worker at its path below out/main, and spawnWorker’s code at the top of out/main', () => {
    if (!fs.existsSync(path.join(OUT, 'index.js'))) throw new Error('Build first: npm run build (npm test does).');
    for (const w of WORKERS) expect(fs.existsSync(path.join(OUT, `${w}.js`)), w).toBe(true);
    const holders = fs
      .readdirSync(OUT, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js') && fs.readFileSync(path.join(OUT, f), 'utf8').includes('workerBoot.mjs'));
    expect(holders.length).toBeGreaterThan(0);
    // spawnWorker finds out/main from the folder its code was bundled into: that must be out/main itself.
    for (const f of holders) expect(path.dirname(f), f).toBe('.');
  });

  it('runs a built worker: the import preview answers from out/main/images/previewWorker.js', async () => {
    const fakes = await makeImages(path.join(tmp.dir, 'images'), 3, 1, 16);
    fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes));
    const worker = new Worker(path.join(OUT, 'images/previewWorker.js'));
    try {
      const reply = await new Promise<PreviewReply>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ req: { imagesDir: path.join(tmp.dir, 'images'), metadataPath: path.join(tmp.dir, 'm.csv') }, projectDir: tmp.dir });
      });
      expect(reply).toMatchObject({ ok: true, preview: { images: 3, rowsMatched: 3 } });
    } finally {
      await worker.terminate();
    }
  });
});
