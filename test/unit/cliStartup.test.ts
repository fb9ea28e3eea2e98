import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Packages that take a quarter to half a second each to load: only the commands that use them may load them. */
const HEAVY = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', 'sharp', 'onnxruntime-node'];

/** The specifiers a file imports at load time: `import type` is erased, `await import()` waits for its command. */
function staticImports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/** The chain of files from `file` to the first heavy package it loads at start-up, or null. */
function heavyChain(file: string, seen = new Set<string>()): string[] | null {
  if (seen.has(file)) return null;
  seen.add(file);
  for (const spec of staticImports(file)) {
    if (HEAVY.some((h) => spec === h || spec.startsWith(`${h}/`))) return [spec];
    if (!spec.startsWith('.')) continue;
    const next = path.resolve(path.dirname(file), spec);
    // An import the walk cannot follow would hide what lies behind it.
    if (!fs.existsSync(next)) throw new Error(`${path.relative(ROOT, file)} imports ${spec}, which is not a file`);
    const chain = heavyChain(next, seen);
    if (chain) return [path.relative(ROOT, next), ...chain];
  }
  return null;
}

describe('dermfuse starts without the heavy runtimes', () => {
  it('loads no TF.js, sharp or ONNX Runtime before a command that needs them runs (dermfuse info and users start in half the time)', () => {
    expect(heavyChain(path.join(ROOT, 'src/main/cli/bin.ts'))).toBeNull();
  });

  it('sees a heavy package behind a chain of files (the check can fail)', () => {
    expect(heavyChain(path.join(ROOT, 'src/main/quality/scan.ts'))).toEqual(['sharp']);
    expect(heavyChain(path.join(ROOT, 'src/main/workflows/train.ts'))?.at(-1)).toBe('@tensorflow/tfjs');
  });
});
