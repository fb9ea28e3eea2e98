/**
 * Cutting a CNN for fine-tuning: the frozen trunk (run once per image and view on ONNX Runtime) and the top that is
 * trained, split at one tensor that everything after it flows through.
 */
import { DermFuseError } from '../../../shared/errors.ts';
import type { OnnxGraph, OnnxNode, OnnxTensor } from '../onnx/proto.ts';

export interface TopSpec {
  /** The cut tensor: the top's only input (NCHW). */
  input: string;
  /** The feature tensor the top ends in. */
  output: string;
  nodes: OnnxNode[];
  /** Initializers the top reads (its weights and constants). */
  weights: OnnxTensor[];
}

export interface CutModel {
  cut: string;
  trunk: OnnxGraph;
  top: TopSpec;
  /** Convolutions in the top, and in the whole network (what "how much is trained" means here). */
  topConvs: number;
  totalConvs: number;
}

/** The default cut trains at least this share of the network's convolutions (MobileNetV2: its last 3 blocks + head conv). */
const DEFAULT_TOP_SHARE = 0.25;

interface Index {
  graph: OnnxGraph;
  producer: Map<string, number>;
  weights: Set<string>;
  /** Nodes the feature output needs, in graph order. */
  needed: number[];
  input: string;
}

function index(graph: OnnxGraph, output: string): Index {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const weights = new Set(graph.initializers.map((t) => t.name));
  if (!producer.has(output)) throw new DermFuseError('INVALID_ARGUMENT', `The network has no tensor "${output}" to fine-tune towards.`);
  const seen = new Set<number>();
  const stack = [producer.get(output)!];
  while (stack.length) {
    const i = stack.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    for (const t of graph.nodes[i]!.inputs) if (producer.has(t)) stack.push(producer.get(t)!);
  }
  const input = graph.inputs[0]?.name;
  if (!input) throw new DermFuseError('INVALID_ARGUMENT', 'The network has no image input.');
  return { graph, producer, weights, needed: [...seen].sort((a, b) => a - b), input };
}

/** The top of a cut at `t`, or why the network cannot be cut there. */
function topAt(ix: Index, t: string): { nodes: number[] } | { error: string } {
  const downstream = new Set<string>([t]);
  const nodes: number[] = [];
  for (const i of ix.needed) {
    const n = ix.graph.nodes[i]!;
    if (n.inputs.some((x) => downstream.has(x))) {
      nodes.push(i);
      n.outputs.forEach((o) => downstream.add(o));
    }
  }
  if (nodes.length === 0) return { error: `nothing after "${t}" leads to the features` };
  for (const i of nodes) {
    const n = ix.graph.nodes[i]!;
    const stray = n.inputs.find((x) => x !== '' && !downstream.has(x) && !ix.weights.has(x));
    if (stray) return { error: `node ${n.name ?? n.op} after it also reads "${stray}" from before it` };
  }
  const last = ix.graph.nodes[nodes[nodes.length - 1]!]!;
  if (!ix.needed.every((i) => nodes.includes(i) || !ix.graph.nodes[i]!.inputs.some((x) => downstream.has(x))) || !last) {
    return { error: 'the features do not all flow through it' };
  }
  return { nodes };
}

const convs = (ix: Index, nodes: number[]) => nodes.filter((i) => ix.graph.nodes[i]!.op === 'Conv').length;

/** Every single-tensor cut in graph order (the image input first). */
function cutPoints(ix: Index): { tensor: string; nodes: number[] }[] {
  const out: { tensor: string; nodes: number[] }[] = [];
  for (const t of [ix.input, ...ix.needed.flatMap((i) => ix.graph.nodes[i]!.outputs)]) {
    const r = topAt(ix, t);
    if ('nodes' in r) out.push({ tensor: t, nodes: r.nodes });
  }
  return out;
}

/** What the user named (a tensor, "input", a node name or a name inside node names such as features.14) as a tensor. */
function resolveName(ix: Index, name: string): string {
  if (name === 'input') return ix.input;
  if (ix.producer.has(name) || name === ix.input) return name;
  const byNode = ix.needed.map((i) => ix.graph.nodes[i]!).find((n) => n.name === name || (n.name ?? '').split('/').includes(name));
  const data = byNode?.inputs.find((x) => x !== '' && !ix.weights.has(x));
  if (data) return data;
  throw new DermFuseError('INVALID_ARGUMENT', `--finetune-from ${name}: the network has no such tensor or layer. ${suggest(ix)}`);
}

function suggest(ix: Index): string {
  const points = cutPoints(ix);
  const names = points.slice(-6).map((p) => `${p.tensor} (trains ${convs(ix, p.nodes)} convolutions)`);
  return `Cut points near the end: ${names.join('; ')}; or "input" for the whole network.`;
}

/** Splits the network at `from` (null: the default cut) below its feature tensor `output`. */
export function cutNetwork(graph: OnnxGraph, output: string, from: string | null): CutModel {
  const ix = index(graph, output);
  const totalConvs = convs(ix, ix.needed);
  let cut: string;
  let nodes: number[];
  if (from === null) {
    const points = cutPoints(ix).filter((p) => convs(ix, p.nodes) >= DEFAULT_TOP_SHARE * totalConvs);
    const last = points[points.length - 1];
    if (!last) throw new DermFuseError('INVALID_ARGUMENT', `The network cannot be cut for fine-tuning: no tensor carries everything to "${output}".`);
    cut = last.tensor;
    nodes = last.nodes;
  } else {
    cut = resolveName(ix, from);
    const r = topAt(ix, cut);
    if ('error' in r) throw new DermFuseError('INVALID_ARGUMENT', `--finetune-from ${from}: the network cannot be cut at "${cut}": ${r.error}. ${suggest(ix)}`);
    nodes = r.nodes;
  }
  const topSet = new Set(nodes);
  const trunkNodes = ix.needed.filter((i) => !topSet.has(i));
  const used = (ns: number[]) => new Set(ns.flatMap((i) => ix.graph.nodes[i]!.inputs));
  const trunkUses = used(trunkNodes);
  const topUses = used(nodes);
  return {
    cut,
    trunk: {
      name: `${graph.name}-trunk`,
      nodes: trunkNodes.map((i) => graph.nodes[i]!),
      initializers: graph.initializers.filter((t) => trunkUses.has(t.name)),
      inputs: graph.inputs.slice(0, 1),
      outputs: [{ name: cut, shape: ['batch', 'channels', 'height', 'width'] }],
    },
    top: { input: cut, output, nodes: nodes.map((i) => graph.nodes[i]!), weights: graph.initializers.filter((t) => topUses.has(t.name)) },
    topConvs: convs(ix, nodes),
    totalConvs,
  };
}
