import { makeClient, type ApiClient, type CallName, type Envelope } from '../../shared/api.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser served by `dermfuse serve`. */
    dermfuse?: { call(name: string, req: unknown): Promise<unknown> };
  }
}

/** The token `dermfuse serve` printed in the URL; kept for the session, then removed from the address bar. */
function serveToken(): string {
  const params = new URLSearchParams(window.location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem('dermfuse-token', fromUrl);
    params.delete('token');
    const rest = params.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}${window.location.hash}`);
    return fromUrl;
  }
  return sessionStorage.getItem('dermfuse-token') ?? '';
}

function httpTransport(): (name: CallName, req: unknown) => Promise<Envelope<unknown>> {
  const token = serveToken();
  return async (name, req) => {
    const res = await fetch(`/api/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(req ?? {}),
    });
    if (res.status === 401)
      return {
        ok: false,
        error: { code: 'UNAUTHORIZED', message: 'The server refused the request: open the URL that `dermfuse serve` printed (it carries the token).' },
      };
    return (await res.json()) as Envelope<unknown>;
  };
}

/** The contract client: Electron IPC through the preload, or HTTP in `serve` mode. Screens cannot tell which. */
export const api: ApiClient = makeClient(window.dermfuse ? (name, req) => window.dermfuse!.call(name, req) as Promise<Envelope<unknown>> : httpTransport());

export const isDesktop = window.dermfuse !== undefined;
