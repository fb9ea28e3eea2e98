import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Server } from '../../src/main/api/http.ts';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import { Project } from '../../src/main/project.ts';
import { RENDERER } from '../e2e/serveProject.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { apiCall, rawRequest, signInSession } from '../fixtures/rawHttp.ts';
import { importedProject } from '../fixtures/project.ts';

let tmp: ReturnType<typeof tempDir>;
let server: Server;
let service: Service;
let projectDir: string;
let dataDir: string;
let outsideDir: string;

const labelOf = (imageId: number): string | null => {
  const p = Project.open(projectDir);
  try {
    return (
      (p.db.prepare(`SELECT c.name FROM current_labels l JOIN classes c ON c.id = l.class_id WHERE l.image_id = ?`).pluck().get(imageId) as
        string | undefined) ?? null
    );
  } finally {
    p.close();
  }
};

beforeAll(async () => {
  tmp = tempDir();
  dataDir = path.join(tmp.dir, 'data');
  outsideDir = path.join(tmp.dir, 'outside');
  const fakes = await makeImages(path.join(dataDir, 'images'), 8, 2, 32);
  fs.writeFileSync(path.join(dataDir, 'm.csv'), hamCsv(fakes));
  await makeImages(outsideDir, 3, 5, 32);
  fs.writeFileSync(path.join(outsideDir, 'secret.csv'), 'root:x:0:0:root:/root:/bin/bash\n');
  fs.symlinkSync(outsideDir, path.join(dataDir, 'escape'));
  projectDir = path.join(tmp.dir, 'project');
  await importedProject(projectDir, path.join(dataDir, 'images'), path.join(dataDir, 'm.csv'));
  service = new Service({}, new RecentProjects(path.join(tmp.dir, 'recent.json')), { pinned: true, dataRoots: [dataDir] });
  service.openProject(projectDir);
  server = await startServer({ service, rendererDir: RENDERER, port: 0 });
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  tmp.cleanup();
});

