import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkWritableDir } from './fsChecks.ts';

/** Writes a file the user named (an export): its folder is checked first, so a bad place fails at once and by name. */
export async function writeOutputFile(file: string, data: Buffer): Promise<void> {
  checkWritableDir(path.dirname(file), 'output folder');
  await writeAtomic(file, data);
}

/**
 * Writes a file atomically (unique temp file + rename), so a kill never leaves a half-written file and two
 * writers of the same content-addressed file never trip over each other's temp file.
 */
export async function writeAtomic(file: string, data: Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomUUID()}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}
