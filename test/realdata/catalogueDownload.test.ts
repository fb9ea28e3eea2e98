import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueEntry } from '../../src/main/ml/backbone/catalogue.ts';
import { ensureModel } from '../../src/main/ml/backbone/download.ts';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
import { tempDir } from '../fixtures/generate.ts';
import { SHARED } from '../fixtures/shared.ts';

const MODELS = path.join(SHARED, 'models');
const HAS_MODELS = fs.existsSync(path.join(MODELS, 'mobilenet_v1_0.75_224', 'model.json'));

describe.skipIf(!HAS_MODELS)('catalogue download of a real model, from a local server laid out like Google’s', () => {
  const tmp = tempDir();
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const file = path.join(MODELS, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
      if (!file.startsWith(MODELS) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return void res.writeHead(404).end();
      res.writeHead(200).end(fs.readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    tmp.cleanup();
  });

  it('downloads mobilenet_v1_0.75_224 with its 55 weight shards and matches the digest pinned in the catalogue', async () => {
    const entry = catalogueEntry('mobilenet_v1_0.75_224')!;
    expect(entry.url).toMatch(/\/mobilenet_v1_0\.75_224\/model\.json$/);
    const dest = path.join(tmp.dir, 'cache', entry.id);
    const digest = await ensureModel(`${base}/mobilenet_v1_0.75_224/model.json`, dest, entry.digest);
    expect(digest).toBe(entry.digest);
    expect(fs.readdirSync(dest).filter((f) => f.startsWith('group'))).toHaveLength(55);
  });

  it('resolves the catalogue id from the cache, offline, with the catalogue’s preprocessing and feature layer', async () => {
    const { spec } = await resolveBackbone('mobilenet_v1_0.75_224', {
      cacheDir: path.join(tmp.dir, 'cache'),
      fetchImpl: () => Promise.reject(new Error('offline')),
    });
    expect(spec).toMatchObject({
      name: 'mobilenet_v1_0.75_224',
      featureLayer: 'global_average_pooling2d_1',
      format: 'layers',
      preprocessing: { inputSize: 224, resize: 'squash' },
    });
  });
});
