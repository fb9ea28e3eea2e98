import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';
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

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || host.startsWith('127.') || host.startsWith('::ffff:127.');
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

/**
 * Keeps at most MAX_CONNECTIONS sockets: when a new one would pass the cap, the oldest socket with no request in
 * flight is closed (an idle keep-alive, or one that never finished its headers), so idle or slow clients cannot
 * starve real requests. Only when every socket is busy is the new one refused.
 */
export function limitConnections(server: http.Server, tls: boolean, max = MAX_CONNECTIONS): void {
  const open = new Map<net.Socket, { busy: number }>();
  // Over TLS, requests arrive on the TLS socket (a slow handshake is cut by the server's handshakeTimeout).
  server.on(tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    if (open.size >= max) {
      const idle = [...open].find(([, s]) => s.busy === 0)?.[0];
      if (idle) {
        idle.destroy();
        open.delete(idle);
      } else {
        socket.destroy();
        return;
      }
    }
    open.set(socket, { busy: 0 });
    socket.on('close', () => open.delete(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const state = open.get(req.socket);
    if (!state) return;
    state.busy++;
    res.on('close', () => state.busy--);
  });
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
