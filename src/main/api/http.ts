import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { contentTypeOf } from '../files/contentTypes.ts';
import { fileBelow } from '../files/fsChecks.ts';
import { logger } from '../log.ts';
import { CONTENT_SECURITY_POLICY } from '../security.ts';
import {
  bearerToken,
  cookieToken,
  foreignRequest,
  hostPort,
  isJson,
  BODY_TIMEOUT_MS,
  ClientLimits,
  isLoopback,
  machineAddresses,
  sameToken,
} from './httpGuard.ts';
import { beginSession, SESSION_PATH } from './session.ts';
import { UPLOAD_CHUNK_BYTES } from '../files/upload.ts';

/** Where the pieces of uploaded files are PUT (serve). */
export const UPLOAD_PATH = '/upload';
import { openMedia } from './media.ts';
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
    /** Close the connection after the answer (the client may still be sending). */
    readonly close = false,
  ) {
    super(message);
  }
}

/** True when the request failed because its client closed the connection (not a fault of the server). */
function clientGone(err: unknown, req: http.IncomingMessage): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return req.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || (err as Error | null)?.message === 'aborted';
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

  const hsts = opts.tls ? { 'strict-transport-security': 'max-age=31536000' } : {};
  const headers = (type: string, extra: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders => ({
    'content-type': type,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    // Nothing is kept in a browser's cache: a photo stays unreadable there once a token is revoked.
    'cache-control': 'no-store',
    ...hsts,
    ...extra,
  });
  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', extra: http.OutgoingHttpHeaders = {}) => {
    res.writeHead(status, headers(type, extra));
    res.end(body);
  };
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpRefusal) {
        if (!res.headersSent && !req.socket.destroyed) send(res, err.status, err.message, undefined, err.close ? { connection: 'close' } : {});
        if (err.close) req.socket.destroy();
        return;
      }
      // A client that went away mid-request is theirs to retry, not a fault of ours: one line, no stack.
      if (clientGone(err, req)) return void log.info(`client left before the answer: ${req.method} ${req.url?.split('?')[0]}`);
      log.error('request failed', err);
      if (!res.headersSent) send(res, 500, 'Internal error');
    });
  };
  const serverOptions = { connectionsCheckingInterval: 1000 };
  const server = opts.tls
    ? https.createServer({ ...serverOptions, cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: 10_000 }, listener)
    : http.createServer(serverOptions, listener);
  const limits = new ClientLimits(server, opts.tls !== undefined);

  const origin = (req: http.IncomingMessage) => req.socket.remoteAddress ?? 'unknown';

  /**
   * Who a token signs in as: the server's own token acts as the project's owner (undefined: the service's default),
   * but once the project has accounts only from this machine; a personal token as its account. Refused otherwise.
   */
  const signIn = (given: string | undefined, req: http.IncomingMessage): { caller: Caller | undefined; token: string } => {
    const refused = (status: number, message: string) => {
      // Refused sign-ins are in the access log too (who: nobody known), with the path they tried.
      opts.service.logRefused(req.url?.split('?')[0] ?? '', String(status), origin(req));
      return new HttpRefusal(status, message);
    };
    if (sameToken(given, token)) {
      if (opts.service.hasAccounts() && !isLoopback(req.socket.remoteAddress ?? ''))
        throw refused(403, 'DermFuse: this project has accounts: sign in with your personal link (dermfuse users add prints it).');
      return { caller: undefined, token };
    }
    const caller = given ? opts.service.accountFor(given) : null;
    if (!caller) throw refused(401, 'DermFuse: this server needs a valid token. Open the URL that `dermfuse serve` printed, or your personal sign-in link.');
    return { caller, token: given! };
  };
  /** Counts the request against its token and address; 429 (connection closed) past either limit. */
  const admit = (req: http.IncomingMessage, res: http.ServerResponse, given: string, longPoll = false) => {
    if (!limits.admit(req, res, given, longPoll))
      throw new HttpRefusal(429, 'DermFuse: too many requests at once from this account or address: wait for the ones under way.', true);
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) return send(res, 403, 'Wrong host.');
    const url = parseUrl(req);

    if (url.pathname.startsWith('/api/') || url.pathname === SESSION_PATH) {
      if (req.method !== 'POST') return send(res, 405, 'POST only.');
      const foreign = foreignRequest(req, ownOrigins);
      if (foreign) return send(res, 403, `DermFuse: ${foreign}.`);
      const signed = signIn(bearerToken(req), req);
      if (!isJson(req)) return send(res, 415, 'DermFuse: the API takes application/json only.');
      const name = url.pathname === SESSION_PATH ? SESSION_PATH : decodePath(url.pathname.slice(5));
      admit(req, res, signed.token, name === 'jobs.watch');
      const body = await readJson(req);
      if (name === SESSION_PATH) {
        const answer = beginSession(body, signed, { service: opts.service, serverToken: token, cookie: cookieToken(req), secure: opts.tls !== undefined });
        return send(res, 200, JSON.stringify(answer.body), 'application/json', answer.cookie ? { 'set-cookie': answer.cookie } : {});
      }
      const envelope = await opts.service.dispatch(name, body, signed.caller, origin(req));
      return send(res, 200, JSON.stringify(envelope), 'application/json');
    }

    if (url.pathname === UPLOAD_PATH) {
      if (req.method !== 'PUT') return send(res, 405, 'PUT only.');
      const foreign = foreignRequest(req, ownOrigins);
      if (foreign) return send(res, 403, `DermFuse: ${foreign}.`);
      const signed = signIn(bearerToken(req), req);
      admit(req, res, signed.token);
      const piece = uploadPiece(req, url);
      const envelope = await opts.service.receiveUpload(signed.caller, piece, req);
      return send(res, 200, JSON.stringify(envelope), 'application/json', envelope.ok ? {} : { connection: 'close' });
    }

    const media = /^\/media\/(thumb|image)\/([^/]+)$/.exec(url.pathname);
    if (media) {
      if (req.method !== 'GET') return send(res, 405, 'GET only.');
      const foreign = foreignRequest(req, ownOrigins);
      if (foreign) return send(res, 403, `DermFuse: ${foreign}.`);
      const signed = signIn(bearerToken(req) ?? cookieToken(req), req);
      admit(req, res, signed.token);
      const project = opts.service.current();
      const kind = media[1] as 'thumb' | 'image';
      const opened = project ? await openMedia(project, kind, media[2]!, await opts.service.mediaRoots()) : null;
      if (kind === 'image' && /^\d{1,12}$/.test(media[2]!)) opts.service.logMedia(signed.caller, Number(media[2]), opened ? 'ok' : 'NOT_FOUND', origin(req));
      if (!opened) return send(res, 404, 'No such image.');
      res.writeHead(200, headers(opened.contentType, { 'content-length': opened.size }));
      await pipeline(opened.handle.createReadStream(), res);
      return;
    }

    if (req.method !== 'GET') return send(res, 405, 'GET only.');
    const file = fileBelow(root, decodePath(url.pathname));
    if (!file) return send(res, 404, 'Not found.');
    // The page signs in from the link's token itself (POST /media/session), asking first when another account is signed in:
    // a link opened by another site's page must not switch the browser's account behind the person's back.
    return send(res, 200, await fs.promises.readFile(file), contentTypeOf(file) ?? 'application/octet-stream');
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

