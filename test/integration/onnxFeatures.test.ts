import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classifierInput, readGraph } from '../../src/main/ml/onnx/graph.ts';
import { OrtEmbedder } from '../../src/main/ml/onnx/ortEmbedder.ts';
import { encodeModel, type OnnxGraph } from '../../src/main/ml/onnx/proto.ts';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
import { CATALOGUE } from '../../src/main/ml/backbone/catalogue.ts';
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

describe('ONNX backbones: other shapes', () => {
  it("a transformer's token sequence [N, tokens, C] gives its first (class) token", async () => {
    // Tokens are the pixels: [N,3,S,S] -> [N,3,S*S] -> [N,S*S,3]; the first token is pixel (0,0)'s channels.
    const g: OnnxGraph = {
      name: 'tokens',
      nodes: [
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['flat'] },
        { op: 'Transpose', inputs: ['flat'], outputs: ['tokens'], attributes: { perm: [0, 2, 1] } },
      ],
      initializers: [{ name: 'shape', dims: [3], data: BigInt64Array.from([0n, 3n, BigInt(S * S)]) }],
      inputs: [{ name: 'x', shape: [null, 3, S, S] }],
      outputs: [{ name: 'tokens', shape: [null, S * S, 3] }],
    };
    const file = write('tokens', g);
    const { spec } = await resolveBackbone(file);
    const e = await OrtEmbedder.load(spec, { file, input: null, layout: 'nchw', pixels: false, threads: 1 });
    expect(e.dim).toBe(3);
    const x = Float32Array.from({ length: 2 * 3 * S * S }, (_, i) => i / 100);
    const out = await e.forward(x, 2);
    const first = (img: number) => [0, 1, 2].map((c) => x[img * 3 * S * S + c * S * S]!);
    expect(Array.from(out.data)).toEqual([...first(0), ...first(1)].map((v) => Math.fround(v)));
    await e.dispose();
  });

  it('a model exported for one image at a time embeds a batch image by image', async () => {
    const g = classifier('gemm');
    const file = write('batch1', { ...g, inputs: [{ name: 'x', shape: [1, 3, S, S] }] });
    const { spec } = await resolveBackbone(file);
    const e = await OrtEmbedder.load(spec, { file, input: null, layout: 'nchw', pixels: false, threads: 1 });
    const x = Float32Array.from({ length: 3 * 3 * S * S }, (_, i) => Math.cos(i));
    const out = await e.forward(x, 3);
    for (let k = 0; k < 3; k++) expected(x.subarray(k * 3 * S * S, (k + 1) * 3 * S * S)).forEach((v, c) => expect(out.data[k * 2 + c]).toBeCloseTo(v, 5));
    await e.dispose();
  });

  it("the zoo's ONNX entries are pinned by their published SHA-256: any other file is refused and discarded", async () => {
    const zoo = CATALOGUE.filter((c) => c.format === 'onnx' && c.url);
    expect(zoo.map((c) => c.id)).toEqual(['resnet50_v2_onnx', 'dinov2_vits14_onnx']);
    const impostor = encodeModel(classifier('gemm'));
    for (const entry of zoo) {
      expect(entry.digest).toMatch(/^[0-9a-f]{64}$/);
      const cacheDir = path.join(tmp.dir, `cache-${entry.id}`);
      let asked = '';
      const fetchImpl = async (url: string | URL | Request) => {
        asked = String(url);
        return new Response(impostor, { status: 200, headers: { 'content-length': String(impostor.length) } });
      };
      await expect(resolveBackbone(entry.id, { cacheDir, fetchImpl: fetchImpl as typeof fetch })).rejects.toThrow(
        /Checksum mismatch for https:\/\/huggingface\.co\/.+ The download was discarded/,
      );
      expect(asked).toBe(entry.url);
      expect(fs.readdirSync(path.join(cacheDir, entry.id)).filter((f) => f.endsWith('.onnx') || f.endsWith('.partial'))).toEqual([]);
    }
  });
});
