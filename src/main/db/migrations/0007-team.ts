import type { Database } from 'better-sqlite3';

export const version = 7;

/**
 * Teams of annotators on one project:
 * - accounts with a role and a personal sign-in token (only its SHA-256 is stored; a revoked account keeps its row
 *   so its past labels still name it);
 * - labelling tasks: a fixed set of images (the filter's matches when the task was made), how many independent
 *   labels each needs, and whether labelling is blind;
 * - adjudications: an adjudicator's decision on an image the annotators disagree on, with its reason; the decision
 *   is also written as a normal annotation (so the current label and stale runs follow it), which the annotators'
 *   per-person labels leave out.
 */
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE accounts (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      role TEXT NOT NULL CHECK (role IN ('annotator', 'adjudicator', 'admin')),
      token_hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      revoked_at TEXT
    ) STRICT;

    CREATE TABLE tasks (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      label_set_id INTEGER NOT NULL REFERENCES label_sets(id) ON DELETE CASCADE,
      -- JSON: the browser filter the images were chosen by, kept to show how the task was made.
      filter TEXT NOT NULL,
      per_image INTEGER NOT NULL CHECK (per_image BETWEEN 1 AND 5),
      blind INTEGER NOT NULL CHECK (blind IN (0, 1)),
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      closed_at TEXT
    ) STRICT;

    CREATE TABLE task_images (
      task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      PRIMARY KEY (task_id, image_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX task_images_image ON task_images(image_id);

    CREATE TABLE adjudications (
      id INTEGER PRIMARY KEY,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      label_set_id INTEGER NOT NULL REFERENCES label_sets(id) ON DELETE CASCADE,
      annotation_id INTEGER NOT NULL UNIQUE REFERENCES annotations(id),
      reason TEXT NOT NULL,
      author TEXT NOT NULL,
      created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX adjudications_image ON adjudications(image_id, label_set_id);
    -- Per-author lookups of the annotation history (queues, agreement, consensus).
    CREATE INDEX annotations_author ON annotations(author, label_set_id, image_id);
  `);
}
