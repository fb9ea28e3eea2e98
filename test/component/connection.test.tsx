// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => vi.unstubAllGlobals());

/** The error a call rejects with, as its envelope's payload ({ code, message }). */
const failure = async (call: () => Promise<unknown>) =>
  call().then(
    () => null,
    (e: unknown) => (e as { payload: { code: string; message: string } }).payload,
  );

describe('the serve client when the server is gone or refuses in plain text', () => {
  it('a label key pressed while the server is gone says it was not saved, and is sent once (never repeated)', async () => {
    const fetchMock = vi.fn().mockRejectedValue(new TypeError('Failed to fetch'));
    vi.stubGlobal('fetch', fetchMock);
    const { api } = await import('../../src/renderer/src/api.ts');
    const err = await failure(() => api['labels.set']({ imageId: 1, className: 'BCC' }));
    expect(err).toMatchObject({ code: 'UNREACHABLE', message: expect.stringMatching(/^The DermFuse server is not reachable: nothing was sent or saved/) });
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('a proxy’s 502 page counts as no answer; the server’s plain-text 403 and 413 keep their words and codes', async () => {
    const { api } = await import('../../src/renderer/src/api.ts');
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response('<html>502 Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } })));
    expect(await failure(() => api['labels.set']({ imageId: 1, className: 'BCC' }))).toMatchObject({ code: 'UNREACHABLE' });
    for (const [status, body, code] of [
      [403, 'Wrong host.', 'FORBIDDEN'],
      [413, 'Request too large.', 'INVALID_ARGUMENT'],
    ] as const) {
      vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })));
      expect(await failure(() => api['labels.set']({ imageId: 1, className: 'BCC' }))).toMatchObject({
        code,
        message: `The server refused the request (${status}): ${body}`,
      });
    }
  });
});
