import type { Database } from 'better-sqlite3';

export const version = 1;

/** Images, patients, lesions, the metadata schema with typed values, label sets and annotation history. */
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE patients (
      id INTEGER PRIMARY KEY,
      external_id TEXT NOT NULL UNIQUE
    ) STRICT;

    CREATE TABLE lesions (
      id INTEGER PRIMARY KEY,
      external_id TEXT NOT NULL UNIQUE,
      patient_id INTEGER REFERENCES patients(id)
    ) STRICT;

    CREATE TABLE images (
      id INTEGER PRIMARY KEY,
      external_id TEXT NOT NULL UNIQUE,
      path TEXT NOT NULL,
      sha256 TEXT,
      bytes INTEGER NOT NULL,
      mtime_ms INTEGER NOT NULL,
      width INTEGER,
      height INTEGER,
      format TEXT,
      thumb TEXT,
      status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
      error TEXT,
      patient_id INTEGER REFERENCES patients(id),
      lesion_id INTEGER REFERENCES lesions(id),
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX images_sha256 ON images(sha256);
    CREATE INDEX images_patient ON images(patient_id);
    CREATE INDEX images_lesion ON images(lesion_id);

    CREATE TABLE fields (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL CHECK (type IN ('number', 'ordinal', 'category', 'boolean', 'text')),
      allowed_values TEXT,
      unit TEXT,
      min REAL,
      max REAL,
      missing_allowed INTEGER NOT NULL DEFAULT 1,
      position INTEGER NOT NULL
    ) STRICT;

    -- One row per present value; a missing value has no row. num holds number/ordinal/boolean, text the rest.
    CREATE TABLE field_values (
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      field_id INTEGER NOT NULL REFERENCES fields(id) ON DELETE CASCADE,
      num REAL,
      text TEXT,
      source TEXT NOT NULL CHECK (source IN ('import', 'user')),
      updated_at TEXT NOT NULL,
      PRIMARY KEY (image_id, field_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX field_values_field ON field_values(field_id, num, text);

    -- Every metadata change, for undo and audit. old/new are JSON-encoded FieldValues.
    CREATE TABLE field_edits (
      id INTEGER PRIMARY KEY,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      field_id INTEGER NOT NULL REFERENCES fields(id) ON DELETE CASCADE,
      old_value TEXT,
      new_value TEXT,
      author TEXT NOT NULL,
      source TEXT NOT NULL CHECK (source IN ('import', 'user')),
      created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX field_edits_image ON field_edits(image_id);

    CREATE TABLE label_sets (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      is_primary INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE classes (
      id INTEGER PRIMARY KEY,
      label_set_id INTEGER NOT NULL REFERENCES label_sets(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      color TEXT,
      hotkey TEXT,
      position INTEGER NOT NULL,
      UNIQUE (label_set_id, name)
    ) STRICT;

    -- History of labels: never updated, only appended. The newest row per (image, label set) is current;
    -- class_id NULL means the label was cleared.
    CREATE TABLE annotations (
      id INTEGER PRIMARY KEY,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      label_set_id INTEGER NOT NULL REFERENCES label_sets(id) ON DELETE CASCADE,
      class_id INTEGER REFERENCES classes(id),
      unsure INTEGER NOT NULL DEFAULT 0,
      author TEXT NOT NULL,
      source TEXT NOT NULL CHECK (source IN ('import', 'user', 'model')),
      created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX annotations_image ON annotations(image_id, label_set_id, id);

    CREATE VIEW current_labels AS
      SELECT a.image_id, a.label_set_id, a.class_id, a.unsure, a.author, a.source, a.created_at
      FROM annotations a
      WHERE a.id = (SELECT MAX(b.id) FROM annotations b
                    WHERE b.image_id = a.image_id AND b.label_set_id = a.label_set_id);

    CREATE TABLE imports (
      id INTEGER PRIMARY KEY,
      images_dir TEXT NOT NULL,
      metadata_path TEXT,
      options TEXT NOT NULL,
      pid INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled', 'interrupted')),
      summary TEXT,
      started_at TEXT NOT NULL,
      finished_at TEXT
    ) STRICT;

    CREATE TABLE import_problems (
      id INTEGER PRIMARY KEY,
      import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
      source TEXT NOT NULL,
      message TEXT NOT NULL
    ) STRICT;
  `);
}
