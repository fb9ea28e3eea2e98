#!/usr/bin/env node
// Writes test/durations.json from vitest's cache of the last runs (node_modules/.vite/vitest/*/results.json): the
// seconds of each file by "project:file", which vitest.config.ts orders a fresh clone's files by. Run it after a
// full `npm test` when files were added or became much slower; the timing project runs alone and is left out.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const cacheDir = path.join(root, 'node_modules/.vite/vitest');
const caches = fs.existsSync(cacheDir)
  ? fs
      .readdirSync(cacheDir)
      .map((d) => path.join(cacheDir, d, 'results.json'))
      .filter((f) => fs.existsSync(f))
  : [];
if (caches.length === 0) {
  console.error('No vitest cache yet: run npm test first.');
  process.exit(1);
}
const out = {};
for (const file of caches)
  for (const [key, r] of JSON.parse(fs.readFileSync(file, 'utf8')).results) {
    const [project, test] = key.split(/:(.*)/s);
    if (project === 'timing' || !fs.existsSync(path.join(root, test))) continue;
    out[key] = Math.round(r.duration / 100) / 10;
  }
const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
fs.writeFileSync(path.join(root, 'test/durations.json'), `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`test/durations.json: ${Object.keys(sorted).length} files`);
