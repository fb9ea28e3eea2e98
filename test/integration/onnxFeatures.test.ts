import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classifierInput, readGraph } from '../../src/main/ml/onnx/graph.ts';
import { OrtEmbedder } from '../../src/main/ml/onnx/ortEmbedder.ts';
import { encodeModel, type OnnxGraph } from '../../src/main/ml/onnx/proto.ts';
import { resolveBackbone } from '../../src/main/ml/resolveBackbone.ts';
import { tempDir } from '../fixtures/generate.ts';

const S = 16;
/** Conv 1x1 (3 -> 2 channels) with weights W, ReLU, global average pool, flatten, a 2 -> 3 classifier, softmax. */
const W = [0.5, -0.25, 0.125, -0.5, 0.75, 0.25];
function classifier(head: 'gemm' | 'matmul'): OnnxGraph {
  const f = (xs: number[]) => Float32Array.from(xs);
  const linear =
    head === 'gemm'
      ? [{ op: 'Gemm', inputs: ['feat', 'fc_w', 'fc_b'], outputs: ['logits'], attributes: { transB: 1 } }]
      : [
          { op: 'MatMul', inputs: ['feat', 'fc_wt'], outputs: ['mm'] },
          { op: 'Add', inputs: ['mm', 'fc_b'], outputs: ['logits'] },
        ];
  return {
    name: 'tiny-classifier',
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['conv'] },
      { op: 'Relu', inputs: ['conv'], outputs: ['relu'] },
      { op: 'GlobalAveragePool', inputs: ['relu'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['feat'] },
      ...linear,
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attributes: { axis: 1 } },
    ],
    initializers: [
      { name: 'w', dims: [2, 3, 1, 1], data: f(W) },
      { name: 'fc_w', dims: [3, 2], data: f([1, 0, 0, 1, 1, 1]) },
      { name: 'fc_wt', dims: [2, 3], data: f([1, 0, 1, 0, 1, 1]) },
      { name: 'fc_b', dims: [3], data: f([0, 0, 0]) },
    ],
    inputs: [{ name: 'x', shape: [null, 3, S, S] }],
    outputs: [{ name: 'probs', shape: [null, 3] }],
  };
}

/** What the network's features are: per output channel, the mean over pixels of ReLU(W . rgb) on 0-1 inputs normalised as the spec says. */
function expected(x: Float32Array): number[] {
  return [0, 1].map((c) => {
    let sum = 0;
    for (let p = 0; p < S * S; p++) sum += Math.max(0, W[c * 3]! * x[p]! + W[c * 3 + 1]! * x[S * S + p]! + W[c * 3 + 2]! * x[2 * S * S + p]!);
    return sum / (S * S);
  });
}

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function write(name: string, g: OnnxGraph): string {
  const file = path.join(tmp.dir, name, 'model.onnx');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeModel(g));
  return file;
}

describe('ONNX backbones: features from inside the graph', () => {
  it.each(['gemm', 'matmul'] as const)('a classifier (%s head) gives the input of its classifier, not class scores', async (head) => {
    const file = write(head, classifier(head));
    expect(classifierInput(readGraph(fs.readFileSync(file)))).toBe('feat');
    const { spec } = await resolveBackbone(file);
    expect(spec.featureLayer).toBe('feat');
    const e = await OrtEmbedder.load(spec, { file, input: null, layout: 'nchw', pixels: false, threads: 1 });
    expect(e.dim).toBe(2);
    const x = Float32Array.from({ length: 2 * 3 * S * S }, (_, i) => ((i * 37) % 17) / 8 - 1);
    const out = await e.forward(x, 2);
    expected(x.subarray(0, 3 * S * S)).forEach((v, c) => expect(out.data[c]).toBeCloseTo(v, 5));
    expected(x.subarray(3 * S * S)).forEach((v, c) => expect(out.data[2 + c]).toBeCloseTo(v, 5));
    await e.dispose();
  });

  it('--layer takes any inner tensor (a feature map is averaged) and names the tensors when it is wrong', async () => {
    const file = write('layer', classifier('gemm'));
    const { spec } = await resolveBackbone(file, { layer: 'relu' });
    const e = await OrtEmbedder.load(spec, { file, input: null, layout: 'nchw', pixels: false, threads: 1 });
    const x = Float32Array.from({ length: 3 * S * S }, (_, i) => Math.sin(i));
    const out = await e.forward(x, 1);
    expected(x).forEach((v, c) => expect(out.data[c]).toBeCloseTo(v, 5));
    await e.dispose();
    await expect(resolveBackbone(file, { layer: 'pool5' })).rejects.toThrow(
      /--layer pool5: .* has no such tensor\. Its outputs: probs; the last nodes write .*feat.*logits.*probs/,
    );
  });

  it('a model that ends in features keeps its output', async () => {
    const g = classifier('gemm');
    const file = write('features', { ...g, nodes: g.nodes.slice(0, 4), outputs: [{ name: 'feat', shape: [null, 2] }] });
    expect((await resolveBackbone(file)).spec.featureLayer).toBeNull();
  });
});
