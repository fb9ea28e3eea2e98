import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import { startServer } from '../api/http.ts';
import { isLoopback } from '../api/httpGuard.ts';
import { RecentProjects } from '../api/recent.ts';
import { Service } from '../api/service.ts';
import { listAccounts, rememberServerAddress } from '../team/accounts.ts';
import { appRoot } from '../resources.ts';

/** The built renderer; built on first use when missing (a fresh checkout). */
function rendererDir(): string {
  const ROOT = appRoot();
  const dir = path.join(ROOT, 'out/renderer');
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    process.stderr.write('Building the renderer (first run)…\n');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0 || !fs.existsSync(path.join(dir, 'index.html')))
      throw new DermFuseError('INTERNAL', 'Could not build the renderer: run npm run build and look at its errors.');
  }
  return dir;
}

export interface ServeCommandOptions {
  host: string;
  port: number;
  /** Folders imports, bundles and model folders may be read from, besides the project. */
  dataRoots: string[];
  /** The most one upload into the project may hold, in bytes. */
  maxUploadBytes?: number;
  tls?: { cert: string; key: string };
  /** Serve plain HTTP on an address other machines reach (refused without it). */
  insecureHttp?: boolean;
  json: boolean;
  signal: AbortSignal;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new DermFuseError('FILE_NOT_FOUND', `${flag} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/**
 * Opens the project, pins it (a served project cannot be switched by a caller) and serves it until Ctrl+C.
 * Prints the URL (with its token) as soon as it listens.
 */
export async function serveProject(dir: string, o: ServeCommandOptions): Promise<void> {
  if (!isLoopback(o.host) && !o.tls && !o.insecureHttp)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `--host ${o.host} without TLS would send every sign-in token and patient photo across the network in clear text. Give --tls-cert and --tls-key to serve HTTPS, or --insecure-http if this network is trusted.`,
    );
  for (const d of o.dataRoots) {
    if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new DermFuseError('FILE_NOT_FOUND', `--data ${d}: no such folder.`);
  }
  const service = new Service({}, new RecentProjects(), {
    pinned: true,
    dataRoots: o.dataRoots.map((d) => path.resolve(d)),
    maxUploadBytes: o.maxUploadBytes,
  });
  service.openProject(dir);
  const tls = o.tls ? { cert: readPem(o.tls.cert, '--tls-cert'), key: readPem(o.tls.key, '--tls-key') } : undefined;
  let server;
  try {
    server = await startServer({ service, rendererDir: rendererDir(), host: o.host, port: o.port, tls });
  } catch (err) {
    await service.close();
    throw err;
  }
  if (!isLoopback(o.host)) {
    process.stderr.write(
      tls
        ? `Warning: listening on ${o.host}: anyone who can reach it and has the token can read and edit this project.\n`
        : `Warning: listening on ${o.host} without TLS: the token and patient data cross the network in clear text. Give --tls-cert and --tls-key to serve HTTPS.\n`,
    );
  }
  const project = path.resolve(dir);
  // `users add` prints sign-in links on this address when not given --url.
  rememberServerAddress(service, server.urls[0]!);
  const accounts = service.current() ? listAccounts(service.current()!.db).filter((a) => !a.revokedAt).length : 0;
  if (accounts > 0)
    process.stderr.write(
      `${accounts} account(s) sign in with their personal links (dermfuse users list); the link below acts as the project's owner and works only on this machine.\n`,
    );
  process.stdout.write(
    o.json
      ? `${JSON.stringify({ url: server.url, urls: server.urls, port: server.port, project, dataRoots: o.dataRoots.map((d) => path.resolve(d)) })}\n`
      : `DermFuse serves ${project} at\n${server.urls.map((u) => `  ${u}`).join('\n')}\n(Ctrl+C to stop)\n`,
  );
  await new Promise<void>((resolve) => o.signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  await service.close();
  process.stderr.write('Stopped.\n');
}
