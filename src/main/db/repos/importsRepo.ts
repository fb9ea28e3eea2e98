import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

/** Imports as they ran: which are still marked running, and marking those whose process died. */
export class ImportsRepo {
  private readonly running: Statement<[], { id: number; pid: number }>;
  private readonly interrupt: Statement<[string, number]>;

  constructor(db: Db) {
    this.running = db.prepare(`SELECT id, pid FROM imports WHERE status = 'running'`);
    this.interrupt = db.prepare(`UPDATE imports SET status = 'interrupted', finished_at = ? WHERE id = ?`);
  }

  runningImports(): { id: number; pid: number }[] {
    return this.running.all();
  }

  markInterrupted(id: number, at: string): void {
    this.interrupt.run(at, id);
  }
}
