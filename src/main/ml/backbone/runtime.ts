import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { DermFuseError } from '../../../shared/errors.ts';
import type { RuntimeName } from '../../../shared/jobs.ts';
import type { BackboneSpec } from '../../../shared/backbone.ts';
import type { OrtTarget } from '../onnx/ortEmbedder.ts';
import { SMALL_BUILT_IN_BACKBONE } from './catalogue.ts';
import { EmbedPool } from './workerPool.ts';
import { logger } from '../../log.ts';

const log = logger('runtime');

/** How an extraction will run: ONNX Runtime on a file (an .onnx backbone or a converted TF.js one), or TF.js. */
export interface RuntimePlan {
  runtime: RuntimeName;
  /** The model ONNX Runtime runs; the threads follow from how many workers the caller starts. */
  ort: Omit<OrtTarget, 'threads'> | null;
  converted: boolean;
  /** Why not ONNX Runtime, when TF.js runs. */
  notes: string[];
}

let ortProbe: { ok: true; version: string } | { ok: false; why: string } | null = null;

/** Whether onnxruntime-node and its native binding load here (checked once per process). */
export function ortAvailability(): { ok: true; version: string } | { ok: false; why: string } {
  if (ortProbe) return ortProbe;
  try {
    const require = createRequire(import.meta.url);
    const pkg = require('onnxruntime-node/package.json') as { version: string };
    require('onnxruntime-node');
    ortProbe = { ok: true, version: pkg.version };
  } catch (err) {
    ortProbe = { ok: false, why: `onnxruntime-node does not load here: ${(err as Error).message.split('\n')[0]}` };
  }
  return ortProbe;
}

/** Where converted TF.js models are kept: by model digest, feature layer, input size and value mapping (what the graph holds). */
export function convertedFile(spec: BackboneSpec, digest: string, cacheDir: string): string {
  const id = createHash('sha256')
    .update(
      JSON.stringify({
        digest,
        layer: spec.featureLayer,
        size: spec.preprocessing.inputSize,
        scale: spec.preprocessing.scale,
        offset: spec.preprocessing.offset,
        converter: 2,
      }),
    )
    .digest('hex')
    .slice(0, 20);
  return path.join(cacheDir, 'converted', `${spec.name}-${id}.onnx`);
}

/** Intra-op threads per ONNX Runtime worker: the machine's cores shared among the workers. */
export function ortThreads(workers: number): number {
  return Math.max(1, Math.floor(os.availableParallelism() / workers));
}

/** What to do when an ONNX backbone (the default among them) cannot run: a TF.js one can. */
const TFJS_HINT = `A TF.js backbone runs without ONNX Runtime (${SMALL_BUILT_IN_BACKBONE} is built in).`;

/** An ONNX model cannot run on TF.js: refused by name, before any other work. */
export function checkRuntimeFits(spec: BackboneSpec, requested: RuntimeName | undefined): void {
  if (spec.format === 'onnx' && requested === 'tfjs')
    throw new DermFuseError('INVALID_ARGUMENT', `${spec.name} is an ONNX model: it runs on ONNX Runtime only (--runtime onnx). ${TFJS_HINT}`);
}

/**
 * Picks the runtime: `.onnx` backbones run on ONNX Runtime; TF.js LayersModels run there too, as a converted graph
 * checked against TF.js (cached), unless TF.js is asked for or the conversion fails (then TF.js, and the notes say
 * why); TF.js graph models run on TF.js.
 */
export async function planRuntime(spec: BackboneSpec, digest: string, requested: RuntimeName | undefined, cacheDir: string): Promise<RuntimePlan> {
  const ort = ortAvailability();
  checkRuntimeFits(spec, requested);
  if (spec.format === 'onnx') {
    if (!ort.ok) throw new DermFuseError('INVALID_VALUE', `${spec.name} is an ONNX model, but ${ort.why}. ${TFJS_HINT}`);
    const o = spec.onnx!;
    return {
      runtime: 'onnx',
      ort: { file: path.join(spec.dir, o.file), input: o.input, layout: o.layout, pixels: false },
      converted: false,
      notes: [],
    };
  }
  if (requested === 'tfjs') return { runtime: 'tfjs', ort: null, converted: false, notes: ['TF.js was asked for (--runtime tfjs)'] };
  const refuse = (why: string): RuntimePlan => {
    if (requested === 'onnx') throw new DermFuseError('INVALID_VALUE', `${spec.name} cannot run on ONNX Runtime: ${why}.`);
    return { runtime: 'tfjs', ort: null, converted: false, notes: [`ONNX Runtime not used: ${why}`] };
  };
  if (!ort.ok) return refuse(ort.why);
  if (spec.format === 'graph') return refuse('TF.js graph models (converted SavedModels) are not converted to ONNX; only Keras layers models are');
  const file = convertedFile(spec, digest, cacheDir);
  const failed = `${file}.failed.txt`;
  if (fs.existsSync(failed)) return refuse(fs.readFileSync(failed, 'utf8'));
  if (!fs.existsSync(file)) {
    try {
      const check = await EmbedPool.convert(spec, file);
      log.info(
        `converted ${spec.name} to ONNX in ${check.seconds.toFixed(1)} s: ${check.nodes} nodes, relative difference ${check.relativeDifference.toExponential(1)}`,
      );
    } catch (err) {
      const why = `the conversion to ONNX failed: ${(err as Error).message}`;
      fs.mkdirSync(path.dirname(failed), { recursive: true });
      fs.writeFileSync(failed, why);
      return refuse(why);
    }
  }
  return { runtime: 'onnx', ort: { file, input: 'input', layout: 'nhwc', pixels: true }, converted: true, notes: [] };
}
