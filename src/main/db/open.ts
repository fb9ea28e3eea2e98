import Database from 'better-sqlite3';
import { DermFuseError } from '../../shared/errors.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';

export type Db = Database.Database;

/** Path to an Electron-ABI build of better-sqlite3, set by the Electron entry; the Node build is used otherwise. */
let nativeBinding: string | undefined;
export function setSqliteNativeBinding(path: string | undefined): void {
  nativeBinding = path;
}

/** Opens (creating if asked) a project database with WAL, foreign keys and all migrations applied. */
export function openDatabase(file: string, opts: { create: boolean }): Db {
  const db = new Database(file, { fileMustExist: !opts.create, nativeBinding });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db, MIGRATIONS);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * A write transaction that takes the write lock when it begins (`BEGIN IMMEDIATE`). A deferred transaction that
 * reads first and writes later cannot wait for another writer: SQLite answers "database is locked" at once, because
 * `busy_timeout` does not apply to a read lock being upgraded. Every multi-step write goes through here.
 */
export function writeTransaction<A extends unknown[], R>(db: Db, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A) => tx.immediate(...args);
}

/** A read-only transaction: one consistent snapshot of several queries; never blocks or waits for writers (WAL). */
export function readTransaction<R>(db: Db, fn: () => R): R {
  return db.transaction(fn).deferred();
}

const repos = new WeakMap<Db, Map<unknown, unknown>>();

/**
 * The repository of this kind for this connection, made once: its statements are prepared once per connection,
 * not once per request.
 */
export function repoOf<R>(db: Db, Repo: new (db: Db) => R): R {
  let byKind = repos.get(db);
  if (!byKind) repos.set(db, (byKind = new Map()));
  let repo = byKind.get(Repo) as R | undefined;
  if (!repo) byKind.set(Repo, (repo = new Repo(db)));
  return repo;
}

/** Applies pending migrations in one transaction; refuses a database written by a newer DermFuse. */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new DermFuseError(
      'PROJECT_TOO_NEW',
      `This project was written by a newer DermFuse (schema version ${current}; this version knows up to ${latest}). Update DermFuse to open it.`,
    );
  }
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return;
  writeTransaction(db, () => {
    for (const m of pending) {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
  })();
}
