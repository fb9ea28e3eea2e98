import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type Server } from '../../src/main/api/http.ts';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import { FieldsRepo } from '../../src/main/db/repos/fieldsRepo.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { Project } from '../../src/main/project.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { launch } from './browser.ts';

const RENDERER = path.resolve(__dirname, '../../out/renderer');
let browser: Browser;
let tmp: ReturnType<typeof tempDir>;
let server: Server;
let service: Service;
let projectDir: string;
let page: Page;

beforeAll(async () => {
  if (!fs.existsSync(path.join(RENDERER, 'index.html'))) throw new Error('Build the renderer first: npm run build (npm test does).');
  browser = await launch();
});
afterAll(async () => browser?.close());

// A fresh generated project and server per test.
beforeEach(async () => {
  tmp = tempDir();
  const images = path.join(tmp.dir, 'images');
  const fakes = await makeImages(images, 30, 4, 48);
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes.slice(0, 24)));
  projectDir = path.join(tmp.dir, 'p');
  const p = Project.create(projectDir).project;
  await runImport(p, await planImport({ imagesDir: images, metadataPath: path.join(tmp.dir, 'm.csv') }, p.dir));
  p.close();
  service = new Service({}, new RecentProjects(path.join(tmp.dir, 'recent.json')));
  service.openProject(projectDir);
  server = await startServer({ service, rendererDir: RENDERER, port: 0 });
  page = await browser.newPage();
});
afterEach(async () => {
  await page.close();
  await server.close();
  await service.close();
  tmp.cleanup();
});

function readDb<T>(fn: (p: Project) => T): T {
  const p = Project.open(projectDir);
  try {
    return fn(p);
  } finally {
    p.close();
  }
}

describe('annotator workbench in serve mode', () => {
  it('shows the grid and counts, filters unlabelled, labels by number key, undoes with Ctrl+Z', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe('30 of 30 shown · 6 unlabelled in the project');
    await page.getByTestId('filter-unlabelled').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe('6 of 30 shown · 6 unlabelled in the project');
    // The panel follows the grid to the first unlabelled image.
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('none');
    const first = (await page.getByTestId('detail-id').textContent())!;
    // Class order is bcc, mel, nev: key 2 is mel.
    await page.keyboard.press('2');
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('mel');
    await expect.poll(() => page.getByTestId('counts').textContent()).toContain('5 unlabelled');
    const stored = readDb((p) =>
      p.db
        .prepare(
          `SELECT c.name, a.source FROM annotations a JOIN classes c ON c.id = a.class_id JOIN images i ON i.id = a.image_id WHERE i.external_id = ? ORDER BY a.id DESC LIMIT 1`,
        )
        .get(first),
    );
    expect(stored).toEqual({ name: 'mel', source: 'user' });
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('none');
    await expect.poll(() => page.getByTestId('counts').textContent()).toContain('6 unlabelled');
    // Arrows move through the filtered images.
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByTestId('detail-id').textContent()).not.toBe(first);
  });

  it('refuses an invalid age with the reason, saves a valid one, and both survive a reload as they should', async () => {
    readDb((p) => p.db.prepare('UPDATE fields SET min = 0, max = 120 WHERE name = ?').run('age'));
    await page.goto(server.url);
    await page.getByTestId('filter-all').click();
    const id = (await page.getByTestId('detail-id').textContent())!;
    const age = page.getByTestId('field-age');
    await age.fill('300');
    await age.press('Enter');
    await expect.poll(() => page.getByText('age: 300 is above the maximum 120').count()).toBe(1);
    await age.fill('42');
    await age.press('Enter');
    await expect
      .poll(() =>
        readDb((p) => {
          const f = new FieldsRepo(p.db).get('age')!;
          const img = p.db.prepare('SELECT id FROM images WHERE external_id = ?').pluck().get(id) as number;
          return new FieldsRepo(p.db).value(img, f);
        }),
      )
      .toEqual({ value: 42, source: 'user' });
    await page.reload();
    await expect.poll(() => page.getByTestId('detail-id').textContent()).toBe(id);
    await expect.poll(() => page.getByTestId('field-age').inputValue()).toBe('42');
    const edits = readDb((p) => p.db.prepare(`SELECT new_value, author FROM field_edits WHERE source = 'user'`).all());
    expect(edits).toHaveLength(1);
    expect(edits[0]).toMatchObject({ new_value: '42' });
  });

  it('records the annotator name set in the header with the next edit', async () => {
    await page.goto(server.url);
    await page.getByTestId('filter-unlabelled').click();
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('none');
    const id = (await page.getByTestId('detail-id').textContent())!;
    await page.getByTestId('annotator').fill('Dr. Ana Lima');
    await page.getByTestId('annotator').press('Enter');
    await expect.poll(() => readDb((p) => p.db.prepare(`SELECT value FROM settings WHERE key = 'annotator'`).pluck().get())).toBe('Dr. Ana Lima');
    await page.keyboard.press('1');
    await expect
      .poll(() =>
        readDb((p) =>
          p.db
            .prepare(`SELECT a.author FROM annotations a JOIN images i ON i.id = a.image_id WHERE i.external_id = ? ORDER BY a.id DESC LIMIT 1`)
            .pluck()
            .get(id),
        ),
      )
      .toBe('Dr. Ana Lima');
  });

  it('refuses requests without the token, image requests outside the project, and foreign Host headers', async () => {
    const base = server.url.split('?')[0]!;
    // The app's code is public (it holds no data); every call and every image needs the token.
    expect((await fetch(base)).status).toBe(200);
    expect((await fetch(`${base}api/project.info`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    expect((await fetch(`${base}media/thumb/1`)).status).toBe(401);
    const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    expect((await fetch(`${base}api/project.info`, { method: 'POST', body: '{}', headers: auth })).status).toBe(200);
    expect((await fetch(`${base}media/thumb/1`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${base}media/image/99999`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}media/image/..%2F..%2Fproject.sqlite`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}..%2Fp%2Fproject.sqlite`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}%2Fetc%2Fpasswd`, { headers: auth })).status).toBe(404);
    // fetch() may not set Host; a raw request can, as a DNS-rebinding page would make the browser do.
    const rebinding = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, path: '/api/project.info', method: 'POST', headers: { ...auth, host: 'evil.example:80' } },
        (res) => resolve(res.statusCode!),
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(rebinding).toBe(403);
    // A malformed call is refused by the contract's validation, naming the field.
    const bad = (await (await fetch(`${base}api/labels.set`, { method: 'POST', body: JSON.stringify({ imageId: 'x' }), headers: auth })).json()) as {
      ok: boolean;
      error: { code: string; message: string };
    };
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(bad.error.message).toMatch(/imageId/);
  });
});
