import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageInputOf, onnxInputShape } from '../../src/main/ml/onnx/inputShape.ts';
import { encodeModel, type OnnxGraph } from '../../src/main/ml/onnx/proto.ts';
import { resolveBackbone } from '../../src/main/ml/backbone/resolve.ts';
import { tempDir } from '../fixtures/generate.ts';

function model(shape: (number | string | null)[], weightAsInput = false): Uint8Array {
  const w: OnnxGraph['initializers'][number] = { name: 'w', dims: [1], data: Float32Array.from([2]) };
  return encodeModel({
    name: 'g',
    nodes: [{ op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }],
    initializers: [w],
    // Older exporters list the weights among the graph's inputs too, before the image.
    inputs: [...(weightAsInput ? [{ name: 'w', shape: [1] }] : []), { name: 'x', shape }],
    outputs: [{ name: 'y', shape }],
  });
}

describe('the input shape of an ONNX model', () => {
  it('is read from the file, skipping inputs that are weights, with symbolic and fixed dimensions', () => {
    expect(onnxInputShape(model([null, 3, 160, 160], true))).toEqual({ name: 'x', dims: ['batch', 3, 160, 160] });
    expect(imageInputOf(['batch', 3, 160, 160])).toEqual({ size: 160, layout: 'nchw' });
    expect(imageInputOf([1, 299, 299, 3])).toEqual({ size: 299, layout: 'nhwc' });
    expect(imageInputOf(['batch', 3, 'h', 'w'])).toBeNull();
    // A model with no graph has no input; a cut-off file is an error (resolveBackbone then leaves it to ONNX Runtime).
    expect(onnxInputShape(Uint8Array.from([0x08, 0x07]))).toBeNull();
    expect(() => onnxInputShape(Uint8Array.from([0x3a, 0x05, 1, 2]))).toThrow(/truncated/);
  });

  it('sets the size and layout of a model without a sidecar; a sidecar still decides', async () => {
    const tmp = tempDir();
    try {
      const nchw = path.join(tmp.dir, 'a', 'net.onnx');
      fs.mkdirSync(path.dirname(nchw));
      fs.writeFileSync(nchw, model([null, 3, 192, 192]));
      const a = await resolveBackbone(nchw);
      expect(a.spec.preprocessing.inputSize).toBe(192);
      expect(a.spec.onnx).toMatchObject({ layout: 'nchw' });
      const nhwc = path.join(tmp.dir, 'b', 'net.onnx');
      fs.mkdirSync(path.dirname(nhwc));
      fs.writeFileSync(nhwc, model([null, 128, 128, 3]));
      const b = await resolveBackbone(nhwc);
      expect(b.spec.preprocessing.inputSize).toBe(128);
      expect(b.spec.onnx).toMatchObject({ layout: 'nhwc' });
      fs.writeFileSync(path.join(tmp.dir, 'b', 'dermfuse-backbone.json'), JSON.stringify({ onnx: { layout: 'nchw' } }));
      const c = await resolveBackbone(nhwc);
      expect(c.spec.onnx).toMatchObject({ layout: 'nchw' });
      expect(c.spec.preprocessing.inputSize).toBe(128);
    } finally {
      tmp.cleanup();
    }
  });
});
