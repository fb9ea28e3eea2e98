import type { Database } from 'better-sqlite3';

export const version = 11;

/**
 * A field's display name: what the screens call it ("Fitzpatrick skin type" for a CSV column `fitspatrick`). The
 * stored name stays the field's identity (filters, runs, bundles and the CLI use it); NULL shows the name itself.
 */
export function up(db: Database): void {
  db.exec(`ALTER TABLE fields ADD COLUMN display_name TEXT`);
}
