import { DermFuseError } from '../../../shared/errors.ts';
import { tf } from './backend.ts';
import { normalise } from '../input/spec.ts';
import { type BackboneSpec } from '../../../shared/backbone.ts';

export { normalise };
import { folderHandler, readModelJson } from './modelFiles.ts';
import { compileFused } from './fusedGraph.ts';
import { logger } from '../../log.ts';

const log = logger('embedder');
/** Largest difference, relative to the output's scale, allowed between fused and standard paths. */
const FUSED_TOLERANCE = 1e-3;

const POOLING = /^Global(Average|Max)Pooling2D$/;

type Runner = (x: tf.Tensor4D) => tf.Tensor;

function isLayersModel(l: tf.layers.Layer): l is tf.LayersModel {
  return l instanceof tf.LayersModel;
}

function layerNames(model: tf.LayersModel): string[] {
  return model.layers.flatMap((l) => (isLayersModel(l) ? [l.name, ...l.layers.map((n) => `${l.name}/${n.name}`)] : [l.name]));
}

/** Cuts a LayersModel at the feature layer: by name (top level or inside a nested model), else the last global pooling. */
export function featureModel(model: tf.LayersModel, name: string | null): tf.LayersModel {
  const sub = (outputs: tf.SymbolicTensor | tf.SymbolicTensor[]) => tf.model({ inputs: model.inputs, outputs });
  if (name) {
    const top = model.layers.find((l) => l.name === name);
    if (top) return sub(top.output as tf.SymbolicTensor);
    const first = model.layers[0];
    if (first && isLayersModel(first)) {
      const inner = first.layers.find((l) => l.name === name || `${first.name}/${l.name}` === name);
      if (inner) return tf.model({ inputs: first.inputs, outputs: inner.output as tf.SymbolicTensor });
    }
    throw new DermFuseError('NOT_FOUND', `The model has no layer "${name}". Its layers: ${layerNames(model).slice(-40).join(', ')}`);
  }
  const pools = model.layers.filter((l) => POOLING.test(l.getClassName()));
  if (pools.length > 0) return sub(pools.at(-1)!.output as tf.SymbolicTensor);
  // Keras applications wrapped in a Sequential (Teachable Machine): the backbone is a nested model ending in pooling.
  const nested = model.layers.filter((l) => isLayersModel(l) && POOLING.test(l.layers.at(-1)?.getClassName() ?? ''));
  if (nested.length > 0) return sub(nested.at(-1)!.output as tf.SymbolicTensor);
  throw new DermFuseError(
    'NOT_FOUND',
    `The model has no global pooling layer to take features from; name one with --layer. Its layers: ${layerNames(model).slice(-40).join(', ')}`,
  );
}

/** Last pooling node of a graph model (Mean or AvgPool), else null (the model's own output is used). */
async function graphPoolingNode(dir: string): Promise<string | null> {
  const topo = (await readModelJson(dir)).modelTopology as { node?: { name: string; op: string }[] };
  const pools = (topo.node ?? []).filter((n) => n.op === 'Mean' || n.op === 'AvgPool');
  return pools.at(-1)?.name ?? null;
}

/** Global average over height and width when a feature map comes out, so every embedding is a vector. */
function toVector(y: tf.Tensor): tf.Tensor2D {
  if (y.rank === 4) return tf.mean(y, [1, 2]) as tf.Tensor2D;
  if (y.rank === 2) return y as tf.Tensor2D;
  return y.reshape([y.shape[0]!, -1]) as tf.Tensor2D;
}

/** Runs both paths on the same random batch and checks they agree (the fused path is an optimisation, never a change). */
function agrees(a: Runner, b: Runner, size: number): boolean {
  return tf.tidy(() => {
    const x = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const ya = a(x);
    const yb = b(x);
    if (ya.shape.join() !== yb.shape.join()) return false;
    const scale = Math.max(tf.max(tf.abs(ya)).dataSync()[0]!, 1e-6);
    return tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0]! / scale < FUSED_TOLERANCE;
  });
}

/** A loaded backbone that turns batches of preprocessed pixels into embeddings. Runs wherever it is created. */
export class Embedder {
  private constructor(
    readonly spec: BackboneSpec,
    private readonly run: Runner,
    readonly dim: number,
    private readonly disposeModel: () => void,
    /** True when BatchNorm and activations run fused into the convolutions. */
    readonly fused = false,
  ) {}

  static async load(spec: BackboneSpec): Promise<Embedder> {
    const s = spec.preprocessing.inputSize;
    let run: Runner;
    let dispose: () => void;
    let fused = false;
    if (spec.format === 'graph') {
      const model = await tf.loadGraphModel(folderHandler(spec.dir));
      const node = spec.featureLayer ?? (await graphPoolingNode(spec.dir));
      run = (x) => toVector((node ? model.execute(x, node) : model.execute(x)) as tf.Tensor);
      dispose = () => model.dispose();
    } else {
      const model = await tf.loadLayersModel(folderHandler(spec.dir));
      const cut = featureModel(model, spec.featureLayer);
      const standard: Runner = (x) => toVector(cut.predict(x) as tf.Tensor);
      const compiled = compileFused(cut);
      run = standard;
      if (compiled && agrees(standard, (x) => toVector(compiled.run(x)), s)) {
        run = (x) => toVector(compiled.run(x));
        fused = true;
      } else if (compiled) {
        log.warn(`fused graph of ${spec.name} disagrees with the standard path; using the standard path`);
        compiled.dispose();
      }
      dispose = () => {
        compiled?.dispose();
        model.dispose();
      };
    }
    const dim = tf.tidy(() => run(tf.zeros([1, s, s, 3])).shape[1]!);
    return new Embedder(spec, run, dim, dispose, fused);
  }

  /** Embeds `n` images given as uint8 RGB (n × size × size × 3); returns n × dim floats. */
  embed(pixels: Uint8Array, n: number): Float32Array {
    const s = this.spec.preprocessing.inputSize;
    if (pixels.length !== n * s * s * 3) throw new Error(`expected ${n}x${s}x${s}x3 pixels, got ${pixels.length} values`);
    const input = normalise(pixels, this.spec.preprocessing);
    return tf.tidy(() => {
      const x = tf.tensor4d(input, [n, s, s, 3]);
      let y = this.run(x);
      if (this.spec.tta) y = tf.div(tf.add(y, this.run(tf.reverse(x, 2))), 2);
      return y.dataSync() as Float32Array;
    });
  }

  dispose(): void {
    this.disposeModel();
  }
}
