import { DermFuseError } from '../../shared/errors.ts';
import { isInside, realPath } from '../files/fsChecks.ts';

/**
 * What the callers of a service may reach on this machine. The desktop window belongs to the person at it: any
 * folder. `serve` hands a token to whoever opens its URL, so it pins one project and reads only inside that project
 * and the folders named with `--data`.
 */
export interface AccessPolicy {
  /** Opening or creating another project is refused. */
  pinned: boolean;
  /** Folders that files may be read from (besides the open project); null: anywhere. */
  dataRoots: string[] | null;
  /** The most one upload into the project may hold (serve; the window imports folders directly). */
  maxUploadBytes?: number;
}

/** An upload's cap unless `dermfuse serve --max-upload` says otherwise. */
export const DEFAULT_MAX_UPLOAD_BYTES = 20 * 2 ** 30;

export const DESKTOP_ACCESS: AccessPolicy = { pinned: false, dataRoots: null };

/**
 * Refuses a path outside the allowed folders, naming which request field it came from. Symbolic links are resolved
 * first, so a link inside a data folder cannot point out of it.
 */
export function checkReadable(policy: AccessPolicy, projectDir: string, file: string, what: string): void {
  if (policy.dataRoots === null) return;
  const real = realPath(file);
  const roots = [projectDir, ...policy.dataRoots].map(realPath);
  if (roots.some((r) => isInside(real, r))) return;
  throw new DermFuseError(
    'FORBIDDEN',
    `${what}: ${file} is outside the folders this server may read (the project and the --data folders). Restart dermfuse serve with --data naming the folder that holds it.`,
  );
}
