import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../jobs/workers.ts';
import { DermFuseError } from '../../../shared/errors.ts';
import type { BackendInfo, BackendName } from '../tfjs/backend.ts';
import type { BackboneSpec } from '../../../shared/backbone.ts';
import type { WorkerReply, WorkerRequest } from './embedWorker.ts';
import type { OrtTarget } from '../onnx/ortEmbedder.ts';
import type { ConversionCheck } from '../onnx/convert.ts';

interface Slot {
  worker: Worker;
  busy: boolean;
}

/** Embedding workers, each with the backbone loaded; batches go to whichever is free. */
export class EmbedPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: Float32Array): void; reject(e: Error): void; slot: Slot }>();
  private failure: Error | null = null;
  private closing = false;
  dim = 0;
  fused = false;
  backend: BackendInfo | null = null;
  /** Version of onnxruntime-node when the workers run ONNX Runtime. */
  ortVersion: string | null = null;
  /** Tensor count each worker reported after its last batch (memory must stay flat). */
  readonly numTensors: number[] = [];

  static async start(spec: BackboneSpec, workers: number, backend?: BackendName, ort?: OrtTarget): Promise<EmbedPool> {
    const pool = new EmbedPool();
    try {
      await Promise.all(Array.from({ length: workers }, () => pool.add(spec, backend, ort)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Converts a TF.js model to ONNX in a worker of its own (TF.js loads there, never in the app's thread). */
  static convert(spec: BackboneSpec, file: string): Promise<ConversionCheck> {
    const worker = spawnWorker('ml/backbone/embedWorker');
    return new Promise<ConversionCheck>((resolve, reject) => {
      worker.on('message', (msg: WorkerReply) => {
        if (msg.type === 'converted') resolve(msg.check);
        else if (msg.type === 'error') reject(new Error(msg.message));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`the conversion worker exited with code ${code}`)));
      worker.postMessage({ type: 'convert', spec, file } satisfies WorkerRequest);
    }).finally(() => void worker.terminate());
  }

  private add(spec: BackboneSpec, backend?: BackendName, ort?: OrtTarget): Promise<void> {
    const worker = spawnWorker('ml/backbone/embedWorker');
    const slot: Slot = { worker, busy: true };
    const index = this.slots.push(slot) - 1;
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: WorkerReply) => {
        if (msg.type === 'loaded') {
          this.dim = msg.dim;
          this.fused = msg.fused;
          // Every worker reports from the start, also one that the scheduler never gives a batch.
          this.numTensors[index] = msg.numTensors;
          this.backend = msg.backend;
          this.ortVersion = msg.ortVersion;
          this.release(slot);
          resolve();
        } else if (msg.type === 'embedded') {
          this.numTensors[index] = msg.numTensors;
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          this.release(slot);
          p?.resolve(msg.vectors);
        } else if (msg.type === 'error') {
          const err = new DermFuseError('INTERNAL', `Feature worker: ${msg.message}`);
          if (msg.id === undefined) return reject(err);
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          this.release(slot);
          p?.reject(err);
        }
      });
      worker.on('error', (err) => this.fail(new DermFuseError('INTERNAL', `Feature worker crashed: ${err.message}`), reject));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.closing) this.fail(new DermFuseError('INTERNAL', `Feature worker exited with code ${code}`), reject);
      });
      worker.postMessage({ type: 'load', spec, backend, ort } satisfies WorkerRequest);
    });
  }

  /** A crashed worker fails every batch in flight and every later one: the job fails instead of hanging. */
  private fail(err: Error, reject: (e: Error) => void): void {
    this.failure ??= err;
    reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Embeds one batch on the next free worker. The pixel buffer is transferred (unusable afterwards). */
  async embed(pixels: Uint8Array, n: number): Promise<Float32Array> {
    if (this.failure) throw this.failure;
    const slot = await this.acquire();
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ type: 'embed', id, n, pixels } satisfies WorkerRequest, [pixels.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
