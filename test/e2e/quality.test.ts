import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { copiesDataset } from '../fixtures/plant.ts';
import { importGeneric } from '../fixtures/project.ts';
import { jobState } from './browser.ts';
import { servedPage, type Served, type ServedPage } from './serveProject.ts';

const tmp = tempDir();
let served: Served;
let page: Page;
let session: ServedPage;

beforeAll(async () => {
  const { images, csv } = await copiesDataset(tmp.dir, 40);
  const dir = path.join(tmp.dir, 'p');
  const p = Project.create(dir).project;
  await importGeneric(p, images, csv, 'dx');
  p.close();
  session = await servedPage(dir, tmp.dir);
  ({ served, page } = session);
}, 120_000);
afterAll(async () => {
  await session?.close();
  tmp.cleanup();
});

describe('data quality in serve mode', () => {
  it('scans, shows the copies across patients, confirms one by key and dismisses one, and the next run keeps the confirmed copy in one fold', async () => {
    await page.goto(served.server.url);
    await page.getByTestId('nav-quality').click();
    await expect.poll(() => page.getByTestId('scan-summary').textContent()).toMatch(/^No scan yet/);
    await page.getByTestId('scan-start').click();
    await expect.poll(() => jobState(page), { timeout: 120_000 }).toBe('quality done');
    await expect
      .poll(() => page.getByTestId('scan-summary').textContent())
      .toMatch(/: 44 images, 4 near-duplicate pairs in 4 groups \(4 across patients, 0 with disagreeing labels\), 1 outliers\.$/);
    expect(await page.getByTestId('scan-rule').textContent()).toMatch(/^Near-duplicate when cosine − 0\.022 × hash bits ≥ 0\.47/);
    await expect.poll(() => page.getByTestId('group-table').locator('tr').count()).toBe(4);

    // The first group is in focus: S confirms it, then the next one is dismissed with its button.
    const first = await page.getByTestId('group-table').locator('tr').first().getAttribute('data-testid');
    const firstId = Number(first!.replace('group-', ''));
    expect(await page.getByTestId('group-detail').locator('img').count()).toBe(2);
    await page.keyboard.press('s');
    // Confirmed, it leaves the "to review" list.
    await expect.poll(() => page.getByTestId('group-table').locator('tr').count()).toBe(3);
    await page.getByTestId('group-different').click();
    await expect.poll(() => page.getByTestId('group-table').locator('tr').count()).toBe(2);
    await page.getByTestId('group-view').getByText('Dismissed (1)').click();
    await expect.poll(() => page.getByTestId('group-table').locator('tr').count()).toBe(1);
    await page.getByTestId('group-view').getByText('Confirmed (1)').click();
    await expect.poll(() => page.getByTestId(`group-status-${firstId}`).textContent()).toBe('confirmed');
    const reviews = served.read((p) => p.db.prepare('SELECT decision, author FROM duplicate_reviews ORDER BY id').all()) as {
      decision: string;
      author: string;
    }[];
    expect(reviews.map((r) => r.decision)).toEqual(['same', 'different']);
    expect(reviews.every((r) => r.author.length > 0)).toBe(true);

    // The browser offers the scan's outliers and the groups still to review.
    await page.getByTestId('nav-browse').click();
    await page.getByTestId('filter-duplicates').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).toMatch(/^4 of 44 shown/);
    await page.getByTestId('filter-outliers').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).toMatch(/^1 of 44 shown/);

    await page.getByTestId('nav-results').click();
    await page.getByTestId('train-start').click();
    await expect.poll(() => jobState(page), { timeout: 120_000 }).toBe('train done');
    // One confirmed and two unreviewed pairs merged; the dismissed one not.
    await expect
      .poll(() => page.getByTestId('run-duplicates').textContent())
      .toMatch(
        /^\d+ near-duplicate pairs crossed folds before merging; 3 of 3 pairs joined two patients and were kept in one fold \(confirmed and unreviewed pairs\)\.$/,
      );
    const pairFolds = served.read((p) =>
      p.db
        .prepare(
          `SELECT (SELECT fold FROM run_predictions WHERE run_id = r.id AND image_id = d.a) AS fa, (SELECT fold FROM run_predictions WHERE run_id = r.id AND image_id = d.b) AS fb
           FROM duplicate_reviews d, (SELECT MAX(id) AS id FROM runs) r WHERE d.decision = 'same'`,
        )
        .get(),
    ) as { fa: number; fb: number };
    expect(pairFolds.fa).toBe(pairFolds.fb);
  });
});
