import fs from 'node:fs';
import ort from 'onnxruntime-node';
import { hasTensor, readGraph, withOutput } from './graph.ts';
import { normalise } from '../input/spec.ts';
import { type BackboneSpec } from '../../../shared/backbone.ts';

/** What the worker needs to run an ONNX model: the file, its input and layout, and how many threads. */
export interface OrtTarget {
  file: string;
  input: string | null;
  layout: 'nchw' | 'nhwc';
  /** The graph takes uint8 RGB pixels (NHWC) and maps them itself (graphs converted from TF.js). */
  pixels: boolean;
  threads: number;
}

/** The images mirrored left-right (uint8 RGB, n x s x s x 3), for test-time augmentation. */
function mirrored(pixels: Uint8Array, n: number, s: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let r = 0; r < n * s; r++) {
    const row = r * s * 3;
    for (let x = 0; x < s; x++) out.set(pixels.subarray(row + (s - 1 - x) * 3, row + (s - 1 - x) * 3 + 3), row + x * 3);
  }
  return out;
}

export const ORT_VERSION: string = ort.env.versions.node ?? ort.env.versions.common;

/**
 * An output as one vector per image: a feature map is averaged over its spatial positions; a transformer's token
 * sequence [N, tokens, C] gives its first token (the class token, as ViT and DINOv2 pool).
 */
function toVectors(t: ort.Tensor, layout: 'nchw' | 'nhwc'): { data: Float32Array; dim: number } {
  const data = t.data as Float32Array;
  const dims = t.dims;
  const n = dims[0]!;
  if (dims.length === 3) {
    const [tokens, c] = [dims[1]!, dims[2]!];
    const out = new Float32Array(n * c);
    for (let k = 0; k < n; k++) out.set(data.subarray(k * tokens * c, k * tokens * c + c), k * c);
    return { data: out, dim: c };
  }
  if (dims.length !== 4) return { data: data.slice(), dim: data.length / n };
  const [c, hw] = layout === 'nchw' ? [dims[1]!, dims[2]! * dims[3]!] : [dims[3]!, dims[1]! * dims[2]!];
  const out = new Float32Array(n * c);
  for (let k = 0; k < n; k++)
    for (let j = 0; j < c; j++) {
      let sum = 0;
      for (let p = 0; p < hw; p++) sum += layout === 'nchw' ? data[(k * c + j) * hw + p]! : data[(k * hw + p) * c + j]!;
      out[k * c + j] = sum / hw;
    }
  return { data: out, dim: c };
}

/** A backbone loaded in ONNX Runtime (CPU execution provider): batches of pixels to embeddings. */
export class OrtEmbedder {
  private constructor(
    readonly spec: BackboneSpec,
    private readonly session: ort.InferenceSession,
    private readonly target: OrtTarget,
    private readonly input: string,
    private readonly output: string,
    readonly dim: number,
    /** The model's input has a fixed batch of 1. */
    private readonly batchOfOne: boolean,
  ) {}

  static async load(spec: BackboneSpec, target: OrtTarget): Promise<OrtEmbedder> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: target.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    };
    let session = await ort.InferenceSession.create(target.file, options);
    const input = target.input ?? session.inputNames[0]!;
    if (!session.inputNames.includes(input)) throw new Error(`${target.file} has no input "${input}"; its inputs: ${session.inputNames.join(', ')}`);
    const output = spec.featureLayer ?? session.outputNames[0]!;
    if (!session.outputNames.includes(output)) {
      // An inner tensor (the classifier's input, or a layer named with --layer): the same model with it as an output.
      const model = await fs.promises.readFile(target.file);
      if (!hasTensor(readGraph(model), output)) throw new Error(`${target.file} has no tensor "${output}"; its outputs: ${session.outputNames.join(', ')}`);
      await session.release();
      session = await ort.InferenceSession.create(withOutput(model, output), options);
    }
    const meta = session.inputMetadata.find((m) => m.name === input);
    const shape = meta && meta.isTensor ? meta.shape : [];
    const size = spec.preprocessing.inputSize;
    const [h, w, c] = target.layout === 'nchw' ? [shape[2], shape[3], shape[1]] : [shape[1], shape[2], shape[3]];
    if ((typeof c === 'number' && c !== 3) || (typeof h === 'number' && h !== size) || (typeof w === 'number' && w !== size)) {
      throw new Error(
        `${target.file}: input "${input}" is [${shape.join(', ')}], which does not fit ${size}x${size} RGB ${target.layout.toUpperCase()} (set preprocessing.inputSize and onnx.layout in dermfuse-backbone.json)`,
      );
    }
    const batchOfOne = shape[0] === 1;
    const probe = new OrtEmbedder(spec, session, target, input, output, 0, batchOfOne);
    const { dim } = await probe.raw(new Uint8Array(size * size * 3), 1, false);
    return new OrtEmbedder(spec, session, target, input, output, dim, batchOfOne);
  }

  private raw(pixels: Uint8Array, n: number, mirror: boolean): Promise<{ data: Float32Array; dim: number }> {
    const s = this.spec.preprocessing.inputSize;
    const px = mirror ? mirrored(pixels, n, s) : pixels;
    return this.forward(this.target.pixels ? px : normalise(px, this.spec.preprocessing, this.target.layout), n);
  }

  /** Runs the network on `n` inputs in its layout (preprocessed floats, or uint8 pixels for a pixel graph); one vector each. */
  async forward(x: Float32Array | Uint8Array, n: number): Promise<{ data: Float32Array; dim: number }> {
    if (n > 1 && this.batchOfOne) {
      // A model exported for one image at a time: run it per image.
      const per = x.length / n;
      const parts: Float32Array[] = [];
      for (let i = 0; i < n; i++) parts.push((await this.forward(x.subarray(i * per, (i + 1) * per), 1)).data);
      const dim = parts[0]!.length;
      const data = new Float32Array(n * dim);
      parts.forEach((p, i) => data.set(p, i * dim));
      return { data, dim };
    }
    const s = this.spec.preprocessing.inputSize;
    const dims = this.target.layout === 'nchw' ? [n, 3, s, s] : [n, s, s, 3];
    const feeds = { [this.input]: x instanceof Uint8Array ? new ort.Tensor('uint8', x, dims) : new ort.Tensor('float32', x, dims) };
    const result = await this.session.run(feeds, [this.output]);
    const y = result[this.output]!;
    try {
      return toVectors(y, this.target.layout);
    } finally {
      y.dispose();
    }
  }

  /** Embeds `n` images given as uint8 RGB (n x size x size x 3); returns n x dim floats. */
  async embed(pixels: Uint8Array, n: number): Promise<Float32Array> {
    const s = this.spec.preprocessing.inputSize;
    if (pixels.length !== n * s * s * 3) throw new Error(`expected ${n}x${s}x${s}x3 pixels, got ${pixels.length} values`);
    const a = await this.raw(pixels, n, false);
    if (!this.spec.tta) return a.data;
    const b = await this.raw(pixels, n, true);
    for (let i = 0; i < a.data.length; i++) a.data[i] = (a.data[i]! + b.data[i]!) / 2;
    return a.data;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
