import fs from 'node:fs';
import path from 'node:path';
import { startServer, type Server } from '../../src/main/api/http.ts';
import { RecentProjects } from '../../src/main/api/recent.ts';
import { Service } from '../../src/main/api/service.ts';
import type { AccessPolicy } from '../../src/main/api/access.ts';
import { Project } from '../../src/main/project.ts';
import type { Page } from 'playwright-core';
import { launch } from './browser.ts';

export const RENDERER = path.resolve(import.meta.dirname, '../../out/renderer');

/** A project served as `dermfuse serve` serves it, on a free port; `read` opens the same file to check what was stored. */
export interface Served {
  server: Server;
  service: Service;
  dir: string;
  read<T>(fn: (p: Project) => T): T;
  close(): Promise<void>;
}

export async function serveProject(projectDir: string, scratch: string, access?: AccessPolicy): Promise<Served> {
  if (!fs.existsSync(path.join(RENDERER, 'index.html'))) throw new Error('Build the renderer first: npm run build (npm test does).');
  if (!fs.existsSync(path.join(projectDir, 'project.sqlite'))) Project.create(projectDir).project.close();
  const service = new Service({}, new RecentProjects(path.join(scratch, 'recent.json')), access);
  service.openProject(projectDir);
  const server = await startServer({ service, rendererDir: RENDERER, port: 0 });
  return {
    server,
    service,
    dir: projectDir,
    read(fn) {
      const p = Project.open(projectDir);
      try {
        return fn(p);
      } finally {
        p.close();
      }
    },
    async close() {
      await server.close();
      await service.close();
    },
  };
}

/** A served project with a Chromium page on it; `close` ends all three. */
export interface ServedPage {
  served: Served;
  page: Page;
  close(): Promise<void>;
}

export async function servedPage(
  projectDir: string,
  scratch: string,
  opts: { acceptDownloads?: boolean; access?: AccessPolicy; viewport?: { width: number; height: number } } = {},
): Promise<ServedPage> {
  const browser = await launch();
  const served = await serveProject(projectDir, scratch, opts.access);
  const page = await browser.newPage({ acceptDownloads: opts.acceptDownloads ?? false, ...(opts.viewport ? { viewport: opts.viewport } : {}) });
  // A step that cannot happen fails in 15 s naming the locator, rather than the test timing out silently.
  page.setDefaultTimeout(15_000);
  return {
    served,
    page,
    async close() {
      await page.close();
      await browser.close();
      await served.close();
    },
  };
}
