import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainRun } from '../../src/main/ml/fusion/train.ts';
import { repoOf } from '../../src/main/db/open.ts';
import { LabelsRepo } from '../../src/main/db/repos/labelsRepo.ts';
import { fusionProject } from '../fixtures/fusionData.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { jobOnBar, jobState } from './browser.ts';
import { RENDERER, servedPage, type Served, type ServedPage } from './serveProject.ts';
import { startServer } from '../../src/main/api/http.ts';

/**
 * The workbench as a clinician meets it (issue 25), in one browser session on one small project: photos that say
 * nothing (so metadata alone is best), a CSV of one's own to import into it, and the screens read in plain words.
 */
const tmp = tempDir();
let served: Served;
let page: Page;
let session: ServedPage;
// What the functions run in the page use of the DOM (this file compiles without the DOM library).
interface El {
  parentElement: El | null;
  childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
  querySelectorAll(selector: string): ArrayLike<El>;
  getAttribute(name: string): string | null;
}
declare const document: { querySelectorAll(selector: string): ArrayLike<El>; activeElement: El | null };
declare function getComputedStyle(el: El): { backgroundColor: string; color: string; outlineStyle: string; outlineWidth: string };

const option = (name: string) => page.getByRole('option', { name, exact: true });

/**
 * WCAG contrast of the text of every class chip and badge in the page against what is behind it (translucent
 * backgrounds composed over their parents'), computed by the browser from the styles it applies.
 */
function chipContrasts(selector = '[data-class-chip]'): Promise<{ name: string; ratio: number; fg: string; bg: string }[]> {
  return page.evaluate((selector) => {
    type Rgba = [number, number, number, number];
    const parse = (s: string): Rgba => {
      const m = s.match(/[\d.]+/g)!.map(Number);
      return [m[0]!, m[1]!, m[2]!, m[3] ?? 1];
    };
    const over = (top: Rgba, under: Rgba): Rgba => [0, 1, 2].map((i) => top[i]! * top[3] + under[i]! * (1 - top[3])).concat(1) as Rgba;
    const background = (el: El | null): Rgba => {
      if (!el) return [255, 255, 255, 1];
      const own = parse(getComputedStyle(el).backgroundColor);
      return own[3] === 1 ? own : over(own, background(el.parentElement));
    };
    const lum = (c: Rgba) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        const x = v / 255;
        return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    return Array.from(document.querySelectorAll(selector)).flatMap((el) => {
      const text = [...Array.from(el.querySelectorAll('*')), el].find(
        (e) => e.childNodes.length && Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent!.trim()),
      );
      if (!text) return [];
      const bg = background(el);
      const fg = over(parse(getComputedStyle(text).color), bg);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const name = el.getAttribute('data-class-chip') ?? selector;
      return [{ name, ratio: (a! + 0.05) / (b! + 0.05), fg: fg.join(','), bg: bg.join(',') }];
    });
  }, selector);
}

/** Photos without signal: 100 images, so the paired test can tell fused from image only (at 80 its interval touched 0). */
const IMAGES = 100;

