/**
 * Reads a whole ONNX model into the writer's OnnxGraph (nodes with their attributes, float and int64 initializers,
 * inputs and outputs), so a model can be cut, rewritten and encoded again (fine-tuning: the frozen trunk, the tuned
 * top). Constant nodes (PyTorch writes Clip's bounds and shapes as them) become initializers. Other tensor types,
 * graph attributes and operators of other domains are refused by name: written back, they would change meaning.
 */
import { DermFuseError } from '../../../shared/errors.ts';
import type { AttributeValue, OnnxGraph, OnnxNode, OnnxTensor } from './proto.ts';
import { fields, sub, text, type Field } from './protoRead.ts';
import {
  ATTRIBUTE,
  ATTRIBUTE_TYPE,
  DATA_TYPE,
  DIMENSION,
  GRAPH,
  MODEL,
  NODE,
  OPERATOR_SET,
  SHAPE,
  TENSOR,
  TENSOR_TYPE,
  TYPE,
  VALUE_INFO,
  WIRE,
} from './schema.ts';

export interface ReadModel {
  graph: OnnxGraph;
  /** The default domain's opset version. */
  opset: number;
}

/** The varints of a packed repeated field, or the one varint of an unpacked one. */
function ints(f: Field): number[] {
  if (f.wire === WIRE.varint) return [f.value as number];
  return Array.from(fields(packedAsFields(sub(f))), (x) => x.value as number);
}

/** A packed run of varints read as fields (each prefixed with a fake key of field 1, varint) by the same reader. */
function packedAsFields(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  let start = 0;
  for (let k = 0; k < bytes.length; k++) {
    if (bytes[k]! < 0x80) {
      out.push(0x08, ...bytes.subarray(start, k + 1));
      start = k + 1;
    }
  }
  return Uint8Array.from(out);
}

function floats(f: Field): number[] {
  if (f.wire === WIRE.fixed32) return [f.value as number];
  const b = sub(f);
  const copy = new Uint8Array(b);
  return Array.from(new Float32Array(copy.buffer, 0, copy.length / 4));
}

function attribute(bytes: Uint8Array): [string, AttributeValue] {
  let name = '';
  let type = 0;
  let i: number | null = null;
  let f: number | null = null;
  let s: string | null = null;
  let t: OnnxTensor | null = null;
  const is: number[] = [];
  const fs: number[] = [];
  for (const x of fields(bytes)) {
    if (x.no === ATTRIBUTE.name) name = text(sub(x));
    else if (x.no === ATTRIBUTE.type) type = x.value as number;
    else if (x.no === ATTRIBUTE.i) i = x.value as number;
    else if (x.no === ATTRIBUTE.f) f = x.value as number;
    else if (x.no === ATTRIBUTE.s) s = text(sub(x));
    else if (x.no === ATTRIBUTE.t) t = tensor(sub(x));
    else if (x.no === ATTRIBUTE.ints) is.push(...ints(x));
    else if (x.no === ATTRIBUTE.floats) fs.push(...floats(x));
  }
  if (type === ATTRIBUTE_TYPE.int || (type === 0 && i !== null)) return [name, i ?? 0];
  if (type === ATTRIBUTE_TYPE.float || (type === 0 && f !== null)) return [name, { float: f ?? 0 }];
  if (type === ATTRIBUTE_TYPE.string) return [name, s ?? ''];
  if (type === ATTRIBUTE_TYPE.ints) return [name, is];
  if (type === ATTRIBUTE_TYPE.floats) return [name, { floats: fs }];
  if (type === ATTRIBUTE_TYPE.tensor && t) return [name, { tensor: t }];
  throw refused(`attribute ${name} is of type ${type} (a graph or a list of tensors), which DermFuse does not read`);
}

const refused = (why: string) => new DermFuseError('INVALID_ARGUMENT', `The ONNX model cannot be read for fine-tuning: ${why}.`);

function node(bytes: Uint8Array): OnnxNode {
  const n: OnnxNode = { op: '', inputs: [], outputs: [], attributes: {} };
  let domain = '';
  for (const x of fields(bytes)) {
    if (x.no === NODE.domain) domain = text(sub(x));
    if (x.no === NODE.input) n.inputs.push(text(sub(x)));
    else if (x.no === NODE.output) n.outputs.push(text(sub(x)));
    else if (x.no === NODE.name) n.name = text(sub(x));
    else if (x.no === NODE.opType) n.op = text(sub(x));
    else if (x.no === NODE.attribute) {
      const [k, v] = attribute(sub(x));
      n.attributes![k] = v;
    }
  }
  if (domain !== '' && domain !== 'ai.onnx') throw refused(`${n.op} node ${n.name ?? ''} is an operator of the ${domain} domain`);
  return n;
}

