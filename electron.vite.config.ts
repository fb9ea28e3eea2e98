import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      // Worker threads are entries of their own: spawnWorker() finds them beside index.js in the build.
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          embedWorker: resolve(__dirname, 'src/main/ml/embedWorker.ts'),
          trainCnnWorker: resolve(__dirname, 'src/main/ml/trainCnnWorker.ts'),
          'fusion/fusionWorker': resolve(__dirname, 'src/main/ml/fusion/fusionWorker.ts'),
          previewWorker: resolve(__dirname, 'src/main/images/previewWorker.ts'),
        },
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
