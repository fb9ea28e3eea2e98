import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hamCsv, makeImages, tempDir } from '../fixtures/generate.ts';
import { launch } from './browser.ts';
import { serveProject, type Served } from './serveProject.ts';
import { importedProject } from '../fixtures/project.ts';

let browser: Browser;
let tmp: ReturnType<typeof tempDir>;
let served: Served;
let evil: http.Server;
let evilPort: number;

/** A page another program on this machine serves on its own port: same site as DermFuse, not same origin. */
function evilPage(target: number): string {
  return `<!doctype html><html><body><img id="img" src="http://127.0.0.1:${target}/media/image/6"><script>
    window.attempts = (async () => {
      const out = {};
      const call = async (type) => {
        try {
          const r = await fetch('http://127.0.0.1:${target}/api/labels.set', { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': type }, body: JSON.stringify({ imageId: 6, className: 'mel' }) });
          return r.type + ':' + r.status;
        } catch (e) { return 'error'; }
      };
      out.simple = await call('text/plain');
      try {
        const r = await fetch('http://127.0.0.1:${target}/api/labels.set', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ imageId: 6, className: 'mel' }) });
        out.json = 'read:' + r.status;
      } catch (e) { out.json = 'error'; }
      try {
        const r = await fetch('http://127.0.0.1:${target}/media/image/6', { credentials: 'include' });
        out.media = 'read:' + r.status;
      } catch (e) { out.media = 'error'; }
      await new Promise((r) => setTimeout(r, 300));
      out.imgWidth = document.getElementById('img').naturalWidth;
      return out;
    })();
  </script></body></html>`;
}

beforeAll(async () => {
  browser = await launch();
  tmp = tempDir();
  const images = path.join(tmp.dir, 'images');
  const fakes = await makeImages(images, 8, 4, 48).then((f) => f.map((x) => ({ ...x, label: 'NEV' })));
  fs.writeFileSync(path.join(tmp.dir, 'm.csv'), hamCsv(fakes) + 'L9,EXTRA,mel,histo,40.0,male,back\n');
  await importedProject(path.join(tmp.dir, 'p'), images, path.join(tmp.dir, 'm.csv'));
  served = await serveProject(path.join(tmp.dir, 'p'), tmp.dir);
  evil = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(evilPage(served.server.port));
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
  evilPort = (evil.address() as AddressInfo).port;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => evil?.close(r));
  await served?.close();
  tmp?.cleanup();
});

describe('a page on another local port, in the annotator’s browser', () => {
  it('can neither change a label nor read an image, although the browser holds the DermFuse cookie', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The annotator opens DermFuse first: the browser now holds its cookie.
    await page.goto(served.server.url);
    await expect.poll(() => page.getByTestId('counts').textContent()).toMatch(/8 of 8/);
    const own = await page.evaluate(async () => (await fetch('/media/image/6')).status);
    expect(own).toBe(200);
    const labelOf6 = () =>
      served.read((p) => p.db.prepare(`SELECT c.name FROM current_labels l JOIN classes c ON c.id = l.class_id WHERE l.image_id = 6`).pluck().get());
    expect(labelOf6()).toBe('nev');

    const attacker = await context.newPage();
    await attacker.goto(`http://127.0.0.1:${evilPort}/`);
    const result = (await attacker.evaluate('window.attempts')) as Record<string, string | number>;
    expect(result.json).toBe('error');
    expect(result.media).toBe('error');
    expect(result.imgWidth).toBe(0);
    expect(labelOf6()).toBe('nev');
    await context.close();
  });
});
