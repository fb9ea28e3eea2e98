/**
 * The node structure of an ONNX model (op, inputs, outputs; no weights) and two uses of it: where its classifier
 * starts (the features a transfer-learning backbone should give), and a copy of the model that also outputs an
 * inner tensor (ONNX Runtime only returns graph outputs).
 */
import { Writer } from './proto.ts';
import { fields, sub, text } from './protoRead.ts';
import { GRAPH, MODEL, NODE, VALUE_INFO, WIRE } from './schema.ts';

export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
}

export interface GraphInfo {
  nodes: GraphNode[];
  /** The graph's outputs, in order. */
  outputs: string[];
}

export function readGraph(model: Uint8Array): GraphInfo {
  const nodes: GraphNode[] = [];
  const outputs: string[] = [];
  for (const f of fields(model)) {
    if (f.no !== MODEL.graph || f.wire !== WIRE.bytes) continue;
    for (const g of fields(sub(f))) {
      if (g.wire !== WIRE.bytes) continue;
      if (g.no === GRAPH.node) {
        const node: GraphNode = { op: '', inputs: [], outputs: [] };
        for (const n of fields(sub(g))) {
          if (n.wire !== WIRE.bytes) continue;
          if (n.no === NODE.input) node.inputs.push(text(sub(n)));
          else if (n.no === NODE.output) node.outputs.push(text(sub(n)));
          else if (n.no === NODE.opType) node.op = text(sub(n));
        }
        nodes.push(node);
      } else if (g.no === GRAPH.output) {
        for (const v of fields(sub(g))) if (v.no === VALUE_INFO.name && v.wire === WIRE.bytes) outputs.push(text(sub(v)));
      }
    }
  }
  return { nodes, outputs };
}

/** Ops after a classifier's linear layer that only rescale its scores. */
const SCORE_OPS = new Set(['Softmax', 'LogSoftmax', 'Sigmoid', 'Identity']);

/**
 * The tensor that feeds the classifier of a model whose first output is class scores: walking back from the output
 * over softmax-like ops and a bias Add, to a Gemm or MatMul; its data input is the pooled feature vector. Null when
 * the output is not a classifier's (the model already ends in features).
 */
export function classifierInput(g: GraphInfo): string | null {
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  let node = g.outputs[0] === undefined ? undefined : producer.get(g.outputs[0]);
  while (node && SCORE_OPS.has(node.op)) node = producer.get(node.inputs[0] ?? '');
  if (node?.op === 'Add') node = node.inputs.map((i) => producer.get(i)).find((p) => p?.op === 'MatMul' || p?.op === 'Gemm');
  return node && (node.op === 'Gemm' || node.op === 'MatMul') ? (node.inputs[0] ?? null) : null;
}

/** True when some node writes `tensor`, or it is a graph output. */
export function hasTensor(g: GraphInfo, tensor: string): boolean {
  return g.outputs.includes(tensor) || g.nodes.some((n) => n.outputs.includes(tensor));
}

/**
 * The model with `tensor` added to its graph outputs. Protobuf merges a repeated message field that appears twice,
 * so appending `graph { output { name } }` to the file adds the output without rewriting the weights.
 */
export function withOutput(model: Uint8Array, tensor: string): Uint8Array {
  const extra = new Writer().message(MODEL.graph, new Writer().message(GRAPH.output, new Writer().string(VALUE_INFO.name, tensor))).finish();
  const out = new Uint8Array(model.length + extra.length);
  out.set(model);
  out.set(extra, model.length);
  return out;
}