describe('serve: no other page acts for the annotator', () => {
  it('refuses the cookie, a foreign Origin, a cross-site fetch and a text/plain body on the API; the label is unchanged', async () => {
    const before = labelOf(6);
    const other = before === 'mel' ? 'nev' : 'mel';
    const host = `127.0.0.1:${server.port}`;
    const body = JSON.stringify({ imageId: 6, className: other });
    // The reproduction from the issue: the cookie, a page on another local port, a "simple" (no preflight) request.
    const viaCookie = await rawRequest(server.port, {
      method: 'POST',
      path: '/api/labels.set',
      headers: { host, cookie: `dermfuse_token=${server.token}`, origin: 'http://127.0.0.1:8099', 'content-type': 'text/plain' },
      body,
    });
    expect(viaCookie.status).toBe(403);
    const cookieOnly = await rawRequest(server.port, {
      method: 'POST',
      path: '/api/labels.set',
      headers: { host, cookie: `dermfuse_token=${server.token}`, 'content-type': 'application/json' },
      body,
    });
    expect(cookieOnly.status).toBe(401);
    expect((await apiCall(server.port, server.token, 'labels.set', { imageId: 6, className: other }, { origin: 'http://127.0.0.1:8099' })).status).toBe(403);
    expect((await apiCall(server.port, server.token, 'labels.set', { imageId: 6, className: other }, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await apiCall(server.port, server.token, 'labels.set', { imageId: 6, className: other }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await apiCall(server.port, server.token, 'labels.set', { imageId: 6, className: other }, { 'content-type': 'text/plain' })).status).toBe(415);
    expect(labelOf(6)).toBe(before);
    // The renderer's own request: bearer, JSON, same origin.
    const own = await apiCall(
      server.port,
      server.token,
      'labels.set',
      { imageId: 6, className: other },
      { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
    );
    expect(own.status).toBe(200);
    expect(labelOf(6)).toBe(other);
  });

  it('scopes the cookie to /media, where it works for same-origin images and not for other sites', async () => {
    const page = await signInSession(server.port, server.token);
    expect(page.status).toBe(200);
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toMatch(/Path=\/media/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const jar = cookie.split(';')[0]!;
    const img = (site?: string) =>
      rawRequest(server.port, {
        path: '/media/thumb/1',
        headers: { host: `127.0.0.1:${server.port}`, cookie: jar, ...(site ? { 'sec-fetch-site': site } : {}) },
      });
    expect((await img('same-origin')).status).toBe(200);
    expect((await img('same-site')).status).toBe(403);
    expect((await img()).headers['cross-origin-resource-policy']).toBe('same-origin');
  });
});

describe('serve: the token opens the served project only', () => {
  it('refuses to open or create another project, and lists no other project folder', async () => {
    const open = JSON.parse((await apiCall(server.port, server.token, 'project.open', { dir: tmp.dir })).body);
    expect(open).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const created = JSON.parse((await apiCall(server.port, server.token, 'project.create', { dir: path.join(tmp.dir, 'remote') })).body);
    expect(created).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(fs.existsSync(path.join(tmp.dir, 'remote'))).toBe(false);
    const sample = JSON.parse((await apiCall(server.port, server.token, 'project.sample', { dir: path.join(tmp.dir, 'remote-sample') })).body);
    expect(sample).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(fs.existsSync(path.join(tmp.dir, 'remote-sample'))).toBe(false);
    const recent = JSON.parse((await apiCall(server.port, server.token, 'project.recent', {})).body);
    expect(recent).toEqual({ ok: true, value: [projectDir] });
  });

  it('reads imports, bundles and backbones only under --data, with links resolved, and never quotes a refused file', async () => {
    const call = async (name: string, body: unknown) =>
      JSON.parse((await apiCall(server.port, server.token, name, body)).body) as { ok: boolean; error?: { code: string; message: string } };
    const passwd = await call('import.plan', { imagesDir: path.join(dataDir, 'images'), metadataPath: '/etc/passwd' });
    expect(passwd).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(passwd.error!.message).toMatch(/metadataPath: \/etc\/passwd is outside the folders this server may read/);
    expect(passwd.error!.message).not.toMatch(/root:/);
    expect(await call('import.plan', { imagesDir: outsideDir })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // A link inside the data folder that points out of it is refused like the folder it points to.
    expect(await call('import.plan', { imagesDir: path.join(dataDir, 'escape') })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await call('import.plan', { imagesDir: path.join(dataDir, 'images'), metadataPath: path.join(dataDir, 'escape', 'secret.csv') })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await call('jobs.start', { kind: 'import', imagesDir: outsideDir })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await call('suggestions.apply', { bundle: outsideDir })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await call('jobs.start', { kind: 'extract', backbone: 'http://127.0.0.1:9/model.json' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await call('jobs.start', { kind: 'extract', backbone: outsideDir })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // Inside --data the preview works as on the desktop.
    const ok = (await call('import.plan', { imagesDir: path.join(dataDir, 'images'), metadataPath: path.join(dataDir, 'm.csv') })) as {
      ok: boolean;
      value?: { images: number };
    };
    expect(ok).toMatchObject({ ok: true, value: { images: 8 } });
  });

  it('previews a CSV whose columns fit no preset: the problem, and the columns to choose from', async () => {
    fs.writeFileSync(path.join(dataDir, 'odd.csv'), 'file,class\nIMG_00000,x\n');
    const r = JSON.parse(
      (await apiCall(server.port, server.token, 'import.plan', { imagesDir: path.join(dataDir, 'images'), metadataPath: path.join(dataDir, 'odd.csv') })).body,
    );
    expect(r.ok).toBe(true);
    expect(r.value.header).toEqual(['file', 'class']);
    expect(r.value.mapping).toBeNull();
    expect(r.value.problems[0].message).toMatch(/matches no preset/);
  });
});

describe('serve: malformed requests', () => {
  it('answers a malformed path or body with 400 and keeps serving', async () => {
    const host = `127.0.0.1:${server.port}`;
    expect((await rawRequest(server.port, { path: '/%E0%A4%A', headers: { host } })).status).toBe(400);
    expect(
      (
        await rawRequest(server.port, {
          method: 'POST',
          path: '/api/%E0%A4%A',
          headers: { host, authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await rawRequest(server.port, {
          method: 'POST',
          path: '/api/project.info',
          headers: { host, authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
          body: '{nope',
        })
      ).status,
    ).toBe(400);
    expect((await apiCall(server.port, server.token, 'project.info', {})).status).toBe(200);
  });
});
