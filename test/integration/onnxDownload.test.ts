import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/main/ml/tfjs/backend.ts';
import { ensureOnnxFile } from '../../src/main/ml/backbone/download.ts';
import { layersToOnnx } from '../../src/main/ml/onnx/fromLayers.ts';
import { encodeModel } from '../../src/main/ml/onnx/proto.ts';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
import { OrtEmbedder } from '../../src/main/ml/onnx/ortEmbedder.ts';
import { tempDir } from '../fixtures/generate.ts';

// Downloads of ONNX backbones from a local server, with a small ONNX model the test builds: progress, cancel and
// resume (HTTP Range), and refusal of a file whose checksum does not match.

const tmp = tempDir();
let server: http.Server;
let url: string;
let model: Buffer;
const ranges: (string | undefined)[] = [];
/** Bytes after which the server stalls (until the client gives up), for the next request only. */
let stallAfter: number | null = null;

beforeAll(async () => {
  await initBackend();
  const i = tf.input({ shape: [24, 24, 3] });
  let x = tf.layers
    .conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
    .apply(i) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 96, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  model = Buffer.from(encodeModel(layersToOnnx(tf.model({ inputs: i, outputs: x }), 24)));
  // A torch-style NCHW export would need a Transpose; this one takes NHWC, which its URL cannot say: the test sets it.
  server = http.createServer((req, res) => {
    ranges.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    const body = model.subarray(from);
    res.writeHead(m ? 206 : 200, {
      'content-length': body.length,
      'content-type': 'application/octet-stream',
      ...(m ? { 'content-range': `bytes ${from}-${model.length - 1}/${model.length}` } : {}),
    });
    if (stallAfter !== null) {
      const cut = stallAfter;
      stallAfter = null;
      res.write(body.subarray(0, cut));
      return; // never ends: the client cancels
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/tiny-net.onnx`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  tmp.cleanup();
});

describe('ONNX backbone downloads', () => {
  it('reports progress, resumes a cancelled download from where it stopped, and keeps the file only when complete', async () => {
    const dir = path.join(tmp.dir, 'a');
    const controller = new AbortController();
    const seen: number[] = [];
    stallAfter = 100_000;
    const first = ensureOnnxFile(url, dir, null, {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.done);
        if (p.done >= 100_000) controller.abort();
      },
    });
    await expect(first).rejects.toThrow(/cancelled after 100000 bytes; the next attempt continues from there/);
    expect(fs.existsSync(path.join(dir, 'model.onnx'))).toBe(false);
    expect(fs.statSync(path.join(dir, 'model.onnx.partial')).size).toBe(100_000);
    const totals: number[] = [];
    const digest = await ensureOnnxFile(url, dir, null, { onProgress: (p) => totals.push(p.total) });
    expect(ranges.at(-1)).toBe('bytes=100000-');
    expect(totals.at(-1)).toBe(model.length);
    expect(digest).toBe(createHash('sha256').update(model).digest('hex'));
    expect(fs.readFileSync(path.join(dir, 'model.onnx')).equals(model)).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    // Cached: no request, checked against the digest recorded at the first download.
    const before = ranges.length;
    expect(await ensureOnnxFile(url, dir, null, { fetchImpl: () => Promise.reject(new Error('offline')) })).toBe(digest);
    expect(ranges.length).toBe(before);
    fs.appendFileSync(path.join(dir, 'model.onnx'), 'x');
    await expect(ensureOnnxFile(url, dir, null)).rejects.toThrow(/does not match its checksum/);
  });

  it('refuses a download whose SHA-256 is not the pinned one, and keeps nothing', async () => {
    const dir = path.join(tmp.dir, 'b');
    await expect(ensureOnnxFile(url, dir, 'f'.repeat(64))).rejects.toThrow(
      /Checksum mismatch for .*tiny-net\.onnx: expected ffffffffffff…, got [0-9a-f]{12}…\. The download was discarded\./,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('resolves an .onnx URL as a backbone and embeds with it', async () => {
    const { spec, digest } = await resolveBackbone(url, { cacheDir: path.join(tmp.dir, 'cache'), inputSize: 24, resize: 'squash', range: [0, 1] });
    expect(spec).toMatchObject({ name: 'tiny-net', format: 'onnx', onnx: { file: 'model.onnx', layout: 'nchw' }, preprocessing: { inputSize: 24 } });
    expect(digest).toBe(createHash('sha256').update(model).digest('hex'));
    const e = await OrtEmbedder.load(spec, { file: path.join(spec.dir, 'model.onnx'), input: null, layout: 'nhwc', pixels: false, threads: 1 });
    expect(e.dim).toBe(96);
    const v = await e.embed(new Uint8Array(2 * 24 * 24 * 3).fill(200), 2);
    expect(v).toHaveLength(192);
    await e.dispose();
  });
});
