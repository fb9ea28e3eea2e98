import type { Database } from 'better-sqlite3';
import * as m0001 from './0001-initial.ts';
import * as m0002 from './0002-features.ts';
import * as m0003 from './0003-runs.ts';
import * as m0004 from './0004-suggestions.ts';
import * as m0005 from './0005-workbench.ts';
import * as m0006 from './0006-quality.ts';
import * as m0007 from './0007-team.ts';
import * as m0008 from './0008-hardening.ts';
import * as m0009 from './0009-explanations.ts';
import * as m0010 from './0010-occlusion-metadata.ts';
import * as m0011 from './0011-field-display-names.ts';
import * as m0012 from './0012-validations.ts';

export interface Migration {
  version: number;
  up(db: Database): void;
}

/** Every shipped migration, in order. Shipped migrations are never edited: add a new file instead. */
export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009, m0010, m0011, m0012];
