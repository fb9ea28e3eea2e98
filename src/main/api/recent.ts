import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAX_RECENT = 10;

/** Recently opened projects, kept in a small JSON file in the user's config folder. */
export class RecentProjects {
  constructor(private readonly file: string = defaultFile()) {}

  list(): string[] {
    try {
      const data = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      return Array.isArray(data) ? data.filter((d): d is string => typeof d === 'string' && fs.existsSync(d)) : [];
    } catch {
      return [];
    }
  }

  add(dir: string): void {
    const next = [dir, ...this.list().filter((d) => d !== dir)].slice(0, MAX_RECENT);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify(next, null, 2));
  }
}

function defaultFile(): string {
  const base = process.env.DERMFUSE_CONFIG_DIR ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'dermfuse');
  return path.join(base, 'recent.json');
}
