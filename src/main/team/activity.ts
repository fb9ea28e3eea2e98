import type { CallName } from '../../shared/api.ts';
import type { ActivityEntry } from '../../shared/team.ts';
import { AccessLogRepo, type AccessEvent } from '../db/repos/accessLogRepo.ts';
import { repoOf, type Db } from '../db/open.ts';
import { logger } from '../log.ts';

const log = logger('activity');

/**
 * Calls not logged: polling and "who am I" (a screen asks them every few seconds; they show no patient data). Every
 * other call is, views as well as edits.
 */
const UNLOGGED: ReadonlySet<string> = new Set<CallName>(['jobs.watch', 'jobs.list', 'team.me', 'settings.getAnnotator']);

/** The single image a request names (an image's detail, a label or field edit), if any. */
function imageOf(name: string, req: unknown): number | null {
  if (typeof req !== 'object' || req === null) return null;
  const r = req as Record<string, unknown>;
  const id = name === 'images.get' ? r.id : r.imageId;
  return typeof id === 'number' && Number.isInteger(id) ? id : null;
}

/** How many images a batch request names. */
function countOf(req: unknown): number | null {
  const ids = typeof req === 'object' && req !== null ? (req as Record<string, unknown>).imageIds : undefined;
  return Array.isArray(ids) ? ids.length : null;
}

/**
 * Records a call in the access log. A failure to log is reported and does not fail the call: the call's own write
 * (if any) is already committed, and refusing answers because the log is full would lose work.
 */
export function logCall(db: Db, e: Omit<AccessEvent, 'imageId' | 'images'>, req: unknown): void {
  if (UNLOGGED.has(e.action)) return;
  logAccess(db, { ...e, imageId: imageOf(e.action, req), images: countOf(req) });
}

export function logAccess(db: Db, e: AccessEvent): void {
  try {
    repoOf(db, AccessLogRepo).add(e);
  } catch (err) {
    log.warn(`could not write the access log (${e.action} by ${e.who}): ${(err as Error).message}`);
  }
}

/** The access log, newest first. `since`: an ISO time with or without offset. */
export function activity(db: Db, q: { since?: string; who?: string; limit?: number }): ActivityEntry[] {
  const since = q.since ? new Date(q.since).toISOString() : null;
  return repoOf(db, AccessLogRepo)
    .list(since, q.who ?? null, q.limit ?? 500)
    .map((r) => ({
      at: r.at,
      who: r.who,
      role: r.role,
      action: r.action,
      imageId: r.image_id,
      externalId: r.external_id,
      images: r.images,
      outcome: r.outcome,
      origin: r.origin,
    }));
}
