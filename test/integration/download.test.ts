import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureModel, folderDigest } from '../../src/main/ml/backbone/download.ts';
import { tempDir } from '../fixtures/generate.ts';
import { makeTinyLayersModel } from '../fixtures/tinyModel.ts';

const tmp = tempDir();
const served = path.join(tmp.dir, 'served');
let server: http.Server;
let base: string;
let tamper = false;
let requests = 0;

beforeAll(async () => {
  await makeTinyLayersModel(path.join(served, 'tiny'));
  fs.writeFileSync(
    path.join(served, 'tiny', 'weights.bin'),
    Buffer.concat([fs.readFileSync(path.join(served, 'tiny', 'weights.bin')), Buffer.alloc(200_000, 7)]),
  );
  server = http.createServer((req, res) => {
    requests++;
    const file = path.join(served, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!file.startsWith(served) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const bytes = fs.readFileSync(file);
    if (tamper && file.endsWith('weights.bin')) bytes[10] = bytes[10]! ^ 0xff;
    res.writeHead(200, { 'content-length': bytes.length });
    // Sent in pieces, so a cancel can land mid-file.
    let i = 0;
    const pump = () => {
      if (i >= bytes.length) return res.end();
      res.write(bytes.subarray(i, i + 16384));
      i += 16384;
      setTimeout(pump, 1);
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  tmp.cleanup();
});

describe('model download', () => {
  it('downloads model.json and weights with progress, checks the digest, then works offline from the cache', async () => {
    const digest = await folderDigest(path.join(served, 'tiny'));
    const dest = path.join(tmp.dir, 'cache', 'tiny');
    const seen: number[] = [];
    const got = await ensureModel(`${base}/tiny/model.json`, dest, digest, { onProgress: (p) => seen.push(p.done) });
    expect(got).toBe(digest);
    expect(fs.readFileSync(path.join(dest, 'weights.bin'))).toEqual(fs.readFileSync(path.join(served, 'tiny', 'weights.bin')));
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.at(-1)).toBeGreaterThan(200_000);
    const before = requests;
    expect(await ensureModel(`${base}/tiny/model.json`, dest, digest)).toBe(digest);
    expect(requests).toBe(before);
  });

  it('refuses a download whose checksum does not match and leaves nothing in the cache', async () => {
    const digest = await folderDigest(path.join(served, 'tiny'));
    const dest = path.join(tmp.dir, 'cache2', 'tiny');
    tamper = true;
    try {
      await expect(ensureModel(`${base}/tiny/model.json`, dest, digest)).rejects.toThrow(/Checksum mismatch/);
    } finally {
      tamper = false;
    }
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
  });

  it('cancels mid-download and leaves nothing half-written', async () => {
    const dest = path.join(tmp.dir, 'cache3', 'tiny');
    const controller = new AbortController();
    await expect(
      ensureModel(`${base}/tiny/model.json`, dest, null, { signal: controller.signal, onProgress: (p) => p.done > 50_000 && controller.abort() }),
    ).rejects.toThrow(/abort/i);
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
  });

  it('trusts an unpinned model on first download and then detects a changed cached copy', async () => {
    const dest = path.join(tmp.dir, 'cache4', 'tiny');
    const digest = await ensureModel(`${base}/tiny/model.json`, dest, null);
    expect(digest).toBe(await folderDigest(path.join(served, 'tiny')));
    const w = path.join(dest, 'weights.bin');
    const bytes = fs.readFileSync(w);
    bytes[0] = bytes[0]! ^ 1;
    fs.writeFileSync(w, bytes);
    await expect(ensureModel(`${base}/tiny/model.json`, dest, null)).rejects.toThrow(/does not match its checksum/);
  });

  it('names a missing model URL', async () => {
    await expect(ensureModel(`${base}/missing/model.json`, path.join(tmp.dir, 'cache5', 'x'), null)).rejects.toThrow(/HTTP 404/);
  });
});
