import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../../shared/errors.ts';
import { MAX_MODEL_BYTES, readJsonFile, readRegularFile } from '../../files/fsChecks.ts';
import { tf } from './backend.ts';

interface ModelJson {
  format?: string;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  [k: string]: unknown;
}

/**
 * Reads model.json of a TF.js model folder (a regular file of at most MAX_JSON_BYTES, read asynchronously), naming
 * the file in any error. Weight files must lie in the folder: a manifest cannot make DermFuse read elsewhere.
 */
export async function readModelJson(dir: string): Promise<ModelJson> {
  const file = path.join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = (await readJsonFile(file, file)) as ModelJson;
  } catch (err) {
    throw new DermFuseError(
      (err as DermFuseError).code ?? 'FILE_NOT_FOUND',
      `${(err as Error).message} A backbone is a TF.js model folder holding model.json and its weight files.`,
    );
  }
  if (!json || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new DermFuseError('INVALID_ARGUMENT', `${file} is not a TF.js model (no modelTopology or weightsManifest).`);
  }
  for (const p of json.weightsManifest.flatMap((g) => g.paths)) {
    if (typeof p !== 'string' || p.split(/[\\/]/).includes('..') || path.isAbsolute(p))
      throw new DermFuseError('INVALID_VALUE', `${file} names a weight file outside its folder: ${String(p)}`);
  }
  return json;
}

/** GraphModel (converted SavedModel / frozen graph) or LayersModel (Keras). */
export function modelFormat(json: ModelJson): 'graph' | 'layers' {
  if (json.format === 'graph-model') return 'graph';
  const topo = json.modelTopology as { node?: unknown };
  return Array.isArray(topo.node) ? 'graph' : 'layers';
}

/** An IOHandler reading model.json and its weight shards from a folder, for loadLayersModel and loadGraphModel. */
export function folderHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = await readModelJson(dir);
      const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
      const buffers: Buffer[] = [];
      for (const p of json.weightsManifest.flatMap((g) => g.paths)) {
        const file = path.join(dir, p);
        if (!fs.existsSync(file)) throw new DermFuseError('FILE_NOT_FOUND', `Weight file ${file} named in ${path.join(dir, 'model.json')} is missing.`);
        buffers.push(await readRegularFile(file, `Weight file ${file}`, MAX_MODEL_BYTES));
      }
      const all = Buffer.concat(buffers);
      const { modelTopology, weightsManifest: _w, ...rest } = json;
      return {
        modelTopology: modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
        format: json.format,
        ...(rest as Partial<tf.io.ModelArtifacts>),
      };
    },
  };
}

/** An IOHandler that writes model.json + weights.bin into a folder (the layout TF.js converters use). */
export function folderSaver(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts) => {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      const json = {
        format: artifacts.format,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  };
}
