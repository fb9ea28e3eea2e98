import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEntry } from '../../src/shared/team.ts';
import { BODY_TIMEOUT_MS, MAX_PER_TOKEN } from '../../src/main/api/httpGuard.ts';
import { addAccount } from '../../src/main/team/accounts.ts';
import { Project } from '../../src/main/project.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { importedProject } from '../fixtures/project.ts';
import { apiCall, rawRequest } from '../fixtures/rawHttp.ts';
import { serveProcess, type ServeProcess } from '../fixtures/serveProcess.ts';

/** Attacks on a real `dermfuse serve` process by a signed-in insider: swapped files, slow requests, aborted ones. */
const tmp = tempDir();
const data = path.join(tmp.dir, 'data');
let projectDir: string;
let annotatorToken: string;
let s: ServeProcess;

beforeAll(async () => {
  const fakes = await makeImages(path.join(data, 'images'), 6, 5, 32);
  fs.writeFileSync(path.join(data, 'm.csv'), hamCsv(fakes));
  projectDir = path.join(tmp.dir, 'project');
  await importedProject(projectDir, path.join(data, 'images'), path.join(data, 'm.csv'));
  const p = Project.open(projectDir);
  annotatorToken = addAccount(p.db, 'mallory', 'annotator');
  p.close();
  s = await serveProcess(projectDir, { args: ['--data', data] });
}, 60_000);
afterAll(async () => {
  await s?.stop();
  tmp.cleanup();
});

const media = (id: number, token = annotatorToken) =>
  rawRequest(s.port, { path: `/media/image/${id}`, headers: { host: `127.0.0.1:${s.port}`, authorization: `Bearer ${token}` } });
const imageFiles = () => fs.readdirSync(path.join(data, 'images')).sort();

describe('served photos are checked when served', () => {
  it('serves a photo with no-store, then refuses it once swapped for a link out of the folders or a FIFO, and logs why', async () => {
    const ok = await media(1);
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    // Which file is image 1: the one whose bytes were served.
    const file = imageFiles()
      .map((f) => path.join(data, 'images', f))
      .find((f) => fs.readFileSync(f).toString('latin1') === ok.body || fs.statSync(f).size === Number(ok.headers['content-length']))!;
    fs.rmSync(file);
    fs.symlinkSync('/etc/passwd', file);
    const swapped = await media(1);
    expect(swapped.status).toBe(404);
    expect(swapped.body).not.toMatch(/root:/);
    fs.rmSync(file);
    execFileSync('mkfifo', [file]);
    const started = Date.now();
    expect((await media(1)).status).toBe(404);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The server's log reaches this process through a pipe, a moment after the answer.
    await expect.poll(() => s.stderr()).toMatch(/refused image of image 1: .* resolves to \/etc\/passwd, outside the folders this server may read/);
    await expect.poll(() => s.stderr()).toMatch(/refused image of image 1: .* is not a regular file/);
  });

  it('keeps the folders it resolved: an import folder swapped for a link elsewhere serves nothing', async () => {
    expect((await media(3)).status).toBe(200);
    const images = path.join(data, 'images');
    const secret = path.join(tmp.dir, 'secret');
    fs.cpSync(images, secret, { recursive: true, filter: (f) => !fs.lstatSync(f).isFIFO() });
    fs.renameSync(images, `${images}.orig`);
    fs.symlinkSync(secret, images);
    try {
      expect((await media(3)).status).toBe(404);
    } finally {
      fs.rmSync(images);
      fs.renameSync(`${images}.orig`, images);
    }
    expect((await media(3)).status).toBe(200);
  });

  it('records full photos served in the access log, with who and from where; refused sign-ins too', async () => {
    expect((await media(2, 'f'.repeat(48))).status).toBe(401);
    await media(2);
    const r = await apiCall(s.port, s.token, 'team.activity', { who: 'mallory' });
    const rows = (JSON.parse(r.body) as { value: ActivityEntry[] }).value;
    const all = (JSON.parse((await apiCall(s.port, s.token, 'team.activity', {})).body) as { value: ActivityEntry[] }).value;
    expect(all.find((e) => e.outcome === '401')).toMatchObject({ who: '(not signed in)', action: '/media/image/2', origin: '127.0.0.1' });
    expect(rows.filter((e) => e.action === 'media.image').map((e) => [e.imageId, e.outcome, e.origin])).toEqual(
      expect.arrayContaining([
        [2, 'ok', '127.0.0.1'],
        [1, 'NOT_FOUND', '127.0.0.1'],
      ]),
    );
  });
});

describe('no client can stall the server for the others', () => {
  it(`170 slow requests on one token: at most ${MAX_PER_TOKEN} are held (the rest get 429), the owner's calls answer in under a second`, async () => {
    const sockets: net.Socket[] = [];
    const replies: string[] = [];
    const answered = new Set<net.Socket>();
    try {
      for (let i = 0; i < 170; i++) {
        const sock = net.connect(s.port, '127.0.0.1');
        sock.on('error', () => undefined);
        sock.on('data', (d) => {
          answered.add(sock);
          replies.push(d.toString().split('\r\n')[0]!);
        });
        sock.write(
          `POST /api/project.info HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: Bearer ${annotatorToken}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
        );
        sockets.push(sock);
      }
      const drip = setInterval(() => sockets.forEach((sock) => sock.writable && sock.write(' ')), 2_000);
      const times: number[] = [];
      try {
        await new Promise((r) => setTimeout(r, 1_000));
        // Held by the server: still open, no answer. The others were answered 429 (or closed as idle at the cap).
        expect(sockets.filter((sock) => !sock.destroyed && !answered.has(sock)).length).toBeLessThanOrEqual(MAX_PER_TOKEN);
        const until = Date.now() + BODY_TIMEOUT_MS + 1_000;
        while (Date.now() < until) {
          const t0 = Date.now();
          const r = await apiCall(s.port, s.token, 'team.me', {});
          times.push(Date.now() - t0);
          expect(r.status).toBe(200);
          await new Promise((res) => setTimeout(res, 250));
        }
      } finally {
        clearInterval(drip);
      }
      expect(Math.max(...times)).toBeLessThan(1_000);
      expect(replies.filter((l) => l.startsWith('HTTP/1.1 429')).length).toBeGreaterThan(100);
      // The held ones were answered 408 and cut when their body deadline passed.
      expect(replies.filter((l) => l.startsWith('HTTP/1.1 408')).length).toBeGreaterThan(0);
      expect(sockets.filter((sock) => !sock.destroyed && sock.readyState === 'open').length).toBe(0);
    } finally {
      for (const sock of sockets) sock.destroy();
    }
    // The token works again at once.
    expect((await apiCall(s.port, annotatorToken, 'team.me', {})).status).toBe(200);
  }, 30_000);

  it('a client that leaves mid-request costs one log line, not a stack trace', async () => {
    await new Promise<void>((resolve) => {
      const sock = net.connect(s.port, '127.0.0.1', () => {
        sock.write(
          `POST /api/project.info HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a`,
        );
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 200);
      });
      sock.on('error', () => undefined);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await apiCall(s.port, s.token, 'team.me', {})).status).toBe(200);
    expect(s.stderr()).not.toMatch(/ {4}at /);
  });
});
