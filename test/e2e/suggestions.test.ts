import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Server } from '../../src/main/api/http.ts';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { exportBundle } from '../../src/main/ml/bundle/exportBundle.ts';
import { extractFeatures } from '../../src/main/ml/backbone/extract.ts';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { Project } from '../../src/main/project.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { makeTinyLayersModel } from '../fixtures/tinyModel.ts';
import { launch } from './browser.ts';

const RENDERER = path.resolve(__dirname, '../../out/renderer');
const tmp = tempDir();
let browser: Browser;
let server: Server;
let service: Service;
const projectDir = path.join(tmp.dir, 'p');
const bundle = path.join(tmp.dir, 'bundle');

beforeAll(async () => {
  browser = await launch();
  const images = path.join(tmp.dir, 'images');
  const fakes = await makeImages(images, 48, 6, 32);
  // 36 labelled images to train on; 12 left unlabelled for the model to suggest.
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes.slice(0, 36)));
  const p = Project.create(projectDir).project;
  await runImport(p, await planImport({ imagesDir: images, metadataPath: path.join(tmp.dir, 'm.csv') }, p.dir));
  const model = path.join(tmp.dir, 'tiny');
  await makeTinyLayersModel(model);
  await extractFeatures(p, model, { workers: 1 });
  const run = await trainRun(p, { label: 'dx', positive: null, fields: ['age', 'sex'], group: 'lesion', folds: 3, backbone: null, seed: 1 });
  await exportBundle(p, run.runId, 'fused', bundle);
  p.close();
  service = new Service({}, new RecentProjects(path.join(tmp.dir, 'recent.json')));
  service.openProject(projectDir);
  server = await startServer({ service, rendererDir: RENDERER });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  service?.close();
  tmp.cleanup();
});

describe('model suggestions in the workbench', () => {
  it('applies a bundle to the unlabelled images and accepts a suggestion with one key', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByTestId('filter-unlabelled').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe('12 of 48 shown · 12 unlabelled in the project');
    await page.getByTestId('bundle-path').fill(bundle);
    await page.getByTestId('apply-bundle').click();
    await expect.poll(() => page.getByTestId('apply-result').textContent(), { timeout: 30_000 }).toBe('12 suggestions');
    await expect.poll(() => page.getByTestId('detail-suggestion').textContent()).toMatch(/Suggested: (bcc|mel|nev) \(\d+%\)/);
    const suggested = /Suggested: (\w+)/.exec((await page.getByTestId('detail-suggestion').textContent())!)![1]!;
    const id = (await page.getByTestId('detail-id').textContent())!;
    await page.keyboard.press('a');
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain(suggested);
    await expect.poll(() => page.getByTestId('counts').textContent()).toContain('11 unlabelled');
    const p = Project.open(projectDir);
    try {
      const stored = p.db
        .prepare(
          `SELECT c.name, a.source FROM annotations a JOIN classes c ON c.id = a.class_id JOIN images i ON i.id = a.image_id WHERE i.external_id = ? ORDER BY a.id DESC LIMIT 1`,
        )
        .get(id);
      expect(stored).toEqual({ name: suggested, source: 'user' });
      expect(p.db.prepare('SELECT COUNT(*) FROM suggestions').pluck().get()).toBe(12);
      // The bundle's doubt ordered the 12 unlabelled images for labelling.
      expect(p.db.prepare('SELECT label_next FROM image_scores WHERE label_next IS NOT NULL ORDER BY label_next').pluck().all()).toEqual(
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
    } finally {
      p.close();
    }
    await page.getByTestId('filter-label-next').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe('11 of 48 shown · 11 unlabelled in the project');
    await expect.poll(() => page.getByTestId('label-next-note').textContent()).toMatch(/^ordered by uncertainty(\+diversity)? from bundle /);
    await page.close();
  });

  it('names what is wrong with a bundle path that is not a bundle', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByTestId('bundle-path').fill(tmp.dir);
    await page.getByTestId('apply-bundle').click();
    await expect.poll(() => page.getByTestId('browse-error').textContent()).toMatch(/not a DermFuse bundle \(no manifest\.json\)/);
    await page.close();
  });
});
