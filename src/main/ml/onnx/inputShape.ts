/**
 * Reads the shape of an ONNX model's image input from the file itself (ModelProto.graph.input, skipping inputs
 * that are initializers, as older exporters list weights there), so a model without a sidecar gets its input size
 * and layout right. Only the fields on that path are decoded, the rest skipped.
 */
import { fields, sub, text } from './protoRead.ts';
import { DIMENSION, GRAPH, MODEL, SHAPE, TENSOR, TENSOR_TYPE, TYPE, VALUE_INFO, WIRE } from './schema.ts';

/** Dimensions of a ValueInfoProto's tensor type: numbers, or the symbolic name (a dynamic batch). */
function dimsOf(valueInfo: Uint8Array): { name: string; dims: (number | string)[] } {
  let name = '';
  const dims: (number | string)[] = [];
  for (const f of fields(valueInfo)) {
    if (f.no === VALUE_INFO.name && f.wire === WIRE.bytes) name = text(sub(f));
    if (f.no !== VALUE_INFO.type || f.wire !== WIRE.bytes) continue;
    for (const t of fields(sub(f))) {
      if (t.no !== TYPE.tensorType || t.wire !== WIRE.bytes) continue;
      for (const tt of fields(sub(t))) {
        if (tt.no !== TENSOR_TYPE.shape || tt.wire !== WIRE.bytes) continue;
        for (const d of fields(sub(tt))) {
          if (d.no !== SHAPE.dim || d.wire !== WIRE.bytes) continue;
          let dim: number | string = '?';
          for (const x of fields(sub(d))) {
            // A negative int64 is not a usable size.
            if (x.no === DIMENSION.value && x.wire === WIRE.varint) dim = (x.value as number) >= 0 && (x.value as number) < 2 ** 31 ? (x.value as number) : '?';
            if (x.no === DIMENSION.param && x.wire === WIRE.bytes) dim = text(sub(x));
          }
          dims.push(dim);
        }
      }
    }
  }
  return { name, dims };
}

/** The first graph input that is not an initializer, with its dimensions; null when the file has none. */
export function onnxInputShape(model: Uint8Array): { name: string; dims: (number | string)[] } | null {
  for (const f of fields(model)) {
    if (f.no !== MODEL.graph || f.wire !== WIRE.bytes) continue;
    const initializers = new Set<string>();
    const inputs: Uint8Array[] = [];
    for (const g of fields(sub(f))) {
      if (g.no === GRAPH.initializer && g.wire === WIRE.bytes) {
        for (const t of fields(sub(g))) if (t.no === TENSOR.name && t.wire === WIRE.bytes) initializers.add(text(sub(t)));
      }
      if (g.no === GRAPH.input && g.wire === WIRE.bytes) inputs.push(sub(g));
    }
    for (const input of inputs) {
      const shape = dimsOf(input);
      if (!initializers.has(shape.name)) return shape;
    }
  }
  return null;
}

/** An image input's size and layout from its shape: [N, 3, S, S] is NCHW, [N, S, S, 3] NHWC; null otherwise. */
export function imageInputOf(dims: readonly (number | string)[]): { size: number; layout: 'nchw' | 'nhwc' } | null {
  if (dims.length !== 4) return null;
  const [, a, b, c] = dims;
  if (a === 3 && typeof b === 'number' && b === c) return { size: b, layout: 'nchw' };
  if (c === 3 && typeof a === 'number' && a === b) return { size: a, layout: 'nhwc' };
  return null;
}
