import { createHash, randomBytes } from 'node:crypto';
import { DermFuseError } from '../../shared/errors.ts';
import { roleAtLeast, type AccountInfo, type Role } from '../../shared/team.ts';
import { AccountsRepo } from '../db/repos/accountsRepo.ts';
import { repoOf, type Db } from '../db/open.ts';
import { SettingsRepo } from '../db/repos/settingsRepo.ts';

/** Who a request acts as. The desktop, the CLI and the server's own link act as the project's owner (an admin). */
export interface Caller {
  name: string;
  role: Role;
  /** A personal account signed in with its own token (not the owner). */
  account: boolean;
  /** The account's id (absent for the owner). */
  id?: number;
}

/** Whose undo history an edit joins: one per account (by id), one for the owner; never shared by a name. */
export function editorKey(caller: Caller): string {
  if (!caller.account) return 'owner';
  return caller.id !== undefined ? `account#${caller.id}` : `account:${caller.name.toLocaleLowerCase('und')}`;
}

/** Names compare as people read them: case-insensitive, also beyond ASCII ("Émile" is "émile"). */
export function sameName(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase('und') === b.trim().toLocaleLowerCase('und');
}

/**
 * The name the project's owner labels under: the annotator setting, else the operating-system user, stored the
 * first time it is asked for, so the CLI and a server started by another user agree on it.
 */
export function ownerName(db: Db | null): string {
  if (!db) return process.env.USER ?? process.env.USERNAME ?? 'annotator';
  const settings = repoOf(db, SettingsRepo);
  const stored = settings.get('annotator');
  if (stored !== undefined) return stored;
  const name = process.env.USER ?? process.env.USERNAME ?? 'annotator';
  settings.set('annotator', name);
  return name;
}

/**
 * Refuses a name someone already labels under: the owner, another account (also differing in case), or anyone
 * whose labels or metadata edits carry it. An account under such a name would take over their labels (and, in a
 * blind task, see them as its own).
 */
function checkNameFree(db: Db, name: string): void {
  if (sameName(ownerName(db), name))
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `Account name "${name}" is the project owner's annotator name: labels by both would be one person's. Choose another name.`,
    );
  const repo = repoOf(db, AccountsRepo);
  const account = repo.list().find((a) => sameName(a.name, name));
  if (account)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `An account named "${account.name}" exists already (names are not case-sensitive). Use users token to give it a new link.`,
    );
  const author = repo.authors().find((a) => sameName(a, name));
  if (author)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `Labels in this project are recorded under "${author}" already: an account of that name would take them over. Choose another name.`,
    );
}

/** The owner's annotator name may not be an account's (their labels would mix). */
export function checkOwnerName(db: Db, name: string): void {
  if (
    repoOf(db, AccountsRepo)
      .list()
      .some((a) => sameName(a.name, name))
  )
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `"${name}" is the name of an account of this project: the owner's labels would mix with theirs. Choose another name.`,
    );
}

/** 24 random bytes: a personal token is as strong as the server's own. */
const TOKEN_BYTES = 24;
/** Account names appear in every annotation and in the agreement tables. */
const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,59}$/u;
/** A project setting: "no" stops annotators from editing metadata (adjudicators and admins still may). */
export const METADATA_EDITS_SETTING = 'team.annotatorMetadataEdits';

/** A project setting: the address `dermfuse serve` last served the project at (without its token). */
export const SERVER_ADDRESS_SETTING = 'team.serverAddress';

/** Keeps the address a server listens on, so sign-in links printed later name it. */
export function rememberServerAddress(service: { current(): { db: Db } | null }, url: string): void {
  const project = service.current();
  if (project) repoOf(project.db, SettingsRepo).set(SERVER_ADDRESS_SETTING, new URL(url).origin);
}

/** The address for sign-in links: given, else where the project was last served, else null. */
export function serverAddress(db: Db, given: string | undefined): string | null {
  return given ?? repoOf(db, SettingsRepo).get(SERVER_ADDRESS_SETTING) ?? null;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates an account and returns its personal token (shown once: only its hash is stored). */
export function addAccount(db: Db, name: string, role: Role): string {
  const clean = name.trim();
  if (!NAME_PATTERN.test(clean))
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `Account name "${name}": use 1-60 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit.`,
    );
  checkNameFree(db, clean);
  const repo = repoOf(db, AccountsRepo);
  const token = randomBytes(TOKEN_BYTES).toString('hex');
  repo.add(clean, role, tokenHash(token), new Date().toISOString());
  return token;
}

/** A fresh token for an existing account (the old link stops working); reactivates a revoked account. */
export function renewToken(db: Db, name: string): string {
  const token = randomBytes(TOKEN_BYTES).toString('hex');
  if (!repoOf(db, AccountsRepo).replaceToken(name, tokenHash(token))) throw new DermFuseError('NOT_FOUND', `No account named "${name}".`);
  return token;
}

export function revokeAccount(db: Db, name: string): void {
  if (!repoOf(db, AccountsRepo).revoke(name, new Date().toISOString()))
    throw new DermFuseError('NOT_FOUND', `No active account named "${name}" (users list shows them).`);
}

export function listAccounts(db: Db): AccountInfo[] {
  return repoOf(db, AccountsRepo)
    .list()
    .map((a) => ({ name: a.name, role: a.role, createdAt: a.created_at, revokedAt: a.revoked_at }));
}

/** The active account a personal token belongs to; looked up per request, so a revocation holds at once. */
export function accountCaller(db: Db, token: string): Caller | null {
  const row = repoOf(db, AccountsRepo).byTokenHash(tokenHash(token));
  return row ? { name: row.name, role: row.role, account: true, id: row.id } : null;
}

/** True when this project has accounts that can sign in. */
export function hasAccounts(db: Db): boolean {
  return repoOf(db, AccountsRepo).active() > 0;
}

/** Sets whether annotators may edit metadata. */
export function setMetadataEdits(db: Db, allowed: boolean): { annotatorsEditMetadata: boolean } {
  repoOf(db, SettingsRepo).set(METADATA_EDITS_SETTING, allowed ? 'yes' : 'no');
  return { annotatorsEditMetadata: allowed };
}

/** Whether an adjudicator may decide a dispute they labelled themselves: no, unless an admin allowed it. */
export const OWN_ADJUDICATION_SETTING = 'team.adjudicateOwnDisputes';

export function setOwnAdjudication(db: Db, allowed: boolean): { adjudicateOwn: boolean } {
  repoOf(db, SettingsRepo).set(OWN_ADJUDICATION_SETTING, allowed ? 'yes' : 'no');
  return { adjudicateOwn: allowed };
}

export function ownAdjudicationAllowed(db: Db): boolean {
  return repoOf(db, SettingsRepo).get(OWN_ADJUDICATION_SETTING) === 'yes';
}

/** Does the project let annotators edit metadata? It does unless an admin said no. */
export function annotatorsEditMetadata(db: Db): boolean {
  return repoOf(db, SettingsRepo).get(METADATA_EDITS_SETTING) !== 'no';
}

/** May this caller edit metadata? Adjudicators and admins always; annotators when the project allows it. */
export function mayEditMetadata(db: Db, caller: Caller): boolean {
  return roleAtLeast(caller.role, 'adjudicator') || annotatorsEditMetadata(db);
}