function tensor(bytes: Uint8Array): OnnxTensor {
  let name = '';
  let type = 0;
  const dims: number[] = [];
  let raw: Uint8Array | null = null;
  const fl: number[] = [];
  const il: number[] = [];
  for (const x of fields(bytes)) {
    if (x.no === TENSOR.name) name = text(sub(x));
    else if (x.no === TENSOR.dataType) type = x.value as number;
    else if (x.no === TENSOR.dims) dims.push(...ints(x));
    else if (x.no === TENSOR.rawData) raw = sub(x);
    else if (x.no === TENSOR.floatData) fl.push(...floats(x));
    else if (x.no === TENSOR.int64Data) il.push(...ints(x));
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (type === DATA_TYPE.float) {
    const data = raw ? new Float32Array(new Uint8Array(raw).buffer) : Float32Array.from(fl);
    if (data.length !== count) throw refused(`tensor ${name} has ${data.length} values for shape [${dims.join(', ')}]`);
    return { name, dims, data };
  }
  if (type === DATA_TYPE.int64) {
    const data = raw ? new BigInt64Array(new Uint8Array(raw).buffer) : BigInt64Array.from(il, (v) => BigInt(v));
    if (data.length !== count) throw refused(`tensor ${name} has ${data.length} values for shape [${dims.join(', ')}]`);
    return { name, dims, data };
  }
  throw refused(`tensor ${name} holds data type ${type}; only float32 and int64 tensors are read`);
}

function valueInfo(bytes: Uint8Array): { name: string; shape: (number | string | null)[] } {
  let name = '';
  const shape: (number | string | null)[] = [];
  for (const v of fields(bytes)) {
    if (v.no === VALUE_INFO.name) name = text(sub(v));
    if (v.no !== VALUE_INFO.type) continue;
    for (const t of fields(sub(v)))
      if (t.no === TYPE.tensorType)
        for (const tt of fields(sub(t)))
          if (tt.no === TENSOR_TYPE.shape)
            for (const d of fields(sub(tt))) {
              if (d.no !== SHAPE.dim) continue;
              let dim: number | string | null = null;
              for (const x of fields(sub(d))) {
                if (x.no === DIMENSION.value && x.wire === WIRE.varint) dim = x.value as number;
                if (x.no === DIMENSION.param) dim = text(sub(x));
              }
              shape.push(dim);
            }
  }
  return { name, shape };
}

/** Constant nodes' values as initializers named by their outputs (a tensor, or a float or int scalar or list); Identity nodes of an initializer likewise. */
function constantsAsWeights(graph: OnnxGraph): void {
  graph.nodes = graph.nodes.filter((n) => {
    if (n.op !== 'Constant') return true;
    const [[attr, v] = []] = Object.entries(n.attributes ?? {});
    const name = n.outputs[0]!;
    if (v && typeof v === 'object' && 'tensor' in v) graph.initializers.push({ ...v.tensor, name });
    else if (attr === 'value_float' && v && typeof v === 'object' && 'float' in v) graph.initializers.push({ name, dims: [], data: Float32Array.of(v.float) });
    else if (attr === 'value_floats' && v && typeof v === 'object' && 'floats' in v)
      graph.initializers.push({ name, dims: [v.floats.length], data: Float32Array.from(v.floats) });
    else if (attr === 'value_int' && typeof v === 'number') graph.initializers.push({ name, dims: [], data: BigInt64Array.of(BigInt(v)) });
    else if (attr === 'value_ints' && Array.isArray(v)) graph.initializers.push({ name, dims: [v.length], data: BigInt64Array.from(v, (x) => BigInt(x)) });
    else throw refused(`Constant node ${n.name ?? name} holds ${attr ?? 'no value'}, which DermFuse does not read`);
    return false;
  });
  // PyTorch also writes shared constants as Identity nodes of one initializer: each becomes a copy under its own name.
  const byName = new Map(graph.initializers.map((t) => [t.name, t]));
  graph.nodes = graph.nodes.filter((n) => {
    const source = n.op === 'Identity' ? byName.get(n.inputs[0]!) : undefined;
    if (!source) return true;
    const copy = { ...source, name: n.outputs[0]! };
    graph.initializers.push(copy);
    byName.set(copy.name, copy);
    return false;
  });
}

/** The whole model; throws INVALID_ARGUMENT naming what could not be read. */
export function readModel(bytes: Uint8Array): ReadModel {
  const graph: OnnxGraph = { name: 'graph', nodes: [], initializers: [], inputs: [], outputs: [] };
  let opset = 0;
  for (const f of fields(bytes)) {
    if (f.no === MODEL.opsetImport && f.wire === WIRE.bytes) {
      let domain = '';
      let version = 0;
      for (const x of fields(sub(f))) {
        if (x.no === OPERATOR_SET.domain) domain = text(sub(x));
        if (x.no === OPERATOR_SET.version) version = x.value as number;
      }
      if (domain === '' || domain === 'ai.onnx') opset = version;
    }
    if (f.no !== MODEL.graph || f.wire !== WIRE.bytes) continue;
    for (const g of fields(sub(f))) {
      if (g.wire !== WIRE.bytes) continue;
      if (g.no === GRAPH.node) graph.nodes.push(node(sub(g)));
      else if (g.no === GRAPH.name) graph.name = text(sub(g));
      else if (g.no === GRAPH.initializer) graph.initializers.push(tensor(sub(g)));
      else if (g.no === GRAPH.input) graph.inputs.push(valueInfo(sub(g)));
      else if (g.no === GRAPH.output) graph.outputs.push(valueInfo(sub(g)));
    }
  }
  constantsAsWeights(graph);
  // Older exporters list the weights among the inputs too.
  const weights = new Set(graph.initializers.map((t) => t.name));
  graph.inputs = graph.inputs.filter((i) => !weights.has(i.name));
  return { graph, opset };
}
