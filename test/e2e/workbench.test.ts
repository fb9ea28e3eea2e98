import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hamCsv, makeImages, tempDir, type FakeImage } from '../fixtures/generate.ts';
import { jobState, launch } from './browser.ts';
import { serveProject, type Served } from './serveProject.ts';

let browser: Browser;
let tmp: ReturnType<typeof tempDir>;
let served: Served;
let page: Page;
let fakes: FakeImage[];
let images: string;
let csv: string;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

// A fresh, empty project per test: the test imports through the UI.
beforeEach(async () => {
  tmp = tempDir();
  images = path.join(tmp.dir, 'images');
  fakes = await makeImages(images, 30, 11, 48);
  csv = path.join(tmp.dir, 'metadata.csv');
  fs.writeFileSync(csv, hamCsv(fakes.slice(0, 26), 2));
  served = await serveProject(path.join(tmp.dir, 'p'), tmp.dir);
  page = await browser.newPage();
});
afterEach(async () => {
  await page.close();
  await served.close();
  tmp.cleanup();
});

async function importThroughUi(): Promise<void> {
  await page.goto(served.server.url);
  // An empty project opens on the import screen.
  await page.getByTestId('import-images').fill(images);
  await page.getByTestId('import-csv').fill(csv);
  await page.getByTestId('import-preview').click();
  await expect.poll(() => page.getByTestId('plan-preset').textContent()).toBe('ham10000');
  expect(await page.getByTestId('plan-images').textContent()).toBe('30 images');
  expect(await page.getByTestId('plan-matched').textContent()).toBe('26 rows matched');
  // Each column's fate is a dropdown; the mapping is previewed again before Import is offered.
  await expect.poll(() => page.getByTestId('map-age').inputValue(), { timeout: 15_000 }).toBe('New field “age”');
  expect(await page.getByTestId('map-type-age').inputValue()).toBe('number');
  expect(await page.getByTestId('map-image_id').inputValue()).toBe('Image id');
  // The two rows without an image are named by line, column and value.
  await expect.poll(() => page.getByTestId('plan-problem-count').textContent(), { timeout: 15_000 }).toBe('2 problems found');
  expect(await page.getByTestId('problem-line-28').textContent()).toBe(
    'line 28image_idMISSING_0no image named "MISSING_0" in the image folder; the row is not imported (check the id, or the folder)',
  );
  await expect.poll(() => page.getByTestId('import-start').isEnabled(), { timeout: 15_000 }).toBe(true);
  // Nothing is written before the import starts.
  expect(served.read((p) => p.db.prepare('SELECT COUNT(*) FROM images').pluck().get())).toBe(0);
  await page.getByTestId('import-start').click();
  await expect.poll(() => jobState(page), { timeout: 30_000 }).toBe('import done');
  await expect.poll(() => page.getByTestId('import-summary').textContent()).toContain('30 added');
  // The problems stay listed after the import, row by row, not folded into the first one's sentence.
  expect(await page.getByTestId('import-summary').textContent()).toMatch(/ \d+ problems?, listed below\.$/);
  await expect.poll(() => page.getByTestId('import-problem-count').textContent()).toMatch(/^\d+ problems? in the import$/);
  expect(await page.getByTestId('import-problems').locator('tbody tr').count()).toBeGreaterThan(0);
  expect(await page.getByTestId('import-problems').textContent()).toContain('MISSING_0');
  await page.getByTestId('nav-browse').click();
  await expect.poll(() => page.getByTestId('counts').textContent()).toBe('30 of 30 shown · 4 unlabelled in the project');
}

