// Worker thread: loads a backbone once and embeds batches of pixels. TensorFlow never runs on the thread that
// serves the UI or drives the import; a crash here fails the job instead of hanging it.
import { parentPort } from 'node:worker_threads';
import { initBackend, tf, type BackendName } from './backend.ts';
import type { BackboneSpec } from './backboneSpec.ts';
import { Embedder } from './embedder.ts';

export type WorkerRequest = { type: 'load'; spec: BackboneSpec; backend?: BackendName } | { type: 'embed'; id: number; n: number; pixels: Uint8Array };

export type WorkerReply =
  | { type: 'loaded'; dim: number; fused: boolean; numTensors: number; backend: Awaited<ReturnType<typeof initBackend>> }
  | { type: 'embedded'; id: number; vectors: Float32Array; numTensors: number }
  | { type: 'error'; id?: number; message: string };

let embedder: Embedder | null = null;
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
      const backend = await initBackend(msg.backend);
      embedder = await Embedder.load(msg.spec);
      port.postMessage({ type: 'loaded', dim: embedder.dim, fused: embedder.fused, numTensors: tf.memory().numTensors, backend } satisfies WorkerReply);
      return;
    }
    case 'embed': {
      if (!embedder) throw new Error('no backbone loaded');
      const vectors = embedder.embed(msg.pixels, msg.n);
      const reply: WorkerReply = { type: 'embedded', id: msg.id, vectors, numTensors: tf.memory().numTensors };
      port.postMessage(reply, [vectors.buffer as ArrayBuffer]);
      return;
    }
    default: {
      const never: never = msg;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}
