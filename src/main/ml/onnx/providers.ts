import ort from 'onnxruntime-node';
import { encodeModel } from './proto.ts';

export interface ProviderStatus {
  name: string;
  /** Shipped inside the onnxruntime-node package (else installed separately). */
  bundled: boolean;
  usable: boolean;
  /** Why not, when it is not usable; what DermFuse does with it when it is. */
  note: string;
}

const HINTS: Record<string, string> = {
  cuda: 'needs an NVIDIA GPU, its driver and CUDA 12, and the provider files: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node',
  tensorrt: 'needs an NVIDIA GPU with TensorRT and the CUDA provider files (see cuda)',
  webgpu: 'needs a GPU with a Vulkan (Linux), Metal (macOS) or Direct3D 12 (Windows) driver',
  dml: 'DirectML: Windows with a Direct3D 12 GPU',
  coreml: 'Core ML: macOS',
};

/**
 * Tries each execution provider this onnxruntime-node build knows on a one-node model (a session and one run), so
 * `doctor` reports what works on this machine, not what the package lists. DermFuse extracts on the CPU provider.
 */
export async function probeProviders(): Promise<{ version: string; providers: ProviderStatus[] }> {
  const bytes = encodeModel({
    name: 'probe',
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    initializers: [],
    inputs: [{ name: 'x', shape: [1, 4] }],
    outputs: [{ name: 'y', shape: [1, 4] }],
  });
  // Failed providers log errors of their own before throwing; the thrown message is what doctor shows.
  ort.env.logLevel = 'fatal';
  const providers: ProviderStatus[] = [];
  for (const b of ort.listSupportedBackends()) {
    try {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: [b.name], logSeverityLevel: 4 });
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(-1, 2, -3, 4), [1, 4]) });
      await session.release();
      const ok = Array.from(out.y!.data as Float32Array).join() === '0,2,0,4';
      providers.push({
        name: b.name,
        bundled: b.bundled,
        usable: ok,
        note: ok ? (b.name === 'cpu' ? 'used for feature extraction' : 'works here; DermFuse extracts on the CPU provider') : 'ran but gave wrong values',
      });
    } catch (err) {
      // The message's last sentence, without the source location ("...cc:136 ... was false. Failed to get ...").
      const first = (err as Error).message.split('\n')[0]!.replace(/^.*(?:was false\.|\] :? ?\d* ?:? ?)\s*/, '');
      providers.push({ name: b.name, bundled: b.bundled, usable: false, note: `${HINTS[b.name] ?? 'not usable here'} (${first.slice(0, 160)})` });
    }
  }
  return { version: ort.env.versions.node ?? ort.env.versions.common, providers };
}
