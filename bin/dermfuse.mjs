#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npx dermfuse` works right after `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main/cli/bin.ts');
