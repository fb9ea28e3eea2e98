import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Server } from '../../src/main/api/http.ts';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { jobState, launch } from './browser.ts';
import { RENDERER } from './serveProject.ts';

let tmp: ReturnType<typeof tempDir>;
let browser: Browser;
let service: Service;
let server: Server;
let page: Page;

beforeAll(async () => {
  tmp = tempDir();
  browser = await launch();
  // No project open: the app starts on the start screen, as the desktop window does on a first run.
  service = new Service({}, new RecentProjects(path.join(tmp.dir, 'recent.json')));
  server = await startServer({ service, rendererDir: RENDERER, port: 0 });
  page = await browser.newPage();
  page.setDefaultTimeout(15_000);
});
afterAll(async () => {
  await page?.close();
  await browser?.close();
  await server?.close();
  await service?.close();
  tmp?.cleanup();
});

describe('first run', () => {
  it('the start screen’s sample button opens the sample; label, extract with the default backbone (built in), train, see the report', async () => {
    const dir = path.join(tmp.dir, 'my-sample');
    await page.goto(server.url);
    await page.getByTestId('project-dir').fill(dir);
    await page.getByTestId('try-sample').click();
    await expect.poll(() => page.getByTestId('counts').textContent(), { timeout: 30_000 }).toBe('86 of 86 shown · 12 unlabelled in the project');
    await expect
      .poll(() =>
        page
          .locator('img[src^="/media/thumb/"]')
          .first()
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);

    // Label one of the held-back images by key.
    await page.getByTestId('filter-unlabelled').click();
    await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('none');
    await page.keyboard.press('1');
    await expect.poll(() => page.getByTestId('counts').textContent()).toContain('11 unlabelled');

    await page.getByTestId('nav-results').click();
    await expect.poll(() => page.getByTestId('extract-backbone').inputValue()).toBe('default');
    // The catalogue is offered with what each entry is, its licence, and whether it downloads.
    await page.getByTestId('extract-backbone').click();
    await expect
      .poll(() => page.getByTestId('catalogue-option').first().textContent())
      .toMatch(/^defaultMobileNetV2, width 1\.0, ImageNet.* · 1280-d · BSD-3-Clause · built in, offline$/);
    await page.keyboard.press('Escape');
    await page.getByTestId('extract-start').click();
    // The default is the ONNX MobileNetV2-1.0: it runs on ONNX Runtime as it is, no graph converted.
    await expect
      .poll(() => page.getByTestId('extract-note').textContent(), { timeout: 120_000 })
      .toMatch(/^86 images embedded \(0 cached, 0 failed\), 1280-d, [\d.]+ img\/s on onnxruntime-node 1\.30\.\d+, cpu, \d+ worker\(s\) x \d+ thread\(s\)\.$/);
    await page.getByTestId('train-start').click();
    await expect.poll(() => jobState(page), { timeout: 120_000 }).toBe('train done');
    await expect.poll(() => page.getByTestId('run-report').count()).toBe(1);
    for (const mode of ['image', 'metadata', 'fused']) expect(await page.getByTestId(`mode-${mode}`).textContent()).toMatch(/AUC [01]\.\d{3}/);

    // The run ordered the 11 unlabelled images for labelling: the queue shows them and says where the order came from.
    await page.getByTestId('nav-browse').click();
    await page.getByTestId('filter-label-next').click();
    await expect.poll(() => page.getByTestId('counts').textContent()).toBe('11 of 86 shown · 11 unlabelled in the project');
    await expect.poll(() => page.getByTestId('label-next-note').textContent()).toMatch(/^ordered by uncertainty from run 1 \(/);

    const p = Project.open(dir);
    try {
      expect(p.db.prepare(`SELECT COUNT(*) FROM runs WHERE status = 'done'`).pluck().get()).toBe(1);
    } finally {
      p.close();
    }
  });
});
