import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import type { Project } from '../project.ts';
import { scanImages } from '../files/imageFiles.ts';
import { repoOf, writeTransaction } from '../db/open.ts';

export interface RelinkSummary {
  missing: number;
  relinked: number;
  stillMissing: string[];
}

/** Finds images whose files moved: looks in `dir` for files of the same size and SHA-256 and records their new paths. */
export async function relinkImages(project: Project, dir: string): Promise<RelinkSummary> {
  const repo = repoOf(project.db, ImagesRepo);
  const missing = repo.list().filter((i) => i.sha256 !== null && !fs.existsSync(i.path));
  if (missing.length === 0) return { missing: 0, relinked: 0, stillMissing: [] };
  const wantedSizes = new Set(missing.map((m) => m.bytes));
  const bySha = new Map<string, string>();
  for (const f of await scanImages(dir, [project.dir])) {
    if (!wantedSizes.has(f.bytes)) continue;
    const sha = createHash('sha256')
      .update(await fs.promises.readFile(f.path))
      .digest('hex');
    if (!bySha.has(sha)) bySha.set(sha, f.path);
  }
  const images = repoOf(project.db, ImagesRepo);
  const stillMissing: string[] = [];
  let relinked = 0;
  writeTransaction(project.db, () => {
    for (const m of missing) {
      const found = bySha.get(m.sha256!);
      if (!found) {
        stillMissing.push(m.external_id);
        continue;
      }
      images.moved(m.id, found, Math.floor(fs.statSync(found).mtimeMs));
      relinked++;
    }
  })();
  return { missing: missing.length, relinked, stillMissing };
}
