#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npx dermfuse` works right after `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
