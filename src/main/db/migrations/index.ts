import type { Database } from 'better-sqlite3';
import * as m0001 from './0001-initial.ts';

export interface Migration {
  version: number;
  up(db: Database): void;
}

/** Every shipped migration, in order. Shipped migrations are never edited: add a new file instead. */
export const MIGRATIONS: readonly Migration[] = [m0001];
