/**
 * The exported fine-tuned network, one ONNX model: the frozen trunk, the top with its tuned weights, and the
 * test-time augmentation built in (the 8 flips/quarter turns of the input stacked as a batch, their pooled features
 * averaged), so predict runs it on ONNX Runtime and gets what the workbench's final model was evaluated with.
 */
import type { OnnxGraph, OnnxNode, OnnxTensor } from '../onnx/proto.ts';

const VIEWS_TENSOR = 'dermfuse_views';
export const TUNED_OUTPUT = 'dermfuse_features';
const INT64_MIN = -(2n ** 63n);

const int64 = (name: string, values: bigint[]): OnnxTensor => ({ name, dims: [values.length], data: BigInt64Array.from(values) });

/**
 * `graph` with `tuned` weights replacing its initializers of the same names, its input turned into the stack of
 * `views` dihedral views (1, 2, 4 or 8) and its feature tensor `output` (dimension `dim`) averaged over them.
 */
export function tunedGraph(graph: OnnxGraph, output: string, dim: number, tuned: OnnxTensor[], views: number, opset: number): OnnxGraph {
  const input = graph.inputs[0]!.name;
  const byName = new Map(tuned.map((t) => [t.name, t]));
  const initializers = graph.initializers.map((t) => byName.get(t.name) ?? t);
  const nodes: OnnxNode[] = [];
  const flip = (from: string, to: string) =>
    nodes.push({ op: 'Slice', name: `dermfuse_flip_${to}`, inputs: [from, `${to}_starts`, `${to}_ends`, `${to}_axes`, `${to}_steps`], outputs: [to] });
  const consts: OnnxTensor[] = [];
  const flipConsts = (to: string, axes: bigint[]) =>
    consts.push(
      int64(
        `${to}_starts`,
        axes.map(() => -1n),
      ),
      int64(
        `${to}_ends`,
        axes.map(() => INT64_MIN),
      ),
      int64(`${to}_axes`, axes),
      int64(
        `${to}_steps`,
        axes.map(() => -1n),
      ),
    );
  const made: string[] = [];
  const bases = views > 4 ? [input, 'dermfuse_t'] : [input];
  if (views > 4) nodes.push({ op: 'Transpose', name: 'dermfuse_transpose', inputs: [input], outputs: ['dermfuse_t'], attributes: { perm: [0, 1, 3, 2] } });
  const flips: [string, bigint[]][] = [
    ['', []],
    ['x', [3n]],
    ['y', [2n]],
    ['xy', [2n, 3n]],
  ];
  for (const b of bases)
    for (const [tag, axes] of flips.slice(0, Math.min(4, views))) {
      if (axes.length === 0) {
        made.push(b);
        continue;
      }
      const to = `${b}_flip_${tag}`;
      flip(b, to);
      flipConsts(to, axes);
      made.push(to);
    }
  nodes.push({ op: 'Concat', name: 'dermfuse_views', inputs: made, outputs: [VIEWS_TENSOR], attributes: { axis: 0 } });
  for (const n of graph.nodes) nodes.push({ ...n, inputs: n.inputs.map((x) => (x === input ? VIEWS_TENSOR : x)) });
  consts.push(int64('dermfuse_view_shape', [BigInt(made.length), -1n, BigInt(dim)]));
  nodes.push({ op: 'Reshape', name: 'dermfuse_by_view', inputs: [output, 'dermfuse_view_shape'], outputs: ['dermfuse_by_view'] });
  if (opset >= 18) {
    consts.push(int64('dermfuse_view_axis', [0n]));
    nodes.push({
      op: 'ReduceMean',
      name: 'dermfuse_view_mean',
      inputs: ['dermfuse_by_view', 'dermfuse_view_axis'],
      outputs: [TUNED_OUTPUT],
      attributes: { keepdims: 0 },
    });
  } else {
    nodes.push({ op: 'ReduceMean', name: 'dermfuse_view_mean', inputs: ['dermfuse_by_view'], outputs: [TUNED_OUTPUT], attributes: { axes: [0], keepdims: 0 } });
  }
  return {
    name: `${graph.name}-finetuned`,
    nodes,
    initializers: [...initializers, ...consts],
    inputs: graph.inputs.slice(0, 1),
    outputs: [{ name: TUNED_OUTPUT, shape: ['batch', dim] }],
  };
}
