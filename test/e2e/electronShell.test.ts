import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/main/project.ts';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { launch } from './browser.ts';
import { importedProject } from '../fixtures/project.ts';

const HARNESS = path.resolve(__dirname, 'electron/harness.mjs');
const PRELOAD = path.resolve(__dirname, '../../out/preload/index.cjs');
const FOREIGN = [
  'https://example.com/',
  'file:///etc/passwd',
  'dermfuse://app.evil/',
  'dermfuse://other/index.html',
  'http://localhost:5173.evil.com/',
  'javascript:alert(1)',
];
const OWN = ['dermfuse://app/index.html', 'dermfuse://app/index.html#/browse'];
const TRAVERSAL = [
  'dermfuse://app/../../etc/passwd',
  'dermfuse://app/%2e%2e/%2e%2e/etc/passwd',
  'dermfuse://app/..%2F..%2Fpackage.json',
  'dermfuse://app/media/image/..%2F..%2Fproject.sqlite',
  'dermfuse://other/index.html',
];

interface Summary {
  sandbox: boolean;
  schemes: { scheme: string; privileges: Record<string, boolean> }[];
  webPreferences: Record<string, unknown>;
  preloadFile: string;
  loadedUrl: string;
  windowOpen: Record<string, { action: string }>;
  willNavigatePrevented: Record<string, boolean>;
  willRedirectPrevented: Record<string, boolean>;
  permissionGranted: boolean;
  permissionCheck: boolean;
  cspHeader: string[];
  foreignFrameCall: { ok: boolean; error?: { code: string } };
  protocolStatus: Record<string, number>;
  openExternal: string[];
}

let tmp: ReturnType<typeof tempDir>;
let projectDir: string;
let moreImages: string;
let browser: Browser;

function startHarness(env: Record<string, string>, summaryOnly: boolean): Promise<{ child: ChildProcess; port: number; summary: Summary }> {
  const child = spawn(process.execPath, [HARNESS, ...(summaryOnly ? ['--summary-only'] : [])], {
    env: { ...process.env, PROBE_URLS: JSON.stringify([...FOREIGN, ...OWN, ...TRAVERSAL]), DERMFUSE_HARNESS_USERDATA: tmp.dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ child, ...(JSON.parse(out.split('\n')[0]!) as { port: number; summary: Summary }) });
    });
    child.on('exit', (code) => reject(new Error(`harness exited with ${code}: ${err}`)));
  });
}

/** The real preload bundle, run in the page with `require('electron')` answered as Electron's sandbox would. */
function preloadScript(): string {
  const source = fs.readFileSync(PRELOAD, 'utf8');
  return `(() => {
    const electron = {
      contextBridge: { exposeInMainWorld: (key, api) => Object.defineProperty(window, key, { value: Object.freeze(api) }) },
      ipcRenderer: { invoke: (channel, ...args) => fetch('/__ipc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel, args }) }).then((r) => r.json()) },
    };
    const require = (name) => { if (name === 'electron') return electron; throw new Error('a sandboxed preload cannot require ' + name); };
    const module = { exports: {} };
    (function (require, module, exports) { ${source}\n })(require, module, module.exports);
  })();`;
}

beforeAll(async () => {
  tmp = tempDir();
  const images = path.join(tmp.dir, 'images');
  const fakes = await makeImages(images, 12, 6, 48);
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes.slice(0, 9)));
  projectDir = path.join(tmp.dir, 'project');
  await importedProject(projectDir, images, path.join(tmp.dir, 'm.csv'));
  moreImages = path.join(tmp.dir, 'more');
  await makeImages(moreImages, 40, 7, 160).then((f) => f.forEach((x) => fs.renameSync(x.file, path.join(moreImages, `M_${path.basename(x.file)}`))));
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  tmp?.cleanup();
});

