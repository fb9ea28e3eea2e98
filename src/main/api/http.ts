import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { logger } from '../log.ts';
import { CONTENT_SECURITY_POLICY } from '../security.ts';
import { mediaFile } from './media.ts';
import type { Service } from './service.ts';

const log = logger('http');
const COOKIE = 'dermfuse_token';
/** Requests to the API carry small JSON; anything larger is refused before it is read. */
const MAX_BODY_BYTES = 1 << 20;
const STATIC_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json' };

export interface ServeOptions {
  service: Service;
  rendererDir: string;
  host?: string;
  port?: number;
  token?: string;
}

export interface Server {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  return (req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')).find(([k]) => k === COOKIE)?.[1];
}

/**
 * Serves the built renderer and the contract over HTTP for `dermfuse serve`. Every request needs the token: once
 * in the URL (then kept in an HttpOnly, SameSite=Strict cookie), or as a bearer header. Requests whose Host is not
 * this server's (DNS rebinding) are refused. Image bytes are served by image id only.
 */
export async function startServer(opts: ServeOptions): Promise<Server> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const host = opts.host ?? '127.0.0.1';
  const root = path.resolve(opts.rendererDir);
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`]);

  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', extra: http.OutgoingHttpHeaders = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      log.error('request failed', err);
      if (!res.headersSent) send(res, 500, 'Internal error');
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!allowedHosts().has(req.headers.host ?? '')) return send(res, 403, 'Wrong host.');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const fromQuery = url.searchParams.get('token') ?? undefined;
    const ok = sameToken(bearer, token) || sameToken(cookieToken(req), token) || sameToken(fromQuery, token);
    if (!ok) return send(res, 401, 'DermFuse: this server needs its token. Open the URL that `dermfuse serve` printed.');
    const setCookie = sameToken(fromQuery, token) ? { 'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` } : {};

    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return send(res, 405, 'POST only.');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > MAX_BODY_BYTES) return send(res, 413, 'Request too large.');
        chunks.push(c as Buffer);
      }
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return send(res, 400, JSON.stringify({ ok: false, error: { code: 'INVALID_REQUEST', message: 'The request body is not JSON.' } }), 'application/json');
      }
      const envelope = await opts.service.dispatch(decodeURIComponent(url.pathname.slice(5)), body);
      return send(res, 200, JSON.stringify(envelope), 'application/json', setCookie);
    }
    const media = /^\/media\/(thumb|image)\/([^/]+)$/.exec(url.pathname);
    if (media) {
      const project = opts.service.current();
      const file = project ? mediaFile(project, media[1] as 'thumb' | 'image', media[2]!) : null;
      if (!file) return send(res, 404, 'No such image.');
      return send(res, 200, await fs.promises.readFile(file.file), file.contentType, { 'cache-control': 'private, max-age=3600' });
    }
    if (req.method !== 'GET') return send(res, 405, 'GET only.');
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return send(res, 404, 'Not found.');
    return send(res, 200, await fs.promises.readFile(file), STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream', setCookie);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
