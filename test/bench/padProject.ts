import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { Project } from '../../src/main/project.ts';

/** Runs `fn` on a fresh project holding the 686 PAD photos and their metadata, in a temporary folder removed after. */
export async function withPadProject<T>(shared: string, fn: (project: Project, tmp: string) => Promise<T>): Promise<T> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dermfuse-bench-'));
  const pad = path.join(shared, 'data/pad-ufes-20');
  const project = Project.create(path.join(tmp, 'p')).project;
  try {
    await runImport(project, await planImport({ imagesDir: path.join(pad, 'images'), metadataPath: path.join(pad, 'metadata.csv') }, project.dir));
    return await fn(project, tmp);
  } finally {
    if (project.db.open) project.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
