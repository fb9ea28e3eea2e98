import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { WORKERS } from './src/main/jobs/workers.ts';

export default defineConfig({
  main: {
    build: {
      // Worker threads are entries of their own, at their path below src/main (WORKERS in src/main/jobs/workers.ts);
      // every shared chunk sits at the top of out/main, so spawnWorker() finds out/main from wherever it is bundled.
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // The CLI, for a packaged app and for the test suite, which spawns it hundreds of times (no tsx start-up).
          'cli/bin': resolve(__dirname, 'src/main/cli/bin.ts'),
          ...Object.fromEntries(WORKERS.map((w) => [w, resolve(__dirname, `src/main/${w}.ts`)])),
        },
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    // A sandboxed preload cannot import: one CommonJS file.
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    plugins: [react()],
  },
});
