import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import os from 'node:os';

export const MEDIA_COOKIE = 'dermfuse_token';

/** Connections held at once. A browser opens about six per server; a team of 20 annotators fits with room. */
export const MAX_CONNECTIONS = 160;
/** A client has this long to send its request headers (slow or idle sockets are closed after it). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** ... and this long to send the whole request (bodies are small JSON). Long polls answer within 15 s after it. */
export const REQUEST_TIMEOUT_MS = 20_000;
/** An idle keep-alive connection is closed after this. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export function sameToken(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function bearerToken(req: http.IncomingMessage): string | undefined {
  return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
}

export function cookieToken(req: http.IncomingMessage): string | undefined {
  return (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim().split('='))
    .find(([k]) => k === MEDIA_COOKIE)?.[1];
}

/** Names and addresses of this machine's loopback interface. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '::1'];

/** True for a loopback address (127.0.0.0/8, ::1, their IPv4-mapped form) or the name localhost; not a host name that only starts with "127.". */
export function isLoopback(host: string): boolean {
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return LOOPBACK_HOSTS.includes(host) || (net.isIPv4(v4) && v4.startsWith('127.'));
}

/** The addresses a wildcard bind (0.0.0.0, ::) is reached by: loopback and every address of the machine's interfaces. */
export function machineAddresses(host: string): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [...new Set([...LOOPBACK_HOSTS, host])];
  const own = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => a !== undefined && (host === '::' || a.family === 'IPv4'))
    .map((a) => a.address);
  return [...new Set([...LOOPBACK_HOSTS, ...own, os.hostname()])];
}

/** `host:port` as a Host header names it (IPv6 in brackets). */
export function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Why a request may not act for the annotator, or null when it may. Browsers say where a request comes from
 * (`Origin`, `Sec-Fetch-Site`); a page on another port of this machine is "same-site" but not same-origin, and
 * is refused. Clients that say nothing (curl, scripts) still need the token.
 */
export function foreignRequest(req: http.IncomingMessage, ownOrigins: Set<string>): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a request from another site (${site}) is refused`;
  const origin = req.headers.origin;
  if (origin !== undefined && !ownOrigins.has(origin)) return 'a request from another origin is refused';
  return null;
}

/** True when the request says its body is JSON (a cross-origin form or `text/plain` post cannot). */
export function isJson(req: http.IncomingMessage): boolean {
  return /^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '');
}

/** API and image requests one token may have in flight at once (a browser holds at most six connections per server). */
export const MAX_PER_TOKEN = 8;
/** ... and one client address (several people behind one address, or one person's several browsers). */
export const MAX_PER_ADDRESS = 48;
/** A request's body must arrive within this of its headers (bodies are small JSON): a trickling client is cut. */
export const BODY_TIMEOUT_MS = 5_000;

/**
 * Limits per client and in all, so that no client can stall the server for the others:
 * - at most MAX_CONNECTIONS sockets: when a new one would pass the cap, the oldest socket with nothing but long polls
 *   (or nothing) in flight is closed (an idle keep-alive, a client that never finished its headers, a job watcher
 *   that asks again), so idle or slow clients cannot starve real requests; only when every socket is busy is the
 *   new one refused;
 * - at most MAX_PER_TOKEN requests in flight per token and MAX_PER_ADDRESS per address (`admit`), long polls not
 *   counted; the next one is answered 429 at once and its connection closed.
 */
export class ClientLimits {
  private readonly sockets = new Map<net.Socket, { busy: number }>();
  private readonly perToken = new Map<string, number>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    server: http.Server,
    tls: boolean,
    private readonly max = MAX_CONNECTIONS,
  ) {
    // Over TLS, requests arrive on the TLS socket (a slow handshake is cut by the server's handshakeTimeout).
    server.on(tls ? 'secureConnection' : 'connection', (socket: net.Socket) => this.connected(socket));
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // A malformed request line or header gets a bare 400 and no log entry: it is the client's mistake, not ours.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const status =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  private connected(socket: net.Socket): void {
    if (this.sockets.size >= this.max) {
      const idle = [...this.sockets].find(([, s]) => s.busy === 0)?.[0];
      if (idle) {
        idle.destroy();
        this.sockets.delete(idle);
      } else {
        socket.destroy();
        return;
      }
    }
    this.sockets.set(socket, { busy: 0 });
    socket.on('close', () => this.sockets.delete(socket));
  }

  /**
   * Counts a request against its token and address until its response closes; false (nothing counted) when either
   * is at its limit. A long poll is admitted without counting and leaves its socket closable under pressure.
   */
  admit(req: http.IncomingMessage, res: http.ServerResponse, token: string, longPoll: boolean): boolean {
    const state = this.sockets.get(req.socket);
    if (longPoll) return true;
    const address = req.socket.remoteAddress ?? '';
    if ((this.perToken.get(token) ?? 0) >= MAX_PER_TOKEN || (this.perAddress.get(address) ?? 0) >= MAX_PER_ADDRESS) return false;
    const bump = (m: Map<string, number>, k: string, d: number) => {
      const n = (m.get(k) ?? 0) + d;
      if (n > 0) m.set(k, n);
      else m.delete(k);
    };
    bump(this.perToken, token, 1);
    bump(this.perAddress, address, 1);
    if (state) state.busy++;
    res.once('close', () => {
      bump(this.perToken, token, -1);
      bump(this.perAddress, address, -1);
      if (state) state.busy--;
    });
    return true;
  }
}
