#!/usr/bin/env node
// The checks `npm test` runs before its tests (types, lint, formatting), side by side: each is single-threaded, so on
// two cores they take the time of the longest instead of the sum. Each one's output is printed whole when it ends;
// the exit code is non-zero when any failed.
import { spawn } from 'node:child_process';

const CHECKS = [
  // The three programs of `npm run typecheck`, one per runtime.
  ...['node', 'web', 'component'].map((t) => [`types (${t})`, 'npx', ['tsc', '-p', `tsconfig.${t}.json`, '--noEmit']]),
  ['eslint', 'npx', ['eslint', '.', '--max-warnings', '0']],
  ['prettier', 'npx', ['prettier', '--check', '.']],
];

const results = await Promise.all(
  CHECKS.map(
    ([name, cmd, args]) =>
      new Promise((resolve) => {
        const started = Date.now();
        const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          process.stdout.write(`── ${name}: ${code === 0 ? 'ok' : `failed (exit ${code})`} in ${seconds} s\n${code === 0 ? '' : out}`);
          resolve(code === 0);
        });
      }),
  ),
);
process.exitCode = results.every(Boolean) ? 0 : 1;
