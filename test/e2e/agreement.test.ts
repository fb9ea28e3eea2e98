import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { importedProject } from '../fixtures/project.ts';
import { servedPage, type Served, type ServedPage } from './serveProject.ts';

const tmp = tempDir();
let served: Served;
let page: Page;
let session: ServedPage;

beforeAll(async () => {
  const fakes = await makeImages(path.join(tmp.dir, 'images'), 12, 8, 32);
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes));
  const dir = path.join(tmp.dir, 'p');
  await importedProject(dir, path.join(tmp.dir, 'images'), path.join(tmp.dir, 'm.csv'));
  session = await servedPage(dir, tmp.dir);
  ({ served, page } = session);
}, 60_000);
afterAll(async () => {
  await session?.close();
  tmp.cleanup();
});

describe('agreement in serve mode', () => {
  it('a dermatologist relabels four imported images by key, and the agreement screen compares her with the imported labels', async () => {
    await page.goto(served.server.url);
    await page.getByTestId('annotator').fill('Dr A');
    await page.getByTestId('annotator').press('Enter');
    await expect.poll(() => served.read((p) => p.db.prepare(`SELECT value FROM settings WHERE key = 'annotator'`).pluck().get())).toBe('Dr A');
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe('12 of 12 shown, 0 unlabelled');
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('1');
      await expect.poll(() => served.read((p) => p.db.prepare(`SELECT COUNT(*) FROM annotations WHERE author = 'Dr A'`).pluck().get())).toBe(i + 1);
      const before = await page.getByTestId('detail-id').textContent();
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => page.getByTestId('detail-id').textContent()).not.toBe(before);
    }
    expect(served.read((p) => p.db.prepare(`SELECT COUNT(DISTINCT image_id) FROM annotations WHERE author = 'Dr A'`).pluck().get())).toBe(4);
    await page.getByTestId('nav-agreement').click();
    await expect
      .poll(() => page.getByTestId('agreement-summary').textContent())
      .toMatch(/^4 images labelled by two annotators or more\. Percent agreement [01]\.\d{3}; Fleiss' kappa /);
    expect(await page.getByTestId('kappa-Dr A-imported').textContent()).toMatch(/^-?[01]\.\d{3}$/);
    expect(await page.getByTestId('vs-consensus').locator('tbody tr').count()).toBe(2);
  });
});
