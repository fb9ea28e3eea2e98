import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DermFuseError } from '../../shared/errors.ts';
import { startServer } from '../api/http.ts';
import { RecentProjects } from '../api/recent.ts';
import { Service } from '../api/service.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The built renderer; built on first use when missing (a fresh checkout). */
function rendererDir(): string {
  const dir = path.join(ROOT, 'out/renderer');
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    process.stderr.write('Building the renderer (first run)…\n');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0 || !fs.existsSync(path.join(dir, 'index.html'))) throw new DermFuseError('INTERNAL', 'Could not build the renderer: run npm run build and look at its errors.');
  }
  return dir;
}

/** Opens the project and serves it until Ctrl+C. Prints the URL (with its token) as soon as it listens. */
export async function serveProject(dir: string, host: string, port: number, json: boolean, signal: AbortSignal): Promise<void> {
  const service = new Service({}, new RecentProjects());
  service.openProject(dir);
  const server = await startServer({ service, rendererDir: rendererDir(), host, port });
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    process.stderr.write(`Warning: listening on ${host}: anyone who can reach it and has the token can read and edit this project.\n`);
  }
  process.stdout.write(
    json ? `${JSON.stringify({ url: server.url, port: server.port, project: path.resolve(dir) })}\n` : `DermFuse serves ${path.resolve(dir)} at\n  ${server.url}\n(Ctrl+C to stop)\n`,
  );
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  await service.close();
  process.stderr.write('Stopped.\n');
}
