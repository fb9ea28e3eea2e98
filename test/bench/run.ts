// `npm run bench [-- section …]`: prints one JSON object with every measured figure. Needs ../shared for real data.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { activeBench } from './activeBench.ts';
import { cnnBench } from './cnnBench.ts';
import { duplicatesBench } from './duplicatesBench.ts';
import { explainBench } from './explainBench.ts';
import { extractBench, extractMemoryBench, predictOnlyBench } from './extractBench.ts';
import { finetuneBench } from './finetuneBench.ts';
import { finetuneMemoryBench } from './finetuneMemoryBench.ts';
import { fusionBench, padTables, twoBackbones } from './fusionBench.ts';
import { gridBench } from './gridBench.ts';
import { importBench } from './importBench.ts';
import { teamBench } from './teamBench.ts';

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const PAD = path.join(SHARED, 'data/pad-ufes-20');

const SECTIONS: Record<string, () => Promise<object>> = {
  import: () => importBench(PAD),
  grid: () => gridBench(),
  'grid-query': () => gridBench({ thumbnails: false }),
  extract: () => extractBench(SHARED),
  'extract-memory': () => extractMemoryBench(),
  predict: () => predictOnlyBench(SHARED),
  cnn: () => cnnBench(PAD),
  fusion: () => fusionBench(),
  'fusion-pad': () => padTables(SHARED),
  'two-backbones': () => twoBackbones(SHARED),
  duplicates: () => duplicatesBench(SHARED),
  active: () => activeBench(SHARED),
  team: () => teamBench(SHARED),
  explain: () => explainBench(SHARED),
  finetune: () => finetuneBench(SHARED),
  'finetune-memory': () => finetuneMemoryBench(SHARED),
};

async function main(): Promise<void> {
  if (!fs.existsSync(PAD)) {
    process.stderr.write(`bench: ${PAD} is missing; the benchmarks run on the shared real data\n`);
    process.exit(1);
  }
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length > 0 ? wanted : Object.keys(SECTIONS);
  const result: Record<string, unknown> = {
    machine: { cpus: os.availableParallelism(), memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  };
  for (const name of names) {
    const section = SECTIONS[name];
    if (!section) throw new Error(`unknown bench section ${name}; known: ${Object.keys(SECTIONS).join(', ')}`);
    process.stderr.write(`bench: ${name}…\n`);
    result[name] = await section();
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
