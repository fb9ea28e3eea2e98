import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { importedProject } from '../fixtures/project.ts';
import { jobState } from './browser.ts';
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
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe('12 of 12 shown · 0 unlabelled in the project');
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
    // Every kappa says how many images it rests on; the colours have a legend; confusions are grids.
    expect(await page.getByTestId('kappa-n-Dr A-imported').textContent()).toBe('n = 4 (few)');
    expect(await page.getByTestId('kappa-legend').textContent()).toContain('0.8 substantial');
    expect(await page.getByTestId('confusion-Dr A').locator('tbody tr').count()).toBeGreaterThan(1);
    expect(await page.getByTestId('vs-consensus').locator('tbody tr').count()).toBe(2);
    // Two label sources: the consensus cannot tell which of two is right, and the screen says so.
    expect(await page.getByTestId('consensus-caution').textContent()).toMatch(/^Only 2 label sources: where two disagree/);
  });

  it('trains on the majority of the annotators from the training form, and the report says so', async () => {
    await page.getByTestId('nav-results').click();
    await page.getByTestId('extract-start').click();
    await expect.poll(() => page.getByTestId('extract-note').textContent(), { timeout: 120_000 }).toMatch(/^12 images embedded/);
    await page.getByTestId('train-consensus').click();
    await page.getByRole('option', { name: 'Majority of the annotators' }).click();
    await page.getByTestId('train-start').click();
    await expect.poll(() => jobState(page), { timeout: 120_000 }).toBe('train done');
    // Two annotators per relabelled image: a tie keeps the latest label, so the majority changes none here.
    await expect
      .poll(() => page.getByTestId('run-consensus').textContent())
      .toBe('Labels: the majority consensus of the annotators (0 images differ from their latest label).');
    const config = JSON.parse(served.read((p) => p.db.prepare('SELECT config FROM runs ORDER BY id DESC LIMIT 1').pluck().get()) as string);
    expect(config.consensus).toBe('majority');
  });
});
