#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npx dermfuse` works right after `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
// `dermfuse … | head` closes stdout early: that is the reader's choice, not an error to print a stack for.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../src/main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
