/** Stable error codes: the renderer, the CLI and tests switch on these, never on message text. */
export const ERROR_CODES = [
  'NOT_A_PROJECT',
  'PROJECT_TOO_NEW',
  'INVALID_REQUEST',
  'INVALID_ARGUMENT',
  'FILE_NOT_FOUND',
  'CSV_INVALID',
  'PRESET_UNRECOGNISED',
  'COLUMN_NOT_FOUND',
  'INVALID_VALUE',
  'NOT_FOUND',
  'CANCELLED',
  'BUSY',
  'UNSUPPORTED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'INTERNAL',
  /** The client could not reach the server at all (serve mode): the renderer says so in a banner and retries. */
  'UNREACHABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error meant for the user: `message` says what was wrong and what to do. */
export class DermFuseError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DermFuseError';
  }
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

/** Converts anything thrown into the payload the contract sends; unknown errors become INTERNAL. */
export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof DermFuseError) return { code: err.code, message: err.message };
  if (err instanceof Error && err.name === 'AbortError') return { code: 'CANCELLED', message: 'Cancelled.' };
  // SQLite's "database is locked" after its busy timeout: another process held the project's write lock too long.
  if (err instanceof Error && (err as { code?: unknown }).code === 'SQLITE_BUSY') {
    return { code: 'BUSY', message: 'The project is busy with a long write in another DermFuse process; nothing was changed. Try again in a moment.' };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}

/**
 * The first problem a schema found, as one line for a person: "preprocessing.scale.0: must be non-zero" (the field
 * path, or "top level"). Never the raw issue list, which reads as a program's dump.
 */
export function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid value';
  return `${issue.path.map(String).join('.') || 'top level'}: ${issue.message}`;
}
