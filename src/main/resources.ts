import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DermFuseError } from '../shared/errors.ts';

/**
 * The app's `resources/` folder (the built-in backbone, the sample): found upwards from this module, which sits at
 * src/main/ when run from source (CLI, tests) and in out/main/ or a chunk folder below it when built.
 * DERMFUSE_RESOURCES overrides (a packaged app points it at its resources).
 */
export function resourcesDir(): string {
  const override = process.env.DERMFUSE_RESOURCES;
  if (override) return path.resolve(override);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'resources');
    if (fs.existsSync(path.join(candidate, 'models'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new DermFuseError(
    'FILE_NOT_FOUND',
    'The app’s resources folder (built-in backbone and sample) is missing: reinstall DermFuse, or set DERMFUSE_RESOURCES.',
  );
}