/**
 * What a PUT to UPLOAD_PATH carries: `?id=&path=&offset=`, a raw body of a declared length no larger than a piece
 * (refused before it is read otherwise: 411, 413, 415).
 */
function uploadPiece(req: http.IncomingMessage, url: URL): { id: string; path: string; offset: number; length: number } {
  if (!/^application\/octet-stream\s*(;|$)/i.test(req.headers['content-type'] ?? ''))
    throw new HttpRefusal(415, 'DermFuse: an upload takes application/octet-stream.', true);
  if (req.headers['content-length'] === undefined) throw new HttpRefusal(411, 'DermFuse: an upload piece must say its length.', true);
  const length = Number(req.headers['content-length']);
  if (!Number.isSafeInteger(length) || length > UPLOAD_CHUNK_BYTES)
    throw new HttpRefusal(413, `DermFuse: an upload piece carries at most ${UPLOAD_CHUNK_BYTES} bytes.`, true);
  const id = url.searchParams.get('id') ?? '';
  const file = url.searchParams.get('path') ?? '';
  const offset = Number(url.searchParams.get('offset'));
  if (!/^[0-9A-Za-z-]{1,80}$/.test(id) || !file || !Number.isSafeInteger(offset) || offset < 0)
    throw new HttpRefusal(400, 'DermFuse: an upload piece names its upload id, path and offset.', true);
  return { id, path: file, offset, length };
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new HttpRefusal(400, 'Bad request: malformed escape in the path.');
  }
}

/** Reads a JSON body of at most MAX_BODY_BYTES that must arrive within BODY_TIMEOUT_MS (else 413 / 408, closed). */
async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpRefusal(413, 'Request too large.', true);
  const chunks: Buffer[] = [];
  let size = 0;
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    // Answered on the socket itself (the body is still arriving), then closed.
    req.socket.end(`HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    req.destroy();
  }, BODY_TIMEOUT_MS);
  try {
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new HttpRefusal(413, 'Request too large.', true);
      chunks.push(c as Buffer);
    }
  } catch (err) {
    if (late) throw new HttpRefusal(408, `DermFuse: the request body did not arrive within ${BODY_TIMEOUT_MS / 1000} s.`, true);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (late) throw new HttpRefusal(408, `DermFuse: the request body did not arrive within ${BODY_TIMEOUT_MS / 1000} s.`, true);
  try {
    return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : {};
  } catch {
    throw new HttpRefusal(400, 'The request body is not JSON.');
  }
}
