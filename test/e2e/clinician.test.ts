import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { fusionProject } from '../fixtures/fusionData.ts';
import { tempDir } from '../fixtures/generate.ts';
import { jobState } from './browser.ts';
import { servedPage, type Served, type ServedPage } from './serveProject.ts';

/**
 * The workbench as a clinician meets it (issue 25), in one browser session on one small project: photos that say
 * nothing (so metadata alone is best), a CSV of one's own to import into it, and the screens read in plain words.
 */
const tmp = tempDir();
let served: Served;
let page: Page;
let session: ServedPage;
const option = (name: string) => page.getByRole('option', { name, exact: true });

beforeAll(async () => {
  const p = await fusionProject(tmp.dir, 80, 3, 0.4, 0);
  await trainRun(p, { label: 'diagnosis_label', positive: null, fields: ['age', 'site'], group: 'patient', folds: 3, backbone: null, seed: 1 });
  const dir = p.dir;
  p.close();
  // A CSV of one's own for ten of the photos: other column names, a short row and a row without a photo.
  const rows = fs.readFileSync(path.join(tmp.dir, 'meta.csv'), 'utf8').trim().split('\n').slice(1, 11);
  const own = ['name,diagnosis,location,age', ...rows.map((r) => r.split(',')).map((c) => [c[0], c[1], c[5], c[4]].join(','))];
  own[3] = own[3]!.split(',').slice(0, 3).join(',');
  own.push('NOT_A_PHOTO,MEL,BACK,50');
  fs.mkdirSync(path.join(tmp.dir, 'data'));
  fs.writeFileSync(path.join(tmp.dir, 'data', 'own.csv'), own.join('\n') + '\n');
  session = await servedPage(dir, tmp.dir, { access: { pinned: true, dataRoots: [tmp.dir] } });
  ({ served, page } = session);
}, 120_000);
afterAll(async () => {
  await session?.close();
  tmp.cleanup();
});

describe('the workbench as a clinician uses it', () => {
  it('says in plain words that the photos add nothing when metadata alone is best', async () => {
    await page.goto(served.server.url);
    await page.getByTestId('nav-results').click();
    await expect
      .poll(() => page.getByTestId('verdict').textContent())
      .toMatch(/^Fused is no better than metadata alone here: the photos add nothing measurable \(fused − metadata = -?0\.\d{3} AUC/);
    expect(await page.getByTestId('mode-metadata').getByTestId('best-mode').count()).toBe(1);
  });

  it('imports a CSV of one’s own, chosen in the data folders, into the existing label set and fields', async () => {
    await page.getByTestId('nav-import').click();
    await page.getByTestId('browse-images').click();
    await page.getByTestId(`folder-${path.basename(tmp.dir)}`).click();
    await page.getByTestId('folder-images').click();
    await expect.poll(() => page.getByTestId('folder-browser-dir').textContent()).toBe(fs.realpathSync(path.join(tmp.dir, 'images')));
    await page.getByTestId('folder-choose').click();
    await page.getByTestId('browse-csv').click();
    await page.getByTestId(`folder-${path.basename(tmp.dir)}`).click();
    await page.getByTestId('folder-data').click();
    await page.getByTestId('csv-own.csv').click();
    await page.getByTestId('import-preview').click();
    // No preset knows these columns: the id is chosen from a dropdown, and Import waits for it.
    await expect.poll(() => page.getByTestId('import-waiting').textContent()).toMatch(/^Choose which column holds the image id/);
    expect(await page.getByTestId('import-start').isDisabled()).toBe(true);
    await page.getByTestId('map-name').click();
    await option('Image id').click();
    await page.getByTestId('map-diagnosis').click();
    await option('Label').click();
    await expect
      .poll(() => page.getByTestId('plan-label-set-note').textContent())
      .toBe('The existing label set “diagnosis_label”: every label value (MEL, NEV) is one of its classes.');
    await expect.poll(() => page.getByTestId('map-location').inputValue()).toBe('Existing field “site”');
    expect(await page.getByTestId('map-proposal-location').textContent()).toBe('proposed: same meaning as "site"');
    // Each problem names its row, column and value.
    await expect.poll(() => page.getByTestId('problem-line-4').textContent()).toMatch(/^line 4row has 3 cells but the header has 4 columns/);
    expect(await page.getByTestId('problem-line-12').textContent()).toMatch(/^line 12nameNOT_A_PHOTOno image named "NOT_A_PHOTO"/);
    await expect.poll(() => page.getByTestId('import-start').isEnabled()).toBe(true);
    await page.getByTestId('import-start').click();
    await expect.poll(() => jobState(page), { timeout: 30_000 }).toBe('import done');
    expect(served.read((p) => p.db.prepare('SELECT name FROM label_sets').pluck().all())).toEqual(['diagnosis_label']);
    expect(served.read((p) => p.db.prepare('SELECT name FROM fields ORDER BY name').pluck().all())).toEqual(['age', 'note', 'site']);
  });
});
