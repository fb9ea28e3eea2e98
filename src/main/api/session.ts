import { z } from 'zod';
import { sameName, type Caller } from '../team/accounts.ts';
import { MEDIA_COOKIE, sameToken } from './httpGuard.ts';
import type { Service } from './service.ts';

/**
 * Where the page signs in with a link's token (POST, bearer header, JSON body). Under /media, so that the browser
 * sends the image cookie (scoped to /media) with it: that cookie says who this browser is signed in as now.
 */
export const SESSION_PATH = '/media/session';

const SessionRequest = z.object({
  /** The token this tab signed in with before, if any (the page keeps it for the tab). */
  current: z.string().max(200).optional(),
  /** The person chose to switch accounts. */
  confirm: z.boolean().optional(),
});

/** What the page is told: signed in as `name`, or asked whether to switch from `current` to `next` first. */
export type SessionAnswer = { signedIn: true; name: string } | { signedIn: false; current: string; next: string };

/**
 * Signs a browser in with the token of the link it opened, by a request only the page itself can make (a bearer
 * header and JSON: another site cannot send them). When this browser (its image cookie) or this tab is signed in as
 * another person, nothing changes until the page has asked and the person said yes: a link opened by another site's
 * page would otherwise switch the browser's account without them noticing (login CSRF). On success the image cookie
 * is set (an <img> cannot send a header).
 */
export function beginSession(
  raw: unknown,
  signed: { caller: Caller | undefined; token: string },
  ctx: { service: Service; serverToken: string; cookie: string | undefined; secure: boolean },
): { body: SessionAnswer; cookie?: string } {
  const req = SessionRequest.safeParse(raw ?? {});
  const { current, confirm } = req.success ? req.data : {};
  const nameOf = (t: string | undefined): string | null => {
    if (!t) return null;
    if (sameToken(t, ctx.serverToken)) return ctx.service.owner().name;
    return ctx.service.accountFor(t)?.name ?? null;
  };
  const next = signed.caller?.name ?? ctx.service.owner().name;
  const other = [current, ctx.cookie].map(nameOf).find((n) => n !== null && !sameName(n, next));
  if (other && !confirm) return { body: { signedIn: false, current: other, next } };
  const secure = ctx.secure ? '; Secure' : '';
  return { body: { signedIn: true, name: next }, cookie: `${MEDIA_COOKIE}=${signed.token}; HttpOnly; SameSite=Strict; Path=/media${secure}` };
}
