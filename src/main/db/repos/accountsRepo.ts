import type { Statement } from 'better-sqlite3';
import type { Role } from '../../../shared/team.ts';
import type { Db } from '../open.ts';

export interface AccountRow {
  id: number;
  name: string;
  role: Role;
  created_at: string;
  revoked_at: string | null;
}

/** The project's accounts: name, role, and the SHA-256 of the personal token (never the token itself). */
export class AccountsRepo {
  private readonly insert: Statement<[string, string, string, string]>;
  private readonly all: Statement<[], AccountRow>;
  private readonly byHash: Statement<[string], AccountRow>;
  private readonly revokeStmt: Statement<[string, string]>;
  private readonly rehash: Statement<[string, string]>;
  private readonly activeCount: Statement<[], number>;
  private readonly authorNames: Statement<[], string>;

  constructor(db: Db) {
    const cols = 'id, name, role, created_at, revoked_at';
    this.insert = db.prepare('INSERT INTO accounts (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)');
    this.all = db.prepare(`SELECT ${cols} FROM accounts ORDER BY id`);
    this.byHash = db.prepare(`SELECT ${cols} FROM accounts WHERE token_hash = ? AND revoked_at IS NULL`);
    this.revokeStmt = db.prepare('UPDATE accounts SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL');
    this.rehash = db.prepare('UPDATE accounts SET token_hash = ?, revoked_at = NULL WHERE name = ?');
    this.activeCount = db.prepare<[], number>('SELECT COUNT(*) FROM accounts WHERE revoked_at IS NULL').pluck();
    this.authorNames = db
      .prepare<[], string>(`SELECT author FROM annotations WHERE source = 'user' UNION SELECT author FROM field_edits WHERE source = 'user'`)
      .pluck();
  }

  add(name: string, role: Role, tokenHash: string, at: string): void {
    this.insert.run(name, role, tokenHash, at);
  }

  list(): AccountRow[] {
    return this.all.all();
  }

  /** The active account holding this token hash. */
  byTokenHash(hash: string): AccountRow | undefined {
    return this.byHash.get(hash);
  }

  /** Returns false when no active account has that name. */
  revoke(name: string, at: string): boolean {
    return this.revokeStmt.run(at, name).changes > 0;
  }

  /** A new token for an account (a lost link); reactivates a revoked one. */
  replaceToken(name: string, tokenHash: string): boolean {
    return this.rehash.run(tokenHash, name).changes > 0;
  }

  active(): number {
    return this.activeCount.get() ?? 0;
  }

  /** Every name people's labels and metadata edits were recorded under. */
  authors(): string[] {
    return this.authorNames.all();
  }
}
