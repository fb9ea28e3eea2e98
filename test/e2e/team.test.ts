import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from '../../src/main/team/accounts.ts';
import { Project } from '../../src/main/project.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { importedProject } from '../fixtures/project.ts';
import { jobState, launch } from './browser.ts';
import { serveProject, type Served } from './serveProject.ts';

const tmp = tempDir();
const IMAGES = 8;
let served: Served;
let browser: Browser;
let anaToken: string;
let cyToken: string;

/** A separate browser profile (its own session and cookies) signed in with a link. */
async function signIn(url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(url);
  return page;
}
const count = (sql: string, ...args: unknown[]) =>
  served.read(
    (p) =>
      p.db
        .prepare(sql)
        .pluck()
        .get(...args) as number,
  );
const origin = () => new URL(served.server.url).origin;

beforeAll(async () => {
  const fakes = await makeImages(path.join(tmp.dir, 'images'), IMAGES, 4, 32);
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes));
  const dir = path.join(tmp.dir, 'p');
  await importedProject(dir, path.join(tmp.dir, 'images'), path.join(tmp.dir, 'm.csv'));
  // As `dermfuse users add` does before the server starts.
  const p = Project.open(dir);
  anaToken = addAccount(p.db, 'ana', 'annotator');
  cyToken = addAccount(p.db, 'cy', 'adjudicator');
  p.close();
  served = await serveProject(dir, tmp.dir);
  browser = await launch();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  tmp.cleanup();
});

/** Labels the annotator's whole queue by key: `keyFor(i)` is the key for the i-th image shown. */
async function labelQueue(page: Page, who: string, keyFor: (i: number) => string): Promise<void> {
  await page.getByTestId('nav-tasks').click();
  await page.getByTestId('task-label').click();
  for (let i = 0; i < IMAGES; i++) {
    await expect.poll(() => page.getByTestId('task-progress').textContent()).toMatch(new RegExp(`^You labelled ${i} of ${IMAGES}`));
    // Blind: the imported label and the other annotator's are hidden until this person labels the image.
    expect(await page.getByTestId('detail-label').textContent()).toBe('Label: none ');
    if (i === 0) {
      // The metadata sits beside the photo, and an undo takes the progress back.
      const photo = (await page.getByTestId('zoom-box').boundingBox())!;
      expect((await page.getByTestId('record-beside').boundingBox())!.x).toBeGreaterThan(photo.x + photo.width);
      await page.keyboard.press(keyFor(i));
      await expect.poll(() => page.getByTestId('task-progress').textContent()).toMatch(new RegExp(`^You labelled 1 of ${IMAGES}`));
      await page.keyboard.press('Control+z');
      await expect.poll(() => page.getByTestId('task-progress').textContent()).toMatch(new RegExp(`^You labelled 0 of ${IMAGES}`));
      // The queue says what the undo took back, as Browse does.
      expect(await page.getByTestId('undo-note').textContent()).toMatch(/^Undone: label of \S+ back to none$/);
    }
    await page.keyboard.press(keyFor(i));
    await expect.poll(() => count(`SELECT COUNT(DISTINCT image_id) FROM annotations WHERE author = ? AND source = 'user'`, who)).toBe(i + 1);
  }
  await expect.poll(() => page.getByTestId('task-done').isVisible()).toBe(true);
}

