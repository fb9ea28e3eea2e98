// Worker thread: loads a backbone once and embeds batches of pixels, on TensorFlow.js or ONNX Runtime (each loaded
// only when used). Neither runs on the thread that serves the UI or drives the import; a crash here fails the job
// instead of hanging it. It also converts TF.js models to ONNX, so the converter's TF.js never loads in the app.
import { parentPort } from 'node:worker_threads';
import type { BackendInfo, BackendName } from '../tfjs/backend.ts';
import type { BackboneSpec } from '../../../shared/backbone.ts';
import type { OrtTarget } from '../onnx/ortEmbedder.ts';
import type { ConversionCheck } from '../onnx/convert.ts';

export type WorkerRequest =
  | { type: 'load'; spec: BackboneSpec; backend?: BackendName; ort?: OrtTarget }
  | { type: 'embed'; id: number; n: number; pixels: Uint8Array }
  | { type: 'convert'; spec: BackboneSpec; file: string };

export type WorkerReply =
  | { type: 'loaded'; dim: number; fused: boolean; numTensors: number; backend: BackendInfo | null; ortVersion: string | null }
  | { type: 'embedded'; id: number; vectors: Float32Array; numTensors: number }
  | { type: 'converted'; check: ConversionCheck }
  | { type: 'error'; id?: number; message: string };

interface Loaded {
  dim: number;
  embed(pixels: Uint8Array, n: number): Float32Array | Promise<Float32Array>;
}

let embedder: Loaded | null = null;
/** Live tensors (TF.js), or 0 on ONNX Runtime, whose buffers are freed with each call. */
let numTensors: () => number = () => 0;
const port = parentPort!;

port.on('message', (msg: WorkerRequest) => {
  void handle(msg).catch((err: unknown) => {
    port.postMessage({
      type: 'error',
      id: msg.type === 'embed' ? msg.id : undefined,
      message: err instanceof Error ? err.message : String(err),
    } satisfies WorkerReply);
  });
});

async function handle(msg: WorkerRequest): Promise<void> {
  switch (msg.type) {
    case 'load': {
      if (msg.ort) {
        const { OrtEmbedder, ORT_VERSION } = await import('../onnx/ortEmbedder.ts');
        const e = await OrtEmbedder.load(msg.spec, msg.ort);
        embedder = e;
        port.postMessage({ type: 'loaded', dim: e.dim, fused: false, numTensors: 0, backend: null, ortVersion: ORT_VERSION } satisfies WorkerReply);
        return;
      }
      const { initBackend, tf } = await import('../tfjs/backend.ts');
      const { Embedder } = await import('../tfjs/embedder.ts');
      const backend = await initBackend(msg.backend);
      const e = await Embedder.load(msg.spec);
      embedder = e;
      numTensors = () => tf.memory().numTensors;
      port.postMessage({ type: 'loaded', dim: e.dim, fused: e.fused, numTensors: numTensors(), backend, ortVersion: null } satisfies WorkerReply);
      return;
    }
    case 'embed': {
      if (!embedder) throw new Error('no backbone loaded');
      const vectors = await embedder.embed(msg.pixels, msg.n);
      const reply: WorkerReply = { type: 'embedded', id: msg.id, vectors, numTensors: numTensors() };
      port.postMessage(reply, [vectors.buffer as ArrayBuffer]);
      return;
    }
    case 'convert': {
      const { convertLayersModel } = await import('../onnx/convert.ts');
      port.postMessage({ type: 'converted', check: await convertLayersModel(msg.spec, msg.file) } satisfies WorkerReply);
      return;
    }
    default: {
      const never: never = msg;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}
