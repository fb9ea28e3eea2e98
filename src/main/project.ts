import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../shared/errors.ts';
import { openDatabase, repoOf, type Db } from './db/open.ts';
import { ImportsRepo } from './db/repos/importsRepo.ts';
import { RunsRepo } from './db/repos/runsRepo.ts';
import { makeDirs } from './files/fsChecks.ts';
import { logger } from './log.ts';

const log = logger('project');

export const DB_FILE = 'project.sqlite';
export const PROJECT_FOLDERS = ['thumbnails', 'models', 'exports'] as const;

/** An open project folder: the SQLite file plus folders for thumbnails, models and exports. */
export class Project {
  private constructor(
    readonly dir: string,
    readonly db: Db,
  ) {}

  /** True when `dir` holds a DermFuse project. */
  static exists(dir: string): boolean {
    return fs.existsSync(path.join(dir, DB_FILE));
  }

  /** Creates the folder and an empty project (idempotent: an existing project is opened). */
  static create(dir: string): { project: Project; created: boolean } {
    const abs = path.resolve(dir);
    const created = !Project.exists(abs);
    if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) {
      throw new DermFuseError('INVALID_ARGUMENT', `${abs} is a file, not a folder: choose a folder for the project.`);
    }
    const newFolder = !fs.existsSync(abs);
    makeDirs(abs, 'project folder');
    if (newFolder) chmodPrivate(abs, PRIVATE_DIR);
    keepPrivate(abs);
    // SQLite gives its WAL and shared-memory files the database file's mode: create it private first.
    if (created) fs.writeFileSync(path.join(abs, DB_FILE), '', { mode: PRIVATE_FILE, flag: 'wx' });
    const db = openDatabase(path.join(abs, DB_FILE), { create: true });
    return { project: new Project(abs, db), created };
  }

  /** Opens an existing project; an interrupted import from a killed process is marked as such. */
  static open(dir: string): Project {
    const abs = path.resolve(dir);
    if (!Project.exists(abs)) {
      throw new DermFuseError('NOT_A_PROJECT', `${abs} is not a DermFuse project (no ${DB_FILE}). Create it with: dermfuse init ${dir}`);
    }
    keepPrivate(abs);
    const db = openDatabase(path.join(abs, DB_FILE), { create: false });
    const project = new Project(abs, db);
    project.markInterruptedImports();
    return project;
  }

  /** Absolute path of a file inside the project; refuses anything that would escape the project folder. */
  resolveInside(relative: string): string {
    const abs = path.resolve(this.dir, relative);
    const rel = path.relative(this.dir, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new DermFuseError('INVALID_ARGUMENT', `Path ${relative} is outside the project.`);
    }
    return abs;
  }

  close(): void {
    this.db.close();
  }

  private removeTempThumbnails(): void {
    const root = path.join(this.dir, 'thumbnails');
    for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.tmp')) fs.rmSync(path.join(entry.parentPath, entry.name), { force: true });
    }
  }

  private markInterruptedImports(): void {
    // A 'running' import whose process is gone was killed mid-way.
    const imports = repoOf(this.db, ImportsRepo);
    const running = imports.runningImports();
    const dead = running.filter((r) => !isAlive(r.pid));
    const now = new Date().toISOString();
    for (const r of dead) imports.markInterrupted(r.id, now);
    const n = dead.length;
    const runs = repoOf(this.db, RunsRepo);
    for (const r of runs.runningRuns().filter((x) => !isAlive(x.pid))) runs.markInterrupted(r.id, now);
    if (n > 0) {
      log.warn(`${n} import(s) were interrupted; importing the same folder again completes them`);
      // A thumbnail being written when the import was killed is a temp file that no one will rename.
      if (running.every((r) => !isAlive(r.pid))) this.removeTempThumbnails();
    }
  }
}

/** Owner-only modes (POSIX): a project holds patient ids, ages, sites and photos' thumbnails. */
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

function chmodPrivate(file: string, mode: number): void {
  if (process.platform === 'win32') return;
  try {
    fs.chmodSync(file, mode);
  } catch (err) {
    log.warn(`could not make ${file} private to its owner: ${(err as Error).message}`);
  }
}

/**
 * The project's own folders (thumbnails, models, exports) owner-only, made so when missing, and the database with its
 * WAL and shared-memory files readable by the owner only (projects made by older versions are tightened on open).
 * The project folder itself is made owner-only when DermFuse creates it; a folder the person chose keeps its mode.
 */
function keepPrivate(dir: string): void {
  for (const sub of PROJECT_FOLDERS) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: PRIVATE_DIR });
    chmodPrivate(path.join(dir, sub), PRIVATE_DIR);
  }
  for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) if (fs.existsSync(path.join(dir, f))) chmodPrivate(path.join(dir, f), PRIVATE_FILE);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
