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
    expect(() => Project.open(dir)).toThrow(/newer DermFuse \(schema version 999; this version knows up to 4\)/);
  });

  it('rolls back every pending migration when one fails', () => {
    const db = new Database(':memory:');
    const bad = [
      { version: 1, up: (d: Database.Database) => d.exec('CREATE TABLE a (x INTEGER) STRICT') },
      { version: 2, up: () => { throw new Error('boom'); } },
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
