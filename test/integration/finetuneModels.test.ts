import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cutNetwork } from '../../src/main/ml/finetune/cut.ts';
import { buildTopNet } from '../../src/main/ml/finetune/topNet.ts';
import { readModel } from '../../src/main/ml/onnx/modelRead.ts';
import { encodeModel } from '../../src/main/ml/onnx/proto.ts';
import { initBackend, tf } from '../../src/main/ml/tfjs/backend.ts';
import { SHARED } from '../fixtures/shared.ts';
import { tinyMobileNet } from '../fixtures/tinyOnnx.ts';

beforeAll(() => initBackend());

/** The network's own output on ONNX Runtime, and its default-cut top run in TF.js on the trunk's output: the largest gap. */
async function topAgainstOrt(bytes: Uint8Array, size: number): Promise<{ gap: number; cut: string; dim: number }> {
  const { graph, opset } = readModel(bytes);
  const output = graph.outputs[0]!.name;
  const cut = cutNetwork(graph, output, null);
  const x = Float32Array.from({ length: 2 * 3 * size * size }, (_, i) => Math.sin(i * 0.37));
  const feed = (s: ort.InferenceSession) => ({ [s.inputNames[0]!]: new ort.Tensor('float32', x, [2, 3, size, size]) });
  const whole = await ort.InferenceSession.create(bytes);
  const want = (await whole.run(feed(whole)))[output]!.data as Float32Array;
  const trunk = await ort.InferenceSession.create(encodeModel(cut.trunk, opset));
  const act = (await trunk.run(feed(trunk)))[cut.cut]!;
  const net = buildTopNet(cut.top);
  const before = tf.memory().numTensors;
  const got = tf.tidy(() => net.forward(tf.tensor4d(act.data as Float32Array, act.dims as [number, number, number, number])).dataSync());
  expect(tf.memory().numTensors).toBe(before);
  net.dispose();
  let gap = 0;
  want.forEach((v, i) => (gap = Math.max(gap, Math.abs(v - got[i]!))));
  return { gap, cut: cut.cut, dim: want.length / 2 };
}

describe('networks as PyTorch exports them', () => {
  it('reads Constant and Identity nodes as weights, and trains a Clip/GlobalAveragePool/Flatten top that equals ONNX Runtime', async () => {
    const bytes = tinyMobileNet(3, 'torchvision');
    const { graph } = readModel(bytes);
    expect(graph.nodes.filter((n) => n.op === 'Constant' || n.op === 'Identity')).toEqual([]);
    expect(graph.initializers.find((t) => t.name === 'hi_0')).toMatchObject({ dims: [], data: Float32Array.of(6) });
    const r = await topAgainstOrt(bytes, 32);
    expect(r).toMatchObject({ cut: 'c6_out', dim: 32 });
    expect(r.gap).toBeLessThan(1e-5);
  });

  it('refuses what it cannot write back, naming it: a Constant holding a string', () => {
    const model = encodeModel({
      name: 'g',
      nodes: [{ op: 'Constant', name: 'odd', inputs: [], outputs: ['k'], attributes: { value_string: 'x' } }],
      initializers: [],
      inputs: [{ name: 'input', shape: [1] }],
      outputs: [{ name: 'k', shape: [1] }],
    });
    expect(() => readModel(model)).toThrow(/cannot be read for fine-tuning: Constant node odd holds value_string/);
  });

  const torchExport = path.join(SHARED, 'models/mobilenet_v2_0.35_random_onnx/model.onnx');
  it.skipIf(!fs.existsSync(torchExport))(
    'cuts and runs the top of a real torch.onnx.export MobileNetV2 (../shared, random weights)',
    async () => {
      const r = await topAgainstOrt(fs.readFileSync(torchExport), 224);
      expect(r).toMatchObject({ cut: '/features/features.13/Add_output_0', dim: 1280 });
      expect(r.gap).toBeLessThan(1e-4);
    },
    60_000,
  );
});
