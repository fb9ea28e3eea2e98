import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, UPLOAD_PATH, type Server } from '../../src/main/api/http.ts';
import { UPLOAD_CHUNK_BYTES } from '../../src/main/files/upload.ts';
import type { JobInfo } from '../../src/shared/jobs.ts';
import type { UploadBatch, UploadDone } from '../../src/shared/types.ts';
import { addAccount } from '../../src/main/team/accounts.ts';
import { RENDERER } from '../e2e/serveProject.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { apiCall, rawRequest, type RawResponse } from '../fixtures/rawHttp.ts';
import { servedService, type ServedService } from '../fixtures/servedService.ts';

/**
 * Uploads into a served project (issue 25): a folder of photos and its CSV arrive by PUT in pieces, are written as
 * .part files until whole, and are imported from the project's own uploads folder like any other folder.
 */
const tmp = tempDir();
let s: ServedService;
let server: Server;

const put = (token: string, q: Record<string, string>, body: Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<RawResponse> =>
  rawRequest(server.port, {
    method: 'PUT',
    path: `${UPLOAD_PATH}?${new URLSearchParams(q).toString()}`,
    headers: { host: `127.0.0.1:${server.port}`, authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    body,
  });
const call = async <T>(
  name: string,
  body: unknown,
  token = server.token,
): Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }> =>
  JSON.parse((await apiCall(server.port, token, name, body)).body) as never;
const begin = async (files: { path: string; size: number }[]) => {
  const r = await call<UploadBatch>('uploads.begin', { files });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
/** Sends a whole file in pieces; the answers of each piece. */
const sendFile = async (id: string, rel: string, data: Buffer) => {
  const answers: unknown[] = [];
  for (let offset = 0; offset < data.length || offset === 0; offset += UPLOAD_CHUNK_BYTES) {
    answers.push(JSON.parse((await put(server.token, { id, path: rel, offset: String(offset) }, data.subarray(offset, offset + UPLOAD_CHUNK_BYTES))).body));
    if (data.length === 0) break;
  }
  return answers;
};

beforeAll(async () => {
  s = await servedService(tmp.dir, 4, 3);
  server = await startServer({ service: s.service, rendererDir: RENDERER });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await s?.service.close();
  tmp.cleanup();
});

describe('uploads into a served project', () => {
  it('takes a folder of photos and its CSV in pieces, and imports them from the project', async () => {
    // Another clinic's photos: ids of their own (the served project's are IMG_…).
    const photos = (await makeImages(path.join(tmp.dir, 'clinic'), 6, 11, 32)).map((p) => {
      const file = path.join(path.dirname(p.file), `CLN_${path.basename(p.file)}`);
      fs.renameSync(p.file, file);
      return { ...p, id: `CLN_${p.id}`, file };
    });
    fs.writeFileSync(path.join(tmp.dir, 'clinic', 'meta.csv'), hamCsv(photos));
    const big = randomBytes(2 * UPLOAD_CHUNK_BYTES + 12345);
    const files = [
      ...photos.map((p) => ({ path: `clinic/${path.basename(p.file)}`, data: fs.readFileSync(p.file) })),
      { path: 'clinic/meta.csv', data: fs.readFileSync(path.join(tmp.dir, 'clinic', 'meta.csv')) },
      { path: 'scans/large.tif', data: big },
    ];
    const batch = await begin(files.map((f) => ({ path: f.path, size: f.data.length })));
    expect(batch.dir).toBe(path.join(s.projectDir, 'uploads', batch.id));
    // Finishing early names a file that has not arrived.
    const early = await call('uploads.finish', { id: batch.id });
    expect(early).toMatchObject({
      ok: false,
      error: { message: `${files.length} files have not fully arrived (first: clinic/${path.basename(photos[0]!.file)}): resume or discard the upload.` },
    });
    const answers = await sendFile(batch.id, 'scans/large.tif', big);
    expect(answers).toEqual([
      { ok: true, value: { received: UPLOAD_CHUNK_BYTES, complete: false } },
      { ok: true, value: { received: 2 * UPLOAD_CHUNK_BYTES, complete: false } },
      { ok: true, value: { received: big.length, complete: true } },
    ]);
    expect(fs.readFileSync(path.join(batch.dir, 'scans', 'large.tif')).equals(big)).toBe(true);
    for (const f of files.slice(0, -1)) await sendFile(batch.id, f.path, f.data);
    const done = await call<UploadDone>('uploads.finish', { id: batch.id });
    expect(done).toEqual({ ok: true, value: { dir: batch.dir, images: photos.length + 1, csvFiles: [path.join(batch.dir, 'clinic', 'meta.csv')] } });
    expect(fs.readdirSync(path.join(batch.dir, 'clinic')).filter((f) => f.endsWith('.part'))).toEqual([]);
    // The import reads them where they arrived, inside the project.
    const started = await call<JobInfo>('jobs.start', {
      kind: 'import',
      imagesDir: path.join(batch.dir, 'clinic'),
      metadataPath: path.join(batch.dir, 'clinic', 'meta.csv'),
    });
    if (!started.ok) throw new Error(started.error.message);
    let job = started.value;
    while (job.status === 'running') job = ((await call<JobInfo>('jobs.watch', { id: job.id, after: job.version })) as { value: JobInfo }).value;
    expect(job.status).toBe('done');
    const r = job.kind === 'import' ? job.result : null;
    expect(r && { added: r.imagesAdded, failed: r.imagesFailed, rows: r.rowsMatched, errors: r.errors }).toEqual({
      added: photos.length,
      failed: 0,
      rows: photos.length,
      errors: [],
    });
  });

  it('appends a piece only where the file left off, and cuts off a piece whose connection broke', async () => {
    const data = randomBytes(UPLOAD_CHUNK_BYTES + 100);
    const batch = await begin([{ path: 'one.jpg', size: data.length }]);
    const wrong = JSON.parse((await put(server.token, { id: batch.id, path: 'one.jpg', offset: '100' }, data.subarray(100, 200))).body);
    expect(wrong.error.message).toBe('Upload one.jpg: the piece starts at byte 100, but 0 bytes have arrived: send from there.');
    // Half a piece, then the connection drops: nothing of it counts, and the same piece is sent again whole.
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        method: 'PUT',
        path: `${UPLOAD_PATH}?${new URLSearchParams({ id: batch.id, path: 'one.jpg', offset: '0' }).toString()}`,
        headers: {
          host: `127.0.0.1:${server.port}`,
          authorization: `Bearer ${server.token}`,
          'content-type': 'application/octet-stream',
          'content-length': UPLOAD_CHUNK_BYTES,
        },
      });
      req.on('error', () => resolve());
      req.write(data.subarray(0, 1000), () => setTimeout(() => req.destroy(), 200));
    });
    await expect.poll(() => fs.statSync(path.join(batch.dir, 'one.jpg.part')).size).toBe(0);
    expect(fs.existsSync(path.join(batch.dir, 'one.jpg'))).toBe(false);
    await sendFile(batch.id, 'one.jpg', data);
    expect(fs.readFileSync(path.join(batch.dir, 'one.jpg')).equals(data)).toBe(true);
    const again = JSON.parse((await put(server.token, { id: batch.id, path: 'one.jpg', offset: '0' }, data.subarray(0, 10))).body);
    expect(again.error.message).toBe('Upload one.jpg: it has arrived whole already.');
  });

  it('refuses paths that leave the folder, other file types, twins by case and uploads over the cap, naming the file', async () => {
    const refused = async (files: { path: string; size: number }[]) => {
      const r = await call('uploads.begin', { files });
      return r.ok ? 'accepted' : r.error.message;
    };
    expect(await refused([{ path: '../outside.jpg', size: 1 }])).toBe('Upload "../outside.jpg": ".." is not a file or folder name this server takes.');
    expect(await refused([{ path: 'a/.hidden.jpg', size: 1 }])).toBe('Upload "a/.hidden.jpg": ".hidden.jpg" is hidden (starts with a dot).');
    expect(await refused([{ path: ' lead.jpg', size: 1 }])).toBe('Upload " lead.jpg": " lead.jpg" starts or ends with a space.');
    expect(await refused([{ path: '/etc/x.jpg', size: 1 }])).toBe('Upload "/etc/x.jpg": "" is not a file or folder name this server takes.');
    expect(await refused([{ path: 'C:\\x.jpg', size: 1 }])).toBe('Upload "C:\\\\x.jpg": "C:\\\\x.jpg" is not a file or folder name this server takes.');
    expect(await refused([{ path: 'run.sh', size: 1 }])).toMatch(/^Upload "run\.sh": only photos \(.*\) and \.csv files are uploaded\.$/);
    expect(
      await refused([
        { path: 'A.jpg', size: 1 },
        { path: 'a.JPG', size: 1 },
      ]),
    ).toBe('Upload a.JPG: named twice.');
    expect(await refused([{ path: 'huge.tif', size: 300 * 2 ** 20 }])).toBe('Upload huge.tif: 300.0 MB, above the 256.0 MB a file may have.');
    expect(await refused(Array.from({ length: 100 }, (_, i) => ({ path: `p${i}.tif`, size: 250 * 2 ** 20 })))).toBe(
      'The upload is 24.4 GB, above the 20.0 GB this server takes at once (dermfuse serve --max-upload): upload it in parts.',
    );
    // A path not declared, and an upload that does not exist, are refused too.
    const batch = await begin([{ path: 'x.png', size: 3 }]);
    expect(JSON.parse((await put(server.token, { id: batch.id, path: 'y.png', offset: '0' }, Buffer.from('abc'))).body).error.message).toBe(
      'Upload y.png: not one of the files this upload declared.',
    );
    expect(JSON.parse((await put(server.token, { id: 'nope', path: 'x.png', offset: '0' }, Buffer.from('abc'))).body).error.code).toBe('NOT_FOUND');
  });

  it('refuses pieces that are too large, untyped or unsigned, and anyone but an admin', async () => {
    const batch = await begin([{ path: 'x.png', size: 3 }]);
    const q = { id: batch.id, path: 'x.png', offset: '0' };
    expect((await put(server.token, q, Buffer.from('abc'), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await put(server.token, q, Buffer.alloc(0), { 'content-length': String(UPLOAD_CHUNK_BYTES + 1) })).status).toBe(413);
    expect((await put('wrong', q, Buffer.from('abc'))).status).toBe(401);
    expect((await rawRequest(server.port, { method: 'POST', path: `${UPLOAD_PATH}?x=1`, headers: { host: `127.0.0.1:${server.port}` } })).status).toBe(405);
    const annotator = s.service.current()!.db;
    const ana = addAccount(annotator, 'ana-upload', 'annotator');
    const refused = JSON.parse((await put(ana, q, Buffer.from('abc'))).body);
    expect(refused.error).toEqual({ code: 'FORBIDDEN', message: 'Uploads need the admin role; ana-upload is signed in as an annotator.' });
    expect(fs.existsSync(path.join(batch.dir, 'x.png.part'))).toBe(false);
  });

  it('discards an unfinished upload and what arrived of it', async () => {
    const batch = await begin([
      { path: 'd/a.png', size: 3 },
      { path: 'd/b.png', size: 3 },
    ]);
    await sendFile(batch.id, 'd/a.png', Buffer.from('abc'));
    expect(fs.existsSync(path.join(batch.dir, 'd', 'a.png'))).toBe(true);
    expect(await call('uploads.discard', { id: batch.id })).toEqual({ ok: true, value: null });
    expect(fs.existsSync(batch.dir)).toBe(false);
    expect((await call('uploads.finish', { id: batch.id })) as unknown).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
