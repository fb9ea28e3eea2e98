#!/usr/bin/env node
// Prints the plain closing line CI reads ("tests: N passed, N failed, N skipped") from vitest's JSON report.
import fs from 'node:fs';

const file = process.argv[2] ?? '.cache/vitest-report.json';
if (!fs.existsSync(file)) {
  process.stderr.write(`no test report at ${file}: the tests did not run\n`);
  process.exit(1);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
process.stdout.write(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped\n`);
process.exit(r.numFailedTests === 0 && r.numTotalTests > 0 ? 0 : 1);