describe('the Electron main bundle, under a stand-in electron module', () => {
  it('locks the window down: sandbox, isolation, app scheme, no new windows, no navigation away, no permissions', async () => {
    const { summary: s } = await startHarness({}, true);
    expect(s.sandbox).toBe(true);
    expect(s.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(fs.existsSync(s.preloadFile)).toBe(true);
    expect(s.loadedUrl).toBe('dermfuse://app/index.html');
    expect(s.schemes).toEqual([{ scheme: 'dermfuse', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    for (const u of [...FOREIGN, ...OWN]) expect(s.windowOpen[u], u).toEqual({ action: 'deny' });
    expect(s.openExternal).toEqual([]);
    for (const u of FOREIGN) {
      expect(s.willNavigatePrevented[u], u).toBe(true);
      expect(s.willRedirectPrevented[u], u).toBe(true);
    }
    for (const u of OWN) expect(s.willNavigatePrevented[u], u).toBe(false);
    expect(s.permissionGranted).toBe(false);
    expect(s.permissionCheck).toBe(false);
    expect(s.cspHeader[0]).toMatch(/default-src 'self'; script-src 'self';/);
    expect(s.foreignFrameCall).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect(s.protocolStatus['dermfuse://app/index.html']).toBe(200);
    for (const u of TRAVERSAL) expect(s.protocolStatus[u], u).toBe(404);
  });

  it('on the dev server, compares parsed origins: a look-alike host is foreign', async () => {
    const { summary: s } = await startHarness({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, true);
    expect(s.loadedUrl).toBe('http://localhost:5173');
    expect(s.willNavigatePrevented['http://localhost:5173.evil.com/']).toBe(true);
    expect(s.willNavigatePrevented['https://example.com/']).toBe(true);
  });

  it('runs the real renderer through the preload and IPC: open, label, undo, images by the app scheme, the system dialogs of Browse…, a long job watch', async () => {
    const { child, port } = await startHarness({ DERMFUSE_HARNESS_DIALOG: JSON.stringify({ folder: moreImages, file: path.join(tmp.dir, 'm.csv') }) }, false);
    const page: Page = await browser.newPage();
    try {
      await page.addInitScript(preloadScript());
      await page.goto(`http://127.0.0.1:${port}/index.html`);
      await page.getByTestId('project-dir').fill(projectDir);
      await page.getByTestId('open-project').click();
      await expect.poll(() => page.getByTestId('counts').textContent(), { timeout: 15_000 }).toBe('12 of 12 shown · 3 unlabelled in the project');
      // Thumbnails arrive through the recorded dermfuse:// protocol handler.
      await expect
        .poll(() =>
          page
            .locator('img[src^="/media/thumb/"]')
            .first()
            .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
        )
        .toBeGreaterThan(0);

      await page.getByTestId('filter-unlabelled').click();
      await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('none');
      const first = (await page.getByTestId('detail-id').textContent())!;
      await page.keyboard.press('2');
      await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('mel');
      const labelOf = () => {
        const p = Project.open(projectDir);
        try {
          return (
            p.db
              .prepare(`SELECT c.name FROM current_labels l JOIN classes c ON c.id = l.class_id JOIN images i ON i.id = l.image_id WHERE i.external_id = ?`)
              .pluck()
              .get(first) ?? null
          );
        } finally {
          p.close();
        }
      };
      expect(labelOf()).toBe('mel');
      await page.keyboard.press('Control+z');
      await expect.poll(() => page.getByTestId('detail-label').textContent()).toContain('none');
      expect(labelOf()).toBeNull();

      // Browse… opens the system's own dialogs: a folder for the images, a CSV file (filtered) for the metadata.
      await page.getByTestId('nav-import').click();
      await page.getByTestId('browse-images').click();
      await expect.poll(() => page.getByTestId('import-images').inputValue()).toBe(moreImages);
      await page.getByTestId('browse-csv').click();
      await expect.poll(() => page.getByTestId('import-csv').inputValue()).toBe(path.join(tmp.dir, 'm.csv'));
      expect(await page.getByTestId('upload-panel').count()).toBe(0);

      // An import as a job, watched by long polls over IPC while other calls keep answering.
      const outcome = await page.evaluate(async (dir) => {
        type Env = { ok: boolean; value: { id: number; status: string; version: number; result: { imagesAdded: number } | null } };
        const call = (name: string, req: unknown) =>
          (globalThis as unknown as { dermfuse: { call(n: string, r: unknown): Promise<Env> } }).dermfuse.call(name, req);
        const started = await call('jobs.start', { kind: 'import', imagesDir: dir });
        let job = started.value;
        let watches = 0;
        let infoDuringJob = false;
        while (job.status === 'running') {
          const [watched, info] = await Promise.all([call('jobs.watch', { id: job.id, after: job.version }), call('project.info', {})]);
          infoDuringJob ||= info.ok;
          job = watched.value;
          watches++;
        }
        return { status: job.status, added: job.result?.imagesAdded, watches, infoDuringJob };
      }, moreImages);
      expect(outcome).toMatchObject({ status: 'done', added: 40, infoDuringJob: true });
      expect(outcome.watches).toBeGreaterThan(1);
    } finally {
      await page.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
