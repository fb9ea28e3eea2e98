import type { Database } from 'better-sqlite3';

export const version = 8;

/**
 * Hardening, second round:
 * - an annotation can be withdrawn by its author (a team member's undo): the row stays in the history with the time
 *   it was withdrawn, and the image's current label falls back to the newest annotation not withdrawn (the label that
 *   was current before, whoever gave it). Writing a "no label" annotation instead made the imported label lose its
 *   place as the current one;
 * - an access log: who viewed or changed what, when and from where (calls through the window or `serve`, and full
 *   images served), for the admins' Activity screen and `dermfuse audit`.
 */
export function up(db: Database): void {
  db.exec(`
    ALTER TABLE annotations ADD COLUMN withdrawn_at TEXT;
    CREATE TRIGGER annotations_withdrawn AFTER UPDATE OF withdrawn_at ON annotations
    WHEN NEW.withdrawn_at IS NOT NULL AND OLD.withdrawn_at IS NULL BEGIN
      DELETE FROM current_labels WHERE image_id = NEW.image_id AND label_set_id = NEW.label_set_id AND annotation_id = NEW.id;
      INSERT INTO current_labels (image_id, label_set_id, annotation_id, class_id, unsure, author, source, created_at)
        SELECT a.image_id, a.label_set_id, a.id, a.class_id, a.unsure, a.author, a.source, a.created_at
        FROM annotations a
        WHERE a.image_id = NEW.image_id AND a.label_set_id = NEW.label_set_id AND a.withdrawn_at IS NULL
        ORDER BY a.id DESC LIMIT 1
      ON CONFLICT (image_id, label_set_id) DO NOTHING;
    END;

    CREATE TABLE access_log (
      id INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      who TEXT NOT NULL,
      role TEXT NOT NULL,
      -- A call of the contract (images.get, labels.set, ...) or media.image (a full photo served).
      action TEXT NOT NULL,
      -- The image the call or file named (no foreign key: the log outlives a deleted image).
      image_id INTEGER,
      -- How many images a batch call named.
      images INTEGER,
      -- 'ok', or the error code the caller was answered with.
      outcome TEXT NOT NULL,
      -- The client's address, or 'this machine' for the window.
      origin TEXT NOT NULL
    ) STRICT;
    CREATE INDEX access_log_at ON access_log(at);
  `);
}
