import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/main/db/open.ts';
import { MIGRATIONS } from '../../src/main/db/migrations/index.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());

describe('project store', () => {
  it('creates a WAL database with foreign keys, STRICT tables and the latest schema version', () => {
    tmp = tempDir();
    const { project } = Project.create(path.join(tmp.dir, 'p'));
    expect(project.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(project.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(project.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    const sql = project.db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'images'`).pluck().get() as string;
    expect(sql).toMatch(/STRICT/);
    project.close();
  });

  it('refuses a project written by a newer DermFuse, naming both versions', () => {
    tmp = tempDir();
    const dir = path.join(tmp.dir, 'p');
    Project.create(dir).project.close();
    const db = new Database(path.join(dir, 'project.sqlite'));
    db.pragma('user_version = 999');
    db.close();
    expect(() => Project.open(dir)).toThrow(`newer DermFuse (schema version 999; this version knows up to ${MIGRATIONS.at(-1)!.version})`);
  });

  it('upgrades a version-4 project: current labels become a table that matches the history and follows new annotations', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 4),
    );
    const now = new Date().toISOString();
    db.exec(`INSERT INTO label_sets (id, name, is_primary, created_at) VALUES (1, 'dx', 1, '${now}');
      INSERT INTO classes (id, label_set_id, name, position) VALUES (1, 1, 'NEV', 0), (2, 1, 'MEL', 1);`);
    for (let i = 1; i <= 3; i++)
      db.prepare(`INSERT INTO images (id, external_id, path, bytes, mtime_ms, status, created_at, updated_at) VALUES (?, ?, 'x', 1, 1, 'ok', ?, ?)`).run(
        i,
        `img${i}`,
        now,
        now,
      );
    const annotate = db.prepare(`INSERT INTO annotations (image_id, label_set_id, class_id, author, source, created_at) VALUES (?, 1, ?, 'a', 'user', ?)`);
    annotate.run(1, 1, now);
    annotate.run(1, 2, now);
    annotate.run(2, 1, now);
    annotate.run(2, null, now);
    migrate(db, MIGRATIONS);
    const current = () => db.prepare('SELECT image_id, class_id FROM current_labels ORDER BY image_id').all();
    expect(current()).toEqual([
      { image_id: 1, class_id: 2 },
      { image_id: 2, class_id: null },
    ]);
    expect(db.prepare('SELECT name, hotkey FROM classes ORDER BY position').all()).toEqual([
      { name: 'NEV', hotkey: '1' },
      { name: 'MEL', hotkey: '2' },
    ]);
    annotate.run(3, 2, now);
    annotate.run(1, 1, now);
    expect(current()).toEqual([
      { image_id: 1, class_id: 1 },
      { image_id: 2, class_id: null },
      { image_id: 3, class_id: 2 },
    ]);
    db.close();
  });

  it('rolls back every pending migration when one fails', () => {
    const db = new Database(':memory:');
    const bad = [
      { version: 1, up: (d: Database.Database) => d.exec('CREATE TABLE a (x INTEGER) STRICT') },
      {
        version: 2,
        up: () => {
          throw new Error('boom');
        },
      },
    ];
    expect(() => migrate(db, bad)).toThrow('boom');
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'a'`).pluck().get()).toBe(0);
  });

  it('keeps every path lookup inside the project folder', () => {
    tmp = tempDir();
    const { project } = Project.create(path.join(tmp.dir, 'p'));
    expect(project.resolveInside('thumbnails/ab/x.jpg')).toBe(path.join(project.dir, 'thumbnails/ab/x.jpg'));
    expect(() => project.resolveInside('../secret')).toThrow(/outside the project/);
    expect(() => project.resolveInside('/etc/passwd')).toThrow(/outside the project/);
    project.close();
  });
});
