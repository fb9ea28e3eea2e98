import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { contentTypeOf } from '../contentTypes.ts';
import { fileBelow } from '../fsChecks.ts';
import { logger } from '../log.ts';
import { CONTENT_SECURITY_POLICY } from '../security.ts';
import {
  bearerToken,
  cookieToken,
  foreignRequest,
  hostPort,
  isJson,
  isLoopback,
  limitConnections,
  machineAddresses,
  MEDIA_COOKIE,
  sameToken,
} from './httpGuard.ts';
import { mediaFile } from './media.ts';
import type { Service } from './service.ts';
import type { Caller } from '../team/accounts.ts';

const log = logger('http');
/** Requests to the API carry small JSON; anything larger is refused before it is read. */
const MAX_BODY_BYTES = 1 << 20;

export interface ServeOptions {
  service: Service;
  rendererDir: string;
  host?: string;
  port?: number;
  token?: string;
  /** PEM certificate and key: serve HTTPS (the token then does not cross the network in clear text). */
  tls?: { cert: Buffer; key: Buffer };
}

export interface Server {
  url: string;
  /** The URLs other machines reach (a wildcard bind), else just `url`. */
  urls: string[];
  port: number;
  token: string;
  close(): Promise<void>;
}

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves the built renderer and the contract over HTTP(S) for `dermfuse serve`.
 * - The app's code (index.html, assets) is public: it holds no data.
 * - The API takes the token only as a bearer header, JSON bodies only, and refuses requests a browser marks as
 *   coming from another origin; so a page on another port of this machine cannot act for the annotator.
 * - Images (`/media`, by image id only) take the bearer header or the HttpOnly cookie set when the printed URL is
 *   opened; the cookie is scoped to `/media`, and cross-origin reads are refused there too.
 * - A Host header that names none of this server's addresses is refused (DNS rebinding).
 */
export async function startServer(opts: ServeOptions): Promise<Server> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const host = opts.host ?? '127.0.0.1';
  const scheme = opts.tls ? 'https' : 'http';
  const root = path.resolve(opts.rendererDir);
  const addresses = machineAddresses(host);
  let allowedHosts = new Set<string>();
  let ownOrigins = new Set<string>();

  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', extra: http.OutgoingHttpHeaders = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpRefusal) return send(res, err.status, err.message);
      log.error('request failed', err);
      if (!res.headersSent) send(res, 500, 'Internal error');
    });
  };
  const serverOptions = { connectionsCheckingInterval: 1000 };
  const server = opts.tls
    ? https.createServer({ ...serverOptions, cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: 10_000 }, listener)
    : http.createServer(serverOptions, listener);
  limitConnections(server, opts.tls !== undefined);

  /**
   * Who a token signs in as: the server's own token acts as the project's owner (undefined: the service's default),
   * but once the project has accounts only from this machine; a personal token as its account. Refused otherwise.
   */
  const signIn = (given: string | undefined, req: http.IncomingMessage): { caller: Caller | undefined } => {
    if (sameToken(given, token)) {
      if (opts.service.hasAccounts() && !isLoopback(req.socket.remoteAddress ?? ''))
        throw new HttpRefusal(403, 'DermFuse: this project has accounts: sign in with your personal link (dermfuse users add prints it).');
      return { caller: undefined };
    }
    const caller = given ? opts.service.accountFor(given) : null;
    if (!caller)
      throw new HttpRefusal(401, 'DermFuse: this server needs a valid token. Open the URL that `dermfuse serve` printed, or your personal sign-in link.');
    return { caller };
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) return send(res, 403, 'Wrong host.');
    const url = parseUrl(req);

    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return send(res, 405, 'POST only.');
      const foreign = foreignRequest(req, ownOrigins);
      if (foreign) return send(res, 403, `DermFuse: ${foreign}.`);
      const { caller } = signIn(bearerToken(req), req);
      if (!isJson(req)) return send(res, 415, 'DermFuse: the API takes application/json only.');
      const body = await readJson(req);
      const envelope = await opts.service.dispatch(decodePath(url.pathname.slice(5)), body, caller);
      return send(res, 200, JSON.stringify(envelope), 'application/json');
    }

    const media = /^\/media\/(thumb|image)\/([^/]+)$/.exec(url.pathname);
    if (media) {
      if (req.method !== 'GET') return send(res, 405, 'GET only.');
      const foreign = foreignRequest(req, ownOrigins);
      if (foreign) return send(res, 403, `DermFuse: ${foreign}.`);
      signIn(bearerToken(req) ?? cookieToken(req), req);
      const project = opts.service.current();
      const file = project ? mediaFile(project, media[1] as 'thumb' | 'image', media[2]!) : null;
      if (!file) return send(res, 404, 'No such image.');
      return send(res, 200, await fs.promises.readFile(file.file), file.contentType, { 'cache-control': 'private, max-age=3600' });
    }

    if (req.method !== 'GET') return send(res, 405, 'GET only.');
    const file = fileBelow(root, decodePath(url.pathname));
    if (!file) return send(res, 404, 'Not found.');
    // Opening the printed URL hands the token to the image route as a cookie (an <img> cannot send a header).
    const fromQuery = url.searchParams.get('token');
    const secure = opts.tls ? '; Secure' : '';
    const valid = fromQuery !== null && /^[0-9a-f]{1,200}$/.test(fromQuery) && (sameToken(fromQuery, token) || opts.service.accountFor(fromQuery) !== null);
    const setCookie = valid ? { 'set-cookie': `${MEDIA_COOKIE}=${fromQuery}; HttpOnly; SameSite=Strict; Path=/media${secure}` } : {};
    return send(res, 200, await fs.promises.readFile(file), contentTypeOf(file) ?? 'application/octet-stream', setCookie);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = new Set(addresses.map((a) => hostPort(a, port).toLowerCase()));
  ownOrigins = new Set(addresses.map((a) => `${scheme}://${hostPort(a, port)}`));
  const urlOf = (address: string) => `${scheme}://${hostPort(address, port)}/?token=${token}`;
  const wildcard = host === '0.0.0.0' || host === '::';
  const reachable = wildcard ? addresses.filter((a) => !isLoopback(a)) : [host];
  return {
    url: urlOf(wildcard ? '127.0.0.1' : host),
    urls: reachable.map(urlOf),
    port,
    token,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function parseUrl(req: http.IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://server');
  } catch {
    throw new HttpRefusal(400, 'Bad request.');
  }
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new HttpRefusal(400, 'Bad request: malformed escape in the path.');
  }
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpRefusal(413, 'Request too large.');
    chunks.push(c as Buffer);
  }
  try {
    return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : {};
  } catch {
    throw new HttpRefusal(400, 'The request body is not JSON.');
  }
}