describe('a team labels blind, measures agreement, adjudicates and trains on the consensus', () => {
  let admin: Page;
  let cy: Page;
  let benLink: string;

  it('the admin makes a blind task and an account, whose link is shown once', async () => {
    admin = await signIn(served.server.url);
    await admin.getByTestId('nav-tasks').click();
    await admin.getByTestId('task-name').fill('Round 1');
    await admin.getByTestId('task-create').click();
    await expect.poll(() => admin.getByTestId('task-created').textContent()).toBe(`Task "Round 1": ${IMAGES} images, ${IMAGES * 2} labels to give.`);
    await admin.getByTestId('user-name').fill('ben');
    await admin.getByTestId('user-add').click();
    benLink = (await admin.getByTestId('user-link').textContent())!;
    expect(benLink).toMatch(new RegExp(`^${origin()}/\\?token=[0-9a-f]{48}$`));
    expect(await admin.getByTestId('user-ben').textContent()).toContain('annotator');
    // Annotators may edit metadata until the admin says otherwise.
    await admin.getByTestId('metadata-edits').click();
    await expect.poll(() => count(`SELECT COUNT(*) FROM settings WHERE key = 'team.annotatorMetadataEdits' AND value = 'no'`)).toBe(1);
  });

  it('two annotators sign in with their links and label the same images blind, each from their own queue', async () => {
    const ana = await signIn(`${origin()}/?token=${anaToken}`);
    await expect.poll(() => ana.getByTestId('signed-in').textContent()).toBe('ana · annotator · blind');
    // No browser (it would show others' labels) and no admin screens.
    expect(await ana.getByTestId('nav-browse').count()).toBe(0);
    expect(await ana.getByTestId('nav-import').count()).toBe(0);
    const ben = await signIn(benLink);
    await expect.poll(() => ben.getByTestId('signed-in').textContent()).toBe('ben · annotator · blind');
    await labelQueue(ana, 'ana', () => '1');
    await labelQueue(ben, 'ben', (i) => (i < IMAGES / 2 ? '1' : '2'));
    // Nothing an annotator's screens asked for was refused.
    expect(await ana.getByTestId('app-error').count()).toBe(0);
    expect(await ben.getByTestId('app-error').count()).toBe(0);
    // The overview hides the label counts (they move with other people's labels).
    await ana.getByTestId('nav-overview').click();
    await ana.getByTestId('counts-hidden').waitFor();
    expect(await ana.getByTestId('stat-labelled').textContent()).toBe('hidden');
    // Every annotation carries the account; the task is complete.
    expect(count(`SELECT COUNT(*) FROM annotations WHERE source = 'user' AND author NOT IN ('ana', 'ben')`)).toBe(0);
    await admin.getByTestId('nav-overview').click();
    await admin.getByTestId('nav-tasks').click();
    await expect.poll(() => admin.getByTestId('task-Round 1').locator('[data-testid="task-annotators"]').textContent()).toBe(`ana ${IMAGES}, ben ${IMAGES}`);
  });

  it("the admin sees the annotators' kappa; the adjudicator resolves a disagreement with a reason", async () => {
    await admin.getByTestId('nav-agreement').click();
    await expect.poll(() => admin.getByTestId('kappa-ana-ben').textContent()).toMatch(/^-?[01]\.\d{3}$/);
    await admin.getByTestId('agreement-task').click();
    await admin.getByRole('option', { name: 'Task: Round 1' }).click();
    await expect.poll(() => admin.getByTestId('agreement-summary').textContent()).toMatch(new RegExp(`^${IMAGES} images labelled by two annotators or more`));
    cy = await signIn(`${origin()}/?token=${cyToken}`);
    await expect.poll(() => cy.getByTestId('signed-in').textContent()).toBe('cy · adjudicator');
    await cy.getByTestId('nav-adjudicate').click();
    // ana said class 1 everywhere, ben class 2 on half of the images.
    const open = IMAGES / 2;
    await expect.poll(() => cy.getByTestId('disagreement-count').textContent()).toBe(`${open} to decide`);
    expect(await cy.getByTestId('disagreement-labels').textContent()).toMatch(/ana.*ben|ben.*ana/);
    // The CSV's label is shown as a reference beside the annotators, not as one of them.
    expect(await cy.getByTestId('disagreement-reference').textContent()).toMatch(/^Imported label \(reference, not an annotator\)\w+$/);
    await cy.keyboard.press('2');
    await cy.getByTestId('decide-reason').fill('second reader saw regression structures');
    await cy.getByTestId('decide').click();
    await expect.poll(() => cy.getByTestId('disagreement-count').textContent()).toBe(`${open - 1} to decide`);
    expect(served.read((p) => p.db.prepare('SELECT author, reason FROM adjudications').all())).toEqual([
      { author: 'cy', reason: 'second reader saw regression structures' },
    ]);
    // The adjudicator cannot train or import.
    expect(await cy.getByTestId('nav-import').count()).toBe(0);
  });

  it('training on the adjudicated consensus uses the decision, and the run says so', async () => {
    await admin.getByTestId('nav-results').click();
    await admin.getByTestId('extract-start').click();
    await expect.poll(() => admin.getByTestId('extract-note').textContent(), { timeout: 120_000 }).toMatch(new RegExp(`^${IMAGES} images embedded`));
    await admin.getByTestId('train-consensus').click();
    await admin.getByRole('option', { name: "The adjudicator's decision, else the majority" }).click();
    await admin.getByTestId('train-start').click();
    await expect.poll(() => jobState(admin), { timeout: 120_000 }).toBe('train done');
    await expect
      .poll(() => admin.getByTestId('run-consensus').textContent())
      .toMatch(/^Labels: the adjudicators' decisions, else the majority of the annotators \(\d+ images differ/);
    const config = JSON.parse(served.read((p) => p.db.prepare('SELECT config FROM runs ORDER BY id DESC LIMIT 1').pluck().get()) as string);
    expect(config.consensus).toBe('adjudicated');
    // The adjudicated image trained on the decision.
    const trained = served.read((p) => {
      const run = p.db.prepare('SELECT id, result FROM runs ORDER BY id DESC LIMIT 1').get() as { id: number; result: string };
      const row = p.db
        .prepare(
          'SELECT r.label, c.name FROM adjudications j JOIN run_predictions r ON r.image_id = j.image_id AND r.run_id = ? JOIN annotations a ON a.id = j.annotation_id JOIN classes c ON c.id = a.class_id',
        )
        .get(run.id) as { label: number; name: string };
      return { trained: (JSON.parse(run.result) as { classes: string[] }).classes[row.label], decided: row.name };
    });
    expect(trained.trained).toBe(trained.decided);
    // The adjudicator now sees the run's out-of-fold probabilities beside the labels still to decide.
    await cy.getByTestId('nav-overview').click();
    await cy.getByTestId('nav-adjudicate').click();
    await expect.poll(() => cy.getByTestId('disagreement-model').textContent()).toMatch(/^Model \(run \d+, fused, out of fold\): \w+ \d+%, \w+ \d+%$/);
  });
});
