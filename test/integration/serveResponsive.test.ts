import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { apiCall, type RawResponse } from '../fixtures/rawHttp.ts';
import { serveProcess } from '../fixtures/serveProcess.ts';

/** Each hostile request must have answered by then; a frozen server answers none of them. */
const ANSWER_WITHIN_MS = 20_000;
/** The issue asks 200 ms; CI shares two cores with this test, so the median is held to that and the worst to 500 ms. */
const MEDIAN_MS = 200;
const WORST_MS = 500;

let tmp: ReturnType<typeof tempDir>;
let projectDir: string;
let data: string;

/** A folder shaped like a bundle whose manifest lists only its backbone weights, of `bytes` bytes. */
function bundleWithWeights(dir: string, bytes: number): string {
  fs.mkdirSync(path.join(dir, 'backbone'), { recursive: true });
  const manifest = {
    format: 'dermfuse-bundle',
    version: 1,
    createdAt: new Date().toISOString(),
    versions: {},
    runId: 1,
    mode: 'fused',
    files: { 'backbone/weights.bin': { sha256: '0'.repeat(64), bytes } },
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return path.join(dir, 'backbone', 'weights.bin');
}

/** About `mb` MB of HAM10000-shaped metadata, with a quoted free-text column. */
function bigCsv(file: string, mb: number): void {
  const out = fs.openSync(file, 'w');
  fs.writeSync(out, 'image_id,dx,patient_id,lesion_id,age,sex,localization,notes\n');
  let written = 0;
  for (let i = 0; written < mb * 1e6; i++) {
    const rows: string[] = [];
    for (let k = 0; k < 10_000; k++) {
      const n = i * 10_000 + k;
      rows.push(
        `IMG_${String(n).padStart(7, '0')},${['nv', 'mel', 'bcc'][n % 3]},P${n >> 1},L${n >> 2},${20 + (n % 60)},male,back,"free text, ""quoted"" ${n}"\n`,
      );
    }
    written += fs.writeSync(out, rows.join(''));
  }
  fs.closeSync(out);
}

beforeAll(() => {
  tmp = tempDir();
  projectDir = path.join(tmp.dir, 'project');
  Project.create(projectDir).project.close();
  data = path.join(tmp.dir, 'data');
  // (a) The weights are a FIFO: a read of it waits until someone writes, which nobody does.
  execFileSync('mkfifo', [bundleWithWeights(path.join(data, 'fifo-bundle'), 4)]);
  // (b) 2 GiB of weights, sparse (no disk used): past the size cap. And 1.9 GB, under it: hashed as a stream (a
  // whole-file read of it froze the server for 15 s).
  for (const [name, bytes] of [
    ['big-bundle', 2 ** 31],
    ['large-bundle', 1.9e9],
  ] as const) {
    const weights = bundleWithWeights(path.join(data, name), bytes);
    fs.writeFileSync(weights, '');
    fs.truncateSync(weights, bytes);
  }
  // (c) A 50 MB CSV to preview beside an (empty) image folder.
  fs.mkdirSync(path.join(data, 'images'));
  bigCsv(path.join(data, 'big.csv'), 50);
});
afterAll(() => tmp.cleanup());

/** A request that must answer within ANSWER_WITHIN_MS; its envelope, or the timeout as a failure. */
async function bounded(what: string, call: Promise<RawResponse>): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS)),
  );
  try {
    const r = await Promise.race([call, timeout]);
    expect(r.status, what).toBe(200);
    return JSON.parse(r.body) as { ok: boolean; error?: { code: string; message: string } };
  } finally {
    clearTimeout(timer);
  }
}

describe('dermfuse serve under slow or hostile files', () => {
  it('keeps answering other calls while a FIFO bundle, 2 GiB and 1.9 GB bundles and a 50 MB CSV preview are in flight, and refuses the bundles by name', async () => {
    const s = await serveProcess(projectDir, { args: ['--data', data] });
    // Latency of each probe; Infinity for one that failed or never answered.
    const latencies: number[] = [];
    let inFlight = true;
    const call = (name: string, body: unknown) => apiCall(s.port, s.token, name, body);
    // Another caller asks who it is every 50 ms for as long as the slow requests run.
    const probe = async () => {
      while (inFlight) {
        const t = performance.now();
        const r = await call('team.me', {}).catch(() => null);
        latencies.push(r?.status === 200 ? performance.now() - t : Infinity);
        await new Promise((done) => setTimeout(done, 50));
      }
    };
    try {
      expect((await call('team.me', {})).status).toBe(200);
      const probing = probe();
      const started = performance.now();
      const answers = Promise.all([
        bounded('suggestions.apply (FIFO)', call('suggestions.apply', { bundle: path.join(data, 'fifo-bundle') })),
        bounded('suggestions.apply (2 GiB)', call('suggestions.apply', { bundle: path.join(data, 'big-bundle') })),
        bounded('suggestions.apply (1.9 GB)', call('suggestions.apply', { bundle: path.join(data, 'large-bundle') })),
        bounded('import.plan (50 MB)', call('import.plan', { imagesDir: path.join(data, 'images'), metadataPath: path.join(data, 'big.csv') })),
      ]);
      const [fifo, big, large, preview] = await answers.finally(() => (inFlight = false));
      const seconds = (performance.now() - started) / 1000;
      await probing;

      expect(fifo.ok).toBe(false);
      expect(fifo.error!.message).toMatch(/fifo-bundle: backbone\/weights\.bin is not a regular file \(it is a named pipe \(FIFO\)\)/);
      expect(big.ok).toBe(false);
      expect(big.error!.message).toMatch(/big-bundle: backbone\/weights\.bin is 2\.1 GB, more than the 2 GB DermFuse reads/);
      expect(large.ok).toBe(false);
      expect(large.error!.message).toMatch(/large-bundle: backbone\/weights\.bin does not match its SHA-256 in manifest\.json/);
      expect(preview.ok).toBe(true);
      const p = preview.value as { rows: number; problems: { message: string }[] };
      // The preview read the CSV's head only, and says so; its rows are those of the head.
      expect(p.problems.map((x) => x.message)).toContainEqual(
        expect.stringMatching(/^preview read the first 8\.4 MB of 5\d\.\d MB: its counts cover those rows only/),
      );
      expect(p.rows).toBeGreaterThan(50_000);
      expect(p.rows).toBeLessThan(150_000);

      const sorted = [...latencies].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const worst = sorted.at(-1)!;
      console.info(`serve answered team.me ${latencies.length} times in ${seconds.toFixed(1)} s: median ${median.toFixed(0)} ms, worst ${worst.toFixed(0)} ms`);
      expect(latencies.length).toBeGreaterThanOrEqual(3);
      expect(median).toBeLessThan(MEDIAN_MS);
      expect(worst).toBeLessThan(WORST_MS);
    } finally {
      inFlight = false;
      // A server stuck in a read of the FIFO never handles SIGTERM.
      await Promise.race([s.stop(), new Promise((done) => setTimeout(done, 5000)).then(() => s.kill9())]);
    }
    expect(s.stderr()).not.toMatch(/ {4}at /);
  }, 90_000);
});
