import { ApiError, makeClient, type ApiClient, type CallName, type Envelope } from '../../shared/api.ts';
import { connectionAnswered, connectionLost, NOT_SENT_MESSAGE } from './connection.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser served by `dermfuse serve`. */
    dermfuse?: { call(name: string, req: unknown): Promise<unknown> };
  }
}

const TAB_TOKEN = 'dermfuse-token';

/** The token this tab calls the server with (serve mode): kept for the tab once the sign-in settled it. */
let token = typeof sessionStorage === 'undefined' ? '' : (sessionStorage.getItem(TAB_TOKEN) ?? '');

/** The token in the address bar (a printed URL or a personal link), removed from it at once. */
function takeLinkToken(): string | null {
  const params = new URLSearchParams(window.location.search);
  const fromUrl = params.get('token');
  if (!fromUrl) return null;
  params.delete('token');
  const rest = params.toString();
  window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}${window.location.hash}`);
  return fromUrl;
}

/** The server's answer to a sign-in: done, or a question (another person is signed in on this browser or tab). */
type SessionAnswer = { signedIn: true; name: string } | { signedIn: false; current: string; next: string };

async function postSession(linkToken: string, confirm: boolean): Promise<SessionAnswer> {
  const res = await fetch('/media/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${linkToken}` },
    body: JSON.stringify({ current: token || undefined, confirm }),
  });
  if (!res.ok) throw new Error(res.status === 401 ? 'This sign-in link is not valid (revoked or mistyped): ask an admin for a new one.' : await res.text());
  return (await res.json()) as SessionAnswer;
}

function adopt(linkToken: string): void {
  token = linkToken;
  sessionStorage.setItem(TAB_TOKEN, linkToken);
}

/** A question the page must ask before it uses a link's token: switch from `current` to `next`, or stay. */
export interface SwitchQuestion {
  current: string;
  next: string;
  /** Signs in as `next`. */
  accept(): Promise<void>;
  /** Keeps `current`; false when this tab has no token of theirs (the person must open their own link again). */
  stay(): boolean;
}

/**
 * Serve mode: signs in with the token of the link this page was opened with. Resolves null when signed in (or
 * nothing to do), or with a question when this browser or tab is signed in as someone else.
 */
export async function signInFromLink(): Promise<SwitchQuestion | null> {
  if (window.dermfuse) return null;
  const linkToken = takeLinkToken();
  if (!linkToken) return null;
  const answer = await postSession(linkToken, false);
  if (answer.signedIn) {
    adopt(linkToken);
    return null;
  }
  return {
    current: answer.current,
    next: answer.next,
    accept: async () => {
      await postSession(linkToken, true);
      adopt(linkToken);
    },
    stay: () => token !== '',
  };
}

function httpTransport(): (name: CallName, req: unknown) => Promise<Envelope<unknown>> {
  return (name, req) =>
    send(`/api/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(req ?? {}),
    });
}

/** One piece of a file uploaded into the project (serve), at `offset` of it: how much of the file has arrived. */
export async function putUploadPiece(
  id: string,
  path: string,
  offset: number,
  piece: Blob,
  signal: AbortSignal,
): Promise<{ received: number; complete: boolean }> {
  const envelope = await send(`/upload?${new URLSearchParams({ id, path, offset: String(offset) }).toString()}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
    body: piece,
    signal,
  });
  if (!envelope.ok) throw new ApiError(envelope.error);
  return envelope.value as { received: number; complete: boolean };
}

/** A request to the server, its answer as an envelope: the server's own, or one saying why there is none. */
async function send(url: string, init: RequestInit): Promise<Envelope<unknown>> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw err;
    // No answer at all (server stopped, network gone): not an error of this call, a state of the connection.
    connectionLost();
    return { ok: false, error: { code: 'UNREACHABLE', message: NOT_SENT_MESSAGE } };
  }
  // A proxy in front of a stopped server answers for it: that is no answer from DermFuse.
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    connectionLost();
    return { ok: false, error: { code: 'UNREACHABLE', message: NOT_SENT_MESSAGE } };
  }
  connectionAnswered();
  if (res.status === 401)
    return {
      ok: false,
      error: { code: 'UNAUTHORIZED', message: 'The server refused the request: open the URL that `dermfuse serve` printed (it carries the token).' },
    };
  if (res.status === 429) return { ok: false, error: { code: 'BUSY', message: 'The server is busy with this account’s other requests: try again.' } };
  // The server's own refusals before a call runs (wrong host, too large, wrong type) are plain text.
  if (!(res.headers.get('content-type') ?? '').includes('application/json')) {
    const text = (await res.text()).trim().slice(0, 300);
    const code = res.status === 403 ? 'FORBIDDEN' : res.status === 413 || res.status === 415 || res.status === 400 ? 'INVALID_ARGUMENT' : 'INTERNAL';
    return { ok: false, error: { code, message: `The server refused the request (${res.status}): ${text || res.statusText}` } };
  }
  return (await res.json()) as Envelope<unknown>;
}

/** The contract client: Electron IPC through the preload, or HTTP in `serve` mode. Screens cannot tell which. */
export const api: ApiClient = makeClient(window.dermfuse ? (name, req) => window.dermfuse!.call(name, req) as Promise<Envelope<unknown>> : httpTransport());

export const isDesktop = window.dermfuse !== undefined;