describe('workbench in serve mode', () => {
  it('imports through the import screen with a preview, then filters by age and sex and sorts by age', async () => {
    await importThroughUi();
    await page.getByTestId('show-filters').click();
    await page.getByTestId('filter-min-age').fill('40');
    const fromDb = served.read((p) =>
      p.db.prepare(`SELECT COUNT(*) FROM field_values v JOIN fields f ON f.id = v.field_id WHERE f.name = 'age' AND v.num >= 40`).pluck().get(),
    );
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe(`${fromDb} of 30 shown · 4 unlabelled in the project`);
    await expect.poll(() => page.getByTestId('chip-age').textContent()).toBe('age ≥ 40');
    await page.getByTestId('filter-values-sex').click();
    await page.getByRole('option', { name: /^male/ }).click();
    await page.keyboard.press('Escape');
    const both = served.read((p) =>
      p.db
        .prepare(
          `SELECT COUNT(*) FROM images i WHERE i.id IN (SELECT image_id FROM field_values v JOIN fields f ON f.id = v.field_id WHERE f.name = 'age' AND v.num >= 40)
        AND i.id IN (SELECT image_id FROM field_values v JOIN fields f ON f.id = v.field_id WHERE f.name = 'sex' AND v.text = 'male')`,
        )
        .pluck()
        .get(),
    );
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe(`${both} of 30 shown · 4 unlabelled in the project`);
    // Sorted by age, oldest first: the panel shows the oldest matching image.
    await page.getByTestId('chip-sex').locator('button').click();
    await page.getByTestId('sort-by').click();
    await page.getByRole('option', { name: 'age', exact: true }).click();
    await page.getByTestId('sort-dir').click();
    const oldest = Math.max(...fakes.slice(0, 26).map((f) => f.age ?? -1));
    await expect.poll(() => page.getByTestId('field-age').inputValue()).toBe(String(oldest));
  });

  it('labels three images selected with Ctrl+click by one key, undoes all three with Ctrl+Z', async () => {
    await importThroughUi();
    const ids = ['0', '1', '2'].map((k) => fakes.map((f) => f.id).sort()[Number(k)]!);
    await page.getByTestId(`cell-${ids[0]}`).click();
    await page.getByTestId(`cell-${ids[1]}`).click({ modifiers: ['Control'] });
    await page.getByTestId(`cell-${ids[2]}`).click({ modifiers: ['Control'] });
    await expect.poll(() => page.getByTestId('batch-count').textContent()).toBe('3 selected');
    const labelOf = (id: string) =>
      served.read(
        (p) =>
          p.db
            .prepare(`SELECT c.name FROM current_labels l JOIN images i ON i.id = l.image_id LEFT JOIN classes c ON c.id = l.class_id WHERE i.external_id = ?`)
            .pluck()
            .get(id) ?? null,
      );
    const before = ids.map(labelOf);
    // Key 3 is the third class, nev.
    await page.keyboard.press('3');
    await expect.poll(() => ids.map(labelOf)).toEqual(['nev', 'nev', 'nev']);
    await page.keyboard.press('Control+z');
    await expect.poll(() => ids.map(labelOf)).toEqual(before);
  });

  it('opens the lesion large, zooms to original resolution, and shows the other images of the lesion', async () => {
    await importThroughUi();
    const withSibling = fakes.slice(0, 26).find((f) => fakes.slice(0, 26).some((g) => g !== f && g.lesion === f.lesion));
    expect(withSibling).toBeDefined();
    await page.getByTestId('search').fill(withSibling!.id);
    await expect.poll(() => page.getByTestId('detail-id').textContent()).toBe(withSibling!.id);
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('toggle-large').textContent()).toContain('Smaller');
    await page.getByTestId('zoom-in').click();
    await page.getByTestId('zoom-in').click();
    await expect.poll(async () => Number(await page.getByTestId('zoom-box').getAttribute('data-scale'))).toBeGreaterThan(1);
    const sibling = served.read((p) =>
      p.db
        .prepare(`SELECT id FROM images WHERE lesion_id = (SELECT lesion_id FROM images WHERE external_id = ?) AND external_id <> ? LIMIT 1`)
        .pluck()
        .get(withSibling!.id, withSibling!.id),
    ) as number;
    await page.getByTestId(`related-${sibling}`).click();
    await expect.poll(() => page.getByTestId('detail-id').textContent()).not.toBe(withSibling!.id);
  });

  it('edits hotkeys and colours in the label-set editor; the new key labels in the browser', async () => {
    await importThroughUi();
    await page.getByTestId('nav-labels').click();
    await page.getByTestId('hotkey-mel').fill('m');
    await page.getByTestId('hotkey-nev').fill('2');
    await page.getByTestId('hotkey-bcc').fill('m');
    await page.getByTestId('labelset-save').click();
    await expect.poll(() => page.getByTestId('labelset-error').textContent()).toContain('both use the key "m"');
    await page.getByTestId('hotkey-bcc').fill('b');
    await page.getByTestId('add-target').click();
    await page.getByTestId('target-name-0').fill('malignant');
    await page.getByTestId('target-classes-0').click({ force: true });
    await page.getByRole('option', { name: 'mel' }).click();
    await page.getByRole('option', { name: 'bcc' }).click();
    await page.keyboard.press('Escape');
    await page.getByTestId('labelset-save').click();
    await expect.poll(() => page.getByTestId('labelset-saved').count()).toBe(1);
    expect(served.read((p) => p.db.prepare(`SELECT name, classes FROM derived_targets`).all())).toEqual([{ name: 'malignant', classes: '["mel","bcc"]' }]);
    await page.getByTestId('nav-browse').click();
    await page.getByTestId('filter-unlabelled').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe('4 of 30 shown · 4 unlabelled in the project');
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('none');
    await expect.poll(() => page.getByTestId('filter-mel').textContent()).toMatch(/^m · mel/);
    await page.keyboard.press('m');
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('mel');
  });
});
