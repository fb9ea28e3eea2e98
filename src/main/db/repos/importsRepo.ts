import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

/** Imports as they ran: which are still marked running, and marking those whose process died. */
export class ImportsRepo {
  private readonly running: Statement<[], { id: number; pid: number }>;
  private readonly interrupt: Statement<[string, number]>;
  private readonly insert: Statement<[string, string | null, string, number, string]>;
  private readonly finishRow: Statement<[string, string, string, number]>;
  private readonly addProblem: Statement<[number, string, string]>;
  private readonly dirs: Statement<[], string>;

  constructor(db: Db) {
    this.running = db.prepare(`SELECT id, pid FROM imports WHERE status = 'running'`);
    this.interrupt = db.prepare(`UPDATE imports SET status = 'interrupted', finished_at = ? WHERE id = ?`);
    this.insert = db.prepare(`INSERT INTO imports (images_dir, metadata_path, options, pid, status, started_at) VALUES (?, ?, ?, ?, 'running', ?)`);
    this.finishRow = db.prepare(`UPDATE imports SET status = ?, summary = ?, finished_at = ? WHERE id = ?`);
    this.addProblem = db.prepare('INSERT INTO import_problems (import_id, source, message) VALUES (?, ?, ?)');
    this.dirs = db.prepare<[], string>('SELECT DISTINCT images_dir FROM imports').pluck();
  }

  /** Every image folder the project imported from. */
  imageFolders(): string[] {
    return this.dirs.all();
  }

  runningImports(): { id: number; pid: number }[] {
    return this.running.all();
  }

  /** Records an import as running in this process; returns its id. */
  start(imagesDir: string, metadataPath: string | null, options: string): number {
    return Number(this.insert.run(imagesDir, metadataPath, options, process.pid, new Date().toISOString()).lastInsertRowid);
  }

  /** Records how an import ended, with its summary and every problem. Call inside a transaction. */
  finish(id: number, status: 'done' | 'cancelled', summary: string, problems: { source: string; message: string }[]): void {
    this.finishRow.run(status, summary, new Date().toISOString(), id);
    for (const p of problems) this.addProblem.run(id, p.source, p.message);
  }

  markInterrupted(id: number, at: string): void {
    this.interrupt.run(at, id);
  }
}
