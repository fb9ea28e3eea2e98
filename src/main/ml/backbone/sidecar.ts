import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DermFuseError, firstIssue } from '../../../shared/errors.ts';
import { readJsonFile } from '../../files/fsChecks.ts';
import { meanStdPreprocessing, rangePreprocessing } from '../input/spec.ts';
import { BackboneSpecSchema, type Preprocessing } from '../../../shared/backbone.ts';
import { readModelJson } from '../tfjs/modelFiles.ts';

/** The file beside a model that gives its own defaults (name, layer, preprocessing, ONNX input and layout). */
export const SIDECAR_FILE = 'dermfuse-backbone.json';

/**
 * What a sidecar may say: the spec's own fields, each checked as strictly as a spec (name, finite pixel map), and the
 * classes a trained CNN was trained on. Nothing else: a key DermFuse would ignore (a top-level "inputSize", say,
 * which belongs under "preprocessing") is an error naming it, not a setting silently not applied.
 */
const SidecarSchema = z.strictObject({
  ...BackboneSpecSchema.omit({ dir: true, tta: true }).partial().shape,
  tta: z.boolean().optional(),
  onnx: BackboneSpecSchema.shape.onnx.unwrap().partial().optional(),
  classes: z.array(z.string()).optional(),
});
export type Sidecar = z.infer<typeof SidecarSchema>;

/** The sidecar of a model folder ({} when it has none), refused with the file and the field named when it is wrong. */
export async function readSidecar(dir: string): Promise<Sidecar> {
  const file = path.join(dir, SIDECAR_FILE);
  if (!fs.existsSync(file)) return {};
  const parsed = SidecarSchema.safeParse(await readJsonFile(file, file));
  if (!parsed.success) throw new DermFuseError('INVALID_VALUE', `${file}: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** The pixel-map flags (or the same fields of an extract request) as the user gives them. */
export interface PixelFlags {
  inputSize?: number;
  range?: [number, number];
  mean?: [number, number, number];
  std?: [number, number, number];
  resize?: Preprocessing['resize'];
}

/**
 * Sane ranges for the flags, on 0-1 pixel values: a mean beyond ±10 or a std outside 0.001-1000 is a mistake
 * (often 0-255 values), and maps pixels to values a network overflows on; the same for a range beyond ±10000.
 */
const MAX_MEAN = 10;
const STD_RANGE: [number, number] = [1e-3, 1e3];
const MAX_RANGE = 1e4;

function refuseFlag(flag: string, values: number[], rule: string): never {
  throw new DermFuseError('INVALID_ARGUMENT', `--${flag} takes ${rule}, got "${values.join(',')}"`);
}

/** Refuses impossible pixel-map flags, naming the flag, before they become a spec. */
function checkPixelFlags(f: PixelFlags): void {
  if (f.mean && !f.mean.every((m) => Number.isFinite(m) && Math.abs(m) <= MAX_MEAN))
    refuseFlag('mean', f.mean, `three values between -${MAX_MEAN} and ${MAX_MEAN} (on 0-1 pixel values)`);
  if (f.std && !f.std.every((s) => Number.isFinite(s) && s >= STD_RANGE[0] && s <= STD_RANGE[1]))
    refuseFlag('std', f.std, `three values between ${STD_RANGE[0]} and ${STD_RANGE[1]} (on 0-1 pixel values)`);
  if (f.range) {
    const [low, high] = f.range;
    const inBounds = [low, high].every((x) => Number.isFinite(x) && Math.abs(x) <= MAX_RANGE);
    if (!inBounds || !(high - low >= 1e-3)) refuseFlag('range', f.range, `LOW,HIGH with LOW below HIGH, both within ±${MAX_RANGE}`);
  }
}

/** Input size from a Keras model's first input layer, when the topology says it. */
async function inputSizeOf(dir: string): Promise<number | null> {
  const text = JSON.stringify((await readModelJson(dir)).modelTopology);
  const m = /"batch_?[iI]nput_?[sS]hape":\[null,(\d+),(\d+),3\]/.exec(text);
  return m ? Number(m[1]) : null;
}

/** The preprocessing a backbone runs with: the flags over the model's own (sidecar or catalogue), else its input size and -1..1. */
export async function preprocessingFrom(flags: PixelFlags, base: Preprocessing | null, dir: string): Promise<Preprocessing> {
  checkPixelFlags(flags);
  const size = flags.inputSize ?? base?.inputSize ?? (fs.existsSync(path.join(dir, 'model.json')) ? await inputSizeOf(dir) : null) ?? 224;
  const resize = flags.resize ?? base?.resize ?? 'squash';
  if (flags.mean || flags.std) {
    if (!flags.mean || !flags.std) throw new DermFuseError('INVALID_ARGUMENT', '--mean and --std go together (three values each, on 0-1 pixel values)');
    return meanStdPreprocessing(size, flags.mean, flags.std, resize, flags.resize ? undefined : base?.crop);
  }
  if (flags.range) return rangePreprocessing(size, flags.range[0], flags.range[1], resize);
  return base ? { ...base, inputSize: size, resize } : rangePreprocessing(size, -1, 1, resize);
}
