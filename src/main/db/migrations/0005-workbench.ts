import type { Database } from 'better-sqlite3';

export const version = 5;

/**
 * The workbench at scale, and the label-set editor and label review:
 * - `current_labels` becomes a table kept by a trigger on the append-only `annotations` (it was a view with a
 *   correlated MAX per row, too slow for filtering and counting 100,000 images on every grid page);
 * - indexes for the grid's filters and sorts;
 * - derived targets of a label set ("malignant" = BCC, MEL, SCC), usable as a training target;
 * - label reviews: the "keep label" / "relabel" decisions taken on the likely-label-errors screen.
 */
export function up(db: Database): void {
  db.exec(`
    DROP VIEW current_labels;
    CREATE TABLE current_labels (
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      label_set_id INTEGER NOT NULL REFERENCES label_sets(id) ON DELETE CASCADE,
      annotation_id INTEGER NOT NULL,
      class_id INTEGER REFERENCES classes(id),
      unsure INTEGER NOT NULL,
      author TEXT NOT NULL,
      source TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (image_id, label_set_id)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO current_labels
      SELECT a.image_id, a.label_set_id, a.id, a.class_id, a.unsure, a.author, a.source, a.created_at
      FROM annotations a
      WHERE a.id = (SELECT MAX(b.id) FROM annotations b WHERE b.image_id = a.image_id AND b.label_set_id = a.label_set_id);
    CREATE INDEX current_labels_class ON current_labels(label_set_id, class_id);
    CREATE INDEX current_labels_author ON current_labels(label_set_id, author);
    CREATE TRIGGER annotations_current AFTER INSERT ON annotations BEGIN
      INSERT INTO current_labels (image_id, label_set_id, annotation_id, class_id, unsure, author, source, created_at)
      VALUES (NEW.image_id, NEW.label_set_id, NEW.id, NEW.class_id, NEW.unsure, NEW.author, NEW.source, NEW.created_at)
      ON CONFLICT (image_id, label_set_id) DO UPDATE SET
        annotation_id = excluded.annotation_id, class_id = excluded.class_id, unsure = excluded.unsure,
        author = excluded.author, source = excluded.source, created_at = excluded.created_at
      WHERE excluded.annotation_id > current_labels.annotation_id;
    END;

    CREATE INDEX images_status_external ON images(status, external_id);
    CREATE INDEX field_values_text ON field_values(field_id, text);

    -- A class removed in the label-set editor that the history still names is retired, not deleted.
    ALTER TABLE classes ADD COLUMN retired INTEGER NOT NULL DEFAULT 0;
    -- Number keys follow the class order until the label-set editor sets others.
    UPDATE classes SET hotkey = CAST(position + 1 AS TEXT) WHERE hotkey IS NULL AND position < 9;

    CREATE TABLE derived_targets (
      id INTEGER PRIMARY KEY,
      label_set_id INTEGER NOT NULL REFERENCES label_sets(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      -- JSON array of the class names that make the positive class.
      classes TEXT NOT NULL,
      UNIQUE (label_set_id, name)
    ) STRICT;

    CREATE TABLE label_reviews (
      id INTEGER PRIMARY KEY,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
      decision TEXT NOT NULL CHECK (decision IN ('keep', 'relabel')),
      annotation_id INTEGER NOT NULL REFERENCES annotations(id),
      author TEXT NOT NULL,
      created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX label_reviews_image ON label_reviews(image_id);
  `);
}