beforeAll(async () => {
  const p = await fusionProject(tmp.dir, IMAGES, 3, 0.4, 0);
  await trainRun(p, { label: 'diagnosis_label', positive: null, fields: ['age', 'site'], group: 'patient', folds: 3, backbone: null, seed: 1 });
  // More classes, so the chips show every colour of the palette (cancers warm, the rest cool, a yellow among them).
  const labels = repoOf(p.db, LabelsRepo);
  const set = labels.setNamed('diagnosis_label')!.id;
  for (const c of ['BCC', 'SCC', 'ACK', 'SEK', 'BKL']) labels.ensureClass(set, c);
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
    // No preset knows these columns: the column naming the photos is proposed as the id, the one holding the
    // project's classes as the label, each saying why.
    await expect.poll(() => page.getByTestId('map-name').inputValue(), { timeout: 15_000 }).toBe('Image id');
    expect(await page.getByTestId('map-proposal-name').textContent()).toMatch(/^proposed: \d+% of its values name a photo in the folder$/);
    expect(await page.getByTestId('map-diagnosis').inputValue()).toBe('Label');
    expect(await page.getByTestId('map-proposal-diagnosis').textContent()).toBe('proposed: its values are classes of the label set “diagnosis_label”');
    // Made a plain field, the labels would be lost: Import waits until the column is the label or ignored.
    await page.getByTestId('map-diagnosis').click();
    await option('New field “diagnosis”').click();
    await expect
      .poll(() => page.getByTestId('import-waiting').textContent(), { timeout: 15_000 })
      .toBe('Column “diagnosis” holds labels (its values are classes of the label set “diagnosis_label”): map it as Label, or set it to Ignore.');
    expect(await page.getByTestId('import-start').isDisabled()).toBe(true);
    await page.getByTestId('map-diagnosis').click();
    await option('Label').click();
    await expect
      .poll(() => page.getByTestId('plan-label-set-note').textContent(), { timeout: 15_000 })
      .toBe('The existing label set “diagnosis_label”: every label value (MEL, NEV) is one of its classes.');
    await expect.poll(() => page.getByTestId('map-location').inputValue(), { timeout: 15_000 }).toBe('Existing field “site”');
    expect(await page.getByTestId('map-proposal-location').textContent()).toBe('proposed: same meaning as "site"');
    // Each problem names its row, column and value.
    await expect.poll(() => page.getByTestId('problem-line-4').first().textContent()).toMatch(/^line 4row has 3 cells but the header has 4 columns/);
    expect(await page.getByTestId('problem-line-12').textContent()).toMatch(/^line 12nameNOT_A_PHOTOno image named "NOT_A_PHOTO"/);
    await expect.poll(() => page.getByTestId('import-start').isEnabled(), { timeout: 15_000 }).toBe(true);
    await page.getByTestId('import-start').click();
    await expect.poll(() => jobState(page), { timeout: 30_000 }).toBe('import done');
    expect(served.read((p) => p.db.prepare('SELECT name FROM label_sets').pluck().all())).toEqual(['diagnosis_label']);
    expect(served.read((p) => p.db.prepare('SELECT name FROM fields ORDER BY name').pluck().all())).toEqual(['age', 'note', 'site']);
  });

  it('names a field for the screens (its stored name unchanged), and by its name again once emptied', async () => {
    await page.getByTestId('nav-labels').click();
    await page.getByTestId('display-name-site').fill('Body site');
    await page.getByTestId('display-name-site').press('Enter');
    await expect.poll(() => served.read((p) => p.db.prepare(`SELECT display_name FROM fields WHERE name = 'site'`).pluck().get())).toBe('Body site');
    // A filled button reads white on blue at 4.5:1 or more.
    const [saveButton] = await chipContrasts('[data-testid="labelset-save"]');
    expect(saveButton).toMatchObject({ fg: '255,255,255,1' });
    expect(saveButton!.ratio).toBeGreaterThanOrEqual(4.5);
    await page.getByTestId('nav-browse').click();
    await expect
      .poll(() => page.getByTestId('field-site').locator('xpath=ancestor::*[contains(@class, "mantine-InputWrapper-root")][1]').locator('label').textContent())
      .toBe('Body site');
    // Emptied, the field is shown by its name again.
    await page.getByTestId('nav-labels').click();
    await page.getByTestId('display-name-site').fill('');
    await page.getByTestId('display-name-site').press('Tab');
    await expect.poll(() => served.read((p) => p.db.prepare(`SELECT display_name FROM fields WHERE name = 'site'`).pluck().get())).toBeNull();
  });

  it('draws every class chip and badge with text at 4.5:1 or more, cancers warm, and shows keyboard focus', async () => {
    await page.getByTestId('nav-browse').click();
    await page.getByTestId('filter-all').click();
    await expect.poll(() => page.locator('[data-class-chip]').count()).toBeGreaterThan(10);
    const chips = await chipContrasts();
    expect(new Set(chips.map((c) => c.name))).toEqual(new Set(['MEL', 'NEV', 'BCC', 'SCC', 'ACK', 'SEK', 'BKL']));
    for (const c of chips) expect(c.ratio, `${c.name}: ${c.fg} on ${c.bg}`).toBeGreaterThanOrEqual(4.5);
    const colours = served.read((p) =>
      Object.fromEntries(
        p.db
          .prepare('SELECT name, color FROM classes')
          .all()
          .map((r) => [(r as { name: string }).name, (r as { color: string }).color]),
      ),
    );
    expect(colours).toMatchObject({ MEL: '#D55E00', BCC: '#E69F00', SCC: '#CC79A7', NEV: '#0072B2' });
    // The Overview's class counts are the same chips: each in its class's colour, its text at 4.5:1.
    await page.getByTestId('nav-overview').click();
    await expect.poll(() => page.locator('[data-class-chip]').count()).toBeGreaterThanOrEqual(2);
    const counts = await chipContrasts();
    for (const c of counts) expect(c.ratio, `Overview ${c.name}: ${c.fg} on ${c.bg}`).toBeGreaterThanOrEqual(4.5);
    expect(new Set(counts.map((c) => c.bg)).size).toBe(counts.length);
    await page.getByTestId('nav-browse').click();
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    expect(ring.style).not.toBe('none');
    expect(ring.width).toBeGreaterThanOrEqual(2);
  });

  it('browses with one view at a time and filters as removable chips; moves on after a label when asked; says what undo undid', async () => {
    await page.getByTestId('nav-browse').click();
    await page.getByTestId('filter-outliers').click();
    // Before any scan the view is empty for want of a scan, not of a filter: it says so, and where to scan.
    await expect
      .poll(() => page.getByTestId('grid-empty').textContent())
      .toBe('No data-quality scan has run yet, so there are no outliers: open Data quality and press Scan.');
    await page.getByTestId('filter-duplicates').click();
    await expect
      .poll(() => page.getByTestId('grid-empty').textContent())
      .toMatch(/^No data-quality scan has run yet, so there are no near-duplicates to review/);
    await page.getByTestId('filter-label-next').click();
    // Views replace each other: one is chosen, and the count says what it shows.
    await expect.poll(() => page.locator('[role="radio"][aria-checked="true"]').count()).toBe(1);
    expect(await page.getByTestId('filter-label-next').getAttribute('aria-checked')).toBe('true');
    await page.getByTestId('filter-all').click();
    await page.getByTestId('filter-MEL').click();
    await page.getByTestId('search').fill('IMG_0000');
    await expect.poll(() => page.getByTestId('chip-label').textContent()).toBe('label: MEL');
    expect(await page.getByTestId('chip-search').textContent()).toBe('id contains “IMG_0000”');
    for (const c of await chipContrasts('[data-testid="chip-label"], [data-testid="chip-search"]'))
      expect(c.ratio, `filter chip: ${c.fg} on ${c.bg}`).toBeGreaterThanOrEqual(4.5);
    // The Unlabelled view cannot keep a class filter: it says so rather than dropping it unannounced.
    await page.getByTestId('filter-unlabelled').click();
    await expect.poll(() => page.getByTestId('filter-dropped').textContent()).toBe('The class filter “MEL” was removed: unlabelled images have no class yet.');
    expect(await page.getByTestId('chip-label').count()).toBe(0);
    await page.getByTestId('filter-all').click();
    await expect.poll(() => page.getByTestId('filter-dropped').count()).toBe(0);
    await page.getByTestId('filter-MEL').click();
    await expect.poll(() => page.getByTestId('chip-label').textContent()).toBe('label: MEL');
    await page.getByTestId('chip-remove-search').click();
    await expect.poll(() => page.getByTestId('chip-search').count()).toBe(0);
    await page.getByTestId('chips-clear').click();
    await expect.poll(() => page.getByTestId('filter-chips').count()).toBe(0);
    await expect.poll(() => page.getByTestId('counts').textContent()).toMatch(new RegExp(`^${IMAGES} of ${IMAGES} shown`));

    // Off (the default in the browser): a number key labels the image shown and stays on it.
    const first = (await page.getByTestId('detail-id').textContent())!;
    await page.keyboard.press('1');
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('MEL');
    expect(await page.getByTestId('detail-id').textContent()).toBe(first);
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.getByTestId('undo-note').textContent()).toMatch(new RegExp(`^Undone: label of ${first} back to (MEL|NEV)$`));
    await page.getByTestId('next-after-label').click();
    await page.keyboard.press('2');
    await expect.poll(() => page.getByTestId('detail-id').textContent()).not.toBe(first);
    expect(
      served.read((p) =>
        p.db
          .prepare(
            `SELECT c.name FROM annotations a JOIN classes c ON c.id = a.class_id JOIN images i ON i.id = a.image_id WHERE i.external_id = ? ORDER BY a.id DESC LIMIT 1`,
          )
          .pluck()
          .get(first),
      ),
    ).toBe('NEV');
    // The history has headers and lists metadata edits beside labels.
    await page.getByTestId('field-age').fill('61');
    await page.getByTestId('field-age').press('Enter');
    await expect.poll(() => page.getByTestId('history').locator('tbody').textContent()).toMatch(/age\S* → 61/);
    expect(await page.getByTestId('history').locator('thead').textContent()).toBe('WhatChangeWhoHowWhen');
    // The lesion view: the wheel scrolls unless Ctrl is held; Enter shows the enlarged photo from the top.
    const zoomBox = page.getByTestId('zoom-box');
    await zoomBox.hover();
    await page.mouse.wheel(0, -200);
    expect(await zoomBox.getAttribute('data-scale')).toBe('1.000');
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -200);
    await page.keyboard.up('Control');
    await expect.poll(() => zoomBox.getAttribute('data-scale')).toBe('1.250');
    await page.getByTestId('history').scrollIntoViewIfNeeded();
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('Enter');
    await expect
      .poll(() =>
        page
          .getByTestId('image-panel')
          .locator('.mantine-ScrollArea-viewport')
          .evaluate((e) => e.scrollTop),
      )
      .toBe(0);
    // Enlarged at 1280 px, the grid is narrow: its header wraps as whole parts, none under the image panel.
    const box = async (id: string) => (await page.getByTestId(id).boundingBox())!;
    expect((await box('counts')).height).toBeLessThan(24);
    expect(
      (await page.getByTestId('next-after-label').locator('xpath=ancestor::*[contains(@class, "mantine-Switch-root")][1]').boundingBox())!.height,
    ).toBeLessThan(24);
    const [sort, panel] = [await box('sort-dir'), await box('image-panel')];
    expect(sort.x + sort.width).toBeLessThanOrEqual(panel.x);
  });

  it('uploads a folder of photos with its CSV from this computer into the project, then imports it', async () => {
    // Another clinic's folder on the person's own computer: five photos, their CSV, and a file that is neither.
    const folder = path.join(tmp.dir, 'my-computer', 'clinic-b');
    const photos = (await makeImages(folder, 5, 21, 32)).map((p) => {
      const file = path.join(folder, `CLN_${path.basename(p.file)}`);
      fs.renameSync(p.file, file);
      return { ...p, id: `CLN_${p.id}`, file };
    });
    fs.writeFileSync(path.join(folder, 'clinic-b.csv'), hamCsv(photos));
    fs.writeFileSync(path.join(folder, 'notes.docx'), 'not a photo');
    // A name the server refuses leaves that one photo out, named, and stops nothing else.
    fs.copyFileSync(photos[0]!.file, path.join(folder, ' leading space.jpg'));
    await page.getByTestId('nav-import').click();
    await page.getByTestId('upload-folder-input').setInputFiles(folder);
    await expect.poll(() => page.getByTestId('upload-start').textContent()).toMatch(/^Upload 5 photos \+ 1 CSV \(0\.\d MB\)$/);
    expect(await page.getByTestId('upload-skipped').textContent()).toBe('1 other files left out (not photos or CSV)');
    expect(await page.getByTestId('upload-refused').textContent()).toBe(
      'Left out, rename to upload: clinic-b/ leading space.jpg: " leading space.jpg" starts or ends with a space.',
    );
    await page.getByTestId('upload-start').click();
    await expect
      .poll(() => page.getByTestId('upload-done').textContent(), { timeout: 20_000 })
      .toBe('Uploaded 5 photos and 1 CSV file into the project; preview them below.');
    const imagesDir = await page.getByTestId('import-images').inputValue();
    expect(imagesDir).toMatch(new RegExp(`^${served.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/uploads/[^/]+/clinic-b$`));
    expect(await page.getByTestId('import-csv').inputValue()).toBe(`${imagesDir}/clinic-b.csv`);
    for (const p of photos) expect(fs.readFileSync(path.join(imagesDir, path.basename(p.file))).equals(fs.readFileSync(p.file))).toBe(true);
    expect(fs.existsSync(path.join(imagesDir, 'notes.docx'))).toBe(false);
    await page.getByTestId('import-preview').click();
    await expect.poll(() => page.getByTestId('plan-matched').textContent(), { timeout: 15_000 }).toBe('5 rows matched');
    await expect.poll(() => page.getByTestId('import-start').isEnabled(), { timeout: 15_000 }).toBe(true);
    // The project's own import may still be on the job bar, done: wait for this one.
    const earlier = await jobOnBar(page);
    await page.getByTestId('import-start').click();
    await expect.poll(() => jobState(page, earlier), { timeout: 30_000 }).toBe('import done');
    expect(served.read((p) => p.db.prepare(`SELECT COUNT(*) FROM images WHERE external_id LIKE 'CLN_%'`).pluck().get())).toBe(5);
  });

  it('says the server is gone in a banner, keeps what the screen showed, and retries', async () => {
    await page.getByTestId('nav-browse').click();
    // The project’s photos and the 5 uploaded above.
    await expect.poll(() => page.getByTestId('counts').textContent()).toMatch(new RegExp(`^${IMAGES + 5} of ${IMAGES + 5} shown`));
    const counts = await page.getByTestId('counts').textContent();
    const { port, token } = served.server;
    await served.server.close();
    // Nobody acts: the tab notices by itself.
    await expect.poll(() => page.getByTestId('connection-banner').textContent(), { timeout: 20_000 }).toBe('DermFuse server not reachable — retrying');
    await page.getByTestId('filter-unlabelled').click();
    expect(await page.getByTestId('counts').textContent()).toBe(counts);
    expect(await page.getByTestId('app-error').count()).toBe(0);
    // The server back on its address: the banner goes by itself, and the screens answer again.
    served.server = await startServer({ service: served.service, rendererDir: RENDERER, port, token });
    await expect.poll(() => page.getByTestId('connection-banner').count(), { timeout: 10_000 }).toBe(0);
    await page.getByTestId('filter-unlabelled').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).not.toBe(counts);
  });
});
