#!/usr/bin/env node
// Prints the plain closing line CI reads ("tests: N passed, N failed, N skipped") from vitest's JSON reports: the
// files named (each must be there), else every .cache/vitest-report*.json.
import fs from 'node:fs';
import path from 'node:path';

const named = process.argv.slice(2);
const files = named.length
  ? named
  : fs
      .readdirSync('.cache')
      .filter((f) => /^vitest-report.*\.json$/.test(f))
      .map((f) => path.join('.cache', f));
let passed = 0;
let failed = 0;
let skipped = 0;
let total = 0;
let missing = false;
for (const file of files) {
  if (!fs.existsSync(file)) {
    process.stderr.write(`no test report at ${file}: those tests did not run\n`);
    missing = true;
    continue;
  }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  total += r.numTotalTests;
}
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed === 0 && total > 0 && !missing ? 0 : 1);
