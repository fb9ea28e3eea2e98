import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

/** Project-wide settings, one value per key (the annotator name recorded with edits). */
export class SettingsRepo {
  private readonly read: Statement<[string], string>;
  private readonly write: Statement<[string, string]>;

  constructor(db: Db) {
    this.read = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck();
    this.write = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  get(key: string): string | undefined {
    return this.read.get(key);
  }

  set(key: string, value: string): void {
    this.write.run(key, value);
  }
}
