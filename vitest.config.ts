import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Downloaded and converted backbones of a test run stay out of the user's model cache (CLI children inherit it).
process.env.DERMFUSE_MODEL_CACHE ??= path.join(os.tmpdir(), `dermfuse-test-models-${process.pid}`);

/** One project per kind of test, so `npm run test:unit` runs in seconds and `npm test` runs them all. */
const project = (name: string, include: string[]) => ({ extends: true as const, test: { name, include } });

export default defineConfig({
  test: {
    // Integration tests spawn the CLI and run sharp; two cores are shared with them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: '.cache/vitest-report.json' }]],
    projects: [
      // Pure logic and components (jsdom): no disk, no workers, no browser.
      project('unit', ['test/unit/**/*.test.ts', 'test/component/**/*.test.tsx']),
      // Real SQLite, sharp, tfjs and the CLI on generated data.
      project('integration', ['test/integration/**/*.test.ts']),
      // ../shared's photos and models, when present.
      project('realdata', ['test/realdata/**/*.test.ts']),
      // The built renderer in Chromium.
      project('e2e', ['test/e2e/**/*.test.ts']),
    ],
  },
});
