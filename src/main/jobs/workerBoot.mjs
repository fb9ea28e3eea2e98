// Starts a TypeScript worker from source (CLI, serve, tests): registers tsx in this thread, then loads the module.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.module);
