import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Downloaded and converted backbones of a test run stay out of the user's model cache (CLI children inherit it); the
// global setup's teardown removes that folder when the run ends.
if (!process.env.DERMFUSE_MODEL_CACHE) {
  process.env.DERMFUSE_MODEL_CACHE = path.join(os.tmpdir(), `dermfuse-test-models-${process.pid}`);
  process.env.DERMFUSE_TEST_OWN_MODEL_CACHE = process.env.DERMFUSE_MODEL_CACHE;
}

/** The newest modification time of a file below `dir` (0 when there is none). */
function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

/**
 * `npm test` builds first: when out/main is newer than every file of src/, the tests spawn the built CLI and start the
 * built workers (each starts in a third of the time: no TypeScript compiled per process). A run of one file after an
 * edit finds the build stale and uses the sources, so a test never checks code older than the tree.
 */
const BUILT_CLI = path.resolve(import.meta.dirname, 'out/main/cli/bin.js');
if (fs.existsSync(BUILT_CLI) && fs.statSync(BUILT_CLI).mtimeMs > newest(path.resolve(import.meta.dirname, 'src'))) {
  process.env.DERMFUSE_TEST_CLI ??= BUILT_CLI;
  process.env.DERMFUSE_BUILT_MAIN ??= path.dirname(path.dirname(BUILT_CLI));
}

/** One project per kind of test, so `npm run test:unit` runs in seconds and `npm test` runs them all. */
const project = (name: string, include: string[], more: { exclude?: string[]; testTimeout?: number; isolate?: boolean } = {}) => ({
  extends: true as const,
  test: { name, include, ...more },
});

/** Files that measure latency under attack or kill processes mid-run (see the timing project). */
const TIMING = [
  'test/integration/killTrials.test.ts',
  'test/integration/serveHardening.test.ts',
  'test/integration/serveResponsive.test.ts',
  'test/integration/teamLoad.test.ts',
];

/**
 * Seconds each file took in a full run, by "project:file" (`node scripts/test-durations.mjs` writes it from vitest's
 * own cache after a run). Vitest orders files by the durations it cached on this machine, but a fresh clone (CI) has
 * none and got files by size: a long e2e file started last and ran alone at the end.
 */
const DURATIONS = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, 'test/durations.json'), 'utf8')) as Record<string, number>;

/**
 * Projects in this order, each's longest files first. The real-data files are among the longest (queued last, one ran
 * alone for half a minute at the end); the unit files fill the last seconds. Files sorted by duration alone, whatever
 * their project, took 552 s instead of 492-506 s: integration files beside each other each start CLI processes and
 * worker pools, and more threads than cores slowed them all. A file's duration is vitest's cached one, else the
 * committed one; a file neither knows (a new one) goes first in its project, as vitest would run it.
 */
const PROJECT_ORDER = ['realdata', 'e2e', 'integration', 'unit'];
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => PROJECT_ORDER.indexOf(f.project.name);
    const seconds = (f: TestSpecification): number => {
      const key = `${f.project.name}:${path.relative(this.ctx.config.root, f.moduleId)}`;
      const cached = this.ctx.cache.getFileTestResults(key)?.duration;
      return cached !== undefined ? cached / 1000 : (DURATIONS[key] ?? Infinity);
    };
    return [...files].sort((a, b) => rank(a) - rank(b) || seconds(b) - seconds(a));
  }
}

export default defineConfig({
  test: {
    // Integration tests spawn the CLI and run sharp; two cores are shared with them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits 1 s by default: with three files at a time on two cores a first page can take longer to
    // answer (CI once saw a page's empty first state for a whole second). A poll that must fail still fails.
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    globalSetup: ['test/fixtures/globalSetup.ts'],
    // Many files wait on child processes, sockets, disk and Chromium as much as they compute: with two at a time the
    // cores were idle a third of the time, with three a fifth. Measured on 2 cores, test:parallel took 758 s with two,
    // 641 s with three, 531 s with three sharing the module graph within a worker (below), 582 s with four (the
    // files slow each other more than they fill the gaps). vitest's default on two cores is one.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    // Each npm script names its own report (--outputFile.json); scripts/test-summary.mjs adds them up.
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/vitest-report.json' },
    projects: [
      // `isolate: false`: the files of a worker share one module graph instead of importing TF.js, sharp, ONNX Runtime
      // and the sources again for each file (import time over the run 167 s -> 56 s). Each file makes its own temporary
      // project, server and browser; one that changes shared state (the TF.js backend, an environment variable, fake
      // timers) puts it back whatever fails. vi.mock stays per file.
      // Pure logic and components (jsdom): no disk, no workers, no browser.
      project('unit', ['test/unit/**/*.test.ts', 'test/component/**/*.test.tsx'], { isolate: false }),
      // Real SQLite, sharp, tfjs and the CLI on generated data.
      project('integration', ['test/integration/**/*.test.ts'], { exclude: TIMING, isolate: false }),
      // ../shared's photos and models, when present.
      project('realdata', ['test/realdata/**/*.test.ts'], { isolate: false }),
      // The built renderer in Chromium. A step that trains waits on a CPU shared with the file running beside it.
      project('e2e', ['test/e2e/**/*.test.ts'], { testTimeout: 180_000, isolate: false }),
      // Tests that time the server or kill processes at random moments: run alone (npm run test:timing), so the
      // other files running beside them cannot make them slow or lucky.
      project('timing', TIMING),
    ],
  },
});
