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

/**
 * The app's folder (the one with package.json, out/ and node_modules/): found upwards from this module, which is
 * src/main/resources.ts from source and a chunk at the top of out/main when built.
 */
export function appRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new DermFuseError('FILE_NOT_FOUND', 'DermFuse’s own folder (with package.json) was not found: reinstall DermFuse.');
    dir = up;
  }
  return dir;
}

/** DermFuse's version, from its package.json (read where it is, from source or from a build). */
export function appVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
