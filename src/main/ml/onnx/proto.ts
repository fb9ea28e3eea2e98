/**
 * Writes ONNX models: the few protobuf messages a feed-forward CNN graph needs (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto), encoded by hand from onnx.proto3's field numbers. Nothing here
 * reads ONNX: ONNX Runtime does, and it is the judge of what is written.
 */
import {
  ATTRIBUTE,
  ATTRIBUTE_TYPE,
  DATA_TYPE,
  DIMENSION,
  GRAPH,
  IR_VERSION,
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

/** A protobuf message being written: fields appended in any order, as the format allows. */
export class Writer {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      out.push(byte);
    } while (x !== 0n);
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.key(field, WIRE.varint);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE.fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE.bytes);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export type AttributeValue = number | string | number[] | { floats: number[] } | { float: number } | { tensor: OnnxTensor };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  /** Inputs and outputs (float unless `uint8`); a null or string dimension is dynamic (e.g. the batch). */
  inputs: { name: string; shape: (number | string | null)[]; uint8?: boolean }[];
  outputs: { name: string; shape: (number | string | null)[] }[];
}

function attribute(name: string, v: AttributeValue): Writer {
  const w = new Writer().string(ATTRIBUTE.name, name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (use { float })`);
    return w.int(ATTRIBUTE.i, v).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.int);
  }
  if (typeof v === 'string') return w.string(ATTRIBUTE.s, v).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.string);
  if (Array.isArray(v)) {
    for (const x of v) w.int(ATTRIBUTE.ints, x);
    return w.int(ATTRIBUTE.type, ATTRIBUTE_TYPE.ints);
  }
  if ('float' in v) return w.float(ATTRIBUTE.f, v.float).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.float);
  if ('tensor' in v) return w.message(ATTRIBUTE.t, tensor(v.tensor)).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.tensor);
  for (const x of v.floats) w.float(ATTRIBUTE.floats, x);
  return w.int(ATTRIBUTE.type, ATTRIBUTE_TYPE.floats);
}

function tensor(t: OnnxTensor): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(TENSOR.dims, d);
  w.int(TENSOR.dataType, t.data instanceof Float32Array ? DATA_TYPE.float : DATA_TYPE.int64);
  w.string(TENSOR.name, t.name);
  // raw_data is little-endian, as typed arrays are on every platform Node supports.
  return w.bytes(TENSOR.rawData, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function valueInfo(v: { name: string; shape: (number | string | null)[]; uint8?: boolean }): Writer {
  const shape = new Writer();
  for (const d of v.shape) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(DIMENSION.value, d);
    else dim.string(DIMENSION.param, d ?? 'batch');
    shape.message(SHAPE.dim, dim);
  }
  const tensorType = new Writer().int(TENSOR_TYPE.elemType, v.uint8 ? DATA_TYPE.uint8 : DATA_TYPE.float).message(TENSOR_TYPE.shape, shape);
  return new Writer().string(VALUE_INFO.name, v.name).message(VALUE_INFO.type, new Writer().message(TYPE.tensorType, tensorType));
}

/** Serialises a graph as an ONNX model (IR version 8, default-domain opset as given). */
export function encodeModel(g: OnnxGraph, opset = 13, producer = 'dermfuse'): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => {
    const node = new Writer();
    for (const x of n.inputs) node.string(NODE.input, x);
    for (const y of n.outputs) node.string(NODE.output, y);
    node.string(NODE.name, n.name ?? `${n.op}_${i}`);
    node.string(NODE.opType, n.op);
    for (const [k, v] of Object.entries(n.attributes ?? {})) node.message(NODE.attribute, attribute(k, v));
    graph.message(GRAPH.node, node);
  });
  graph.string(GRAPH.name, g.name);
  for (const t of g.initializers) graph.message(GRAPH.initializer, tensor(t));
  for (const v of g.inputs) graph.message(GRAPH.input, valueInfo(v));
  for (const v of g.outputs) graph.message(GRAPH.output, valueInfo(v));
  return new Writer()
    .int(MODEL.irVersion, IR_VERSION)
    .string(MODEL.producerName, producer)
    .message(MODEL.graph, graph)
    .message(MODEL.opsetImport, new Writer().string(OPERATOR_SET.domain, '').int(OPERATOR_SET.version, opset))
    .finish();
}
