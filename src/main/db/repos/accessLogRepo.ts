import type { Statement } from 'better-sqlite3';
import type { Role } from '../../../shared/team.ts';
import type { Db } from '../open.ts';

export interface AccessLogRow {
  at: string;
  who: string;
  role: Role;
  action: string;
  image_id: number | null;
  external_id: string | null;
  images: number | null;
  outcome: string;
  origin: string;
}

export interface AccessEvent {
  who: string;
  role: Role;
  action: string;
  imageId: number | null;
  images: number | null;
  outcome: string;
  origin: string;
}

/** The access log: one row per call through the window or `serve` and per full image served. */
export class AccessLogRepo {
  private readonly insert: Statement<[string, string, string, string, number | null, number | null, string, string]>;
  private readonly recent: Statement<{ since: string | null; who: string | null; limit: number }, AccessLogRow>;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT INTO access_log (at, who, role, action, image_id, images, outcome, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.recent = db.prepare(
      `SELECT l.at, l.who, l.role, l.action, l.image_id, i.external_id, l.images, l.outcome, l.origin
       FROM access_log l LEFT JOIN images i ON i.id = l.image_id
       WHERE (@since IS NULL OR l.at >= @since) AND (@who IS NULL OR l.who = @who COLLATE NOCASE)
       ORDER BY l.id DESC LIMIT @limit`,
    );
  }

  add(e: AccessEvent): void {
    this.insert.run(new Date().toISOString(), e.who, e.role, e.action, e.imageId, e.images, e.outcome, e.origin);
  }

  /** Newest first; `since` an ISO time (UTC), `who` a name (any case). */
  list(since: string | null, who: string | null, limit: number): AccessLogRow[] {
    return this.recent.all({ since, who, limit });
  }
}
