// Writes the small built-in backbone, resources/models/mobilenet_v2_0.35_224/ (catalogue id
// mobilenet_v2_0.35_224_builtin; it was the default until the MobileNetV2-1.0 ONNX took its place, which is
// model.onnx copied as it is, with no script), from the copy in ../shared/models/mobilenet_v2_0.35_224_tm: Google's
// ImageNet MobileNetV2 (width 0.35, 224 px) as Teachable Machine downloads it, with the unrelated 2-class head it
// carries removed. Weights are copied as they are (float32). The folder is replaced whole: LICENSE, SOURCE.md and
// dermfuse-backbone.json come back from git. Run once: npx tsx scripts/make-default-backbone.ts
import fs from 'node:fs';
import path from 'node:path';
import { initBackend, tf } from '../src/main/ml/tfjs/backend.ts';
import { folderHandler, folderSaver } from '../src/main/ml/tfjs/modelFiles.ts';

const root = path.resolve(import.meta.dirname, '..');
const source = path.resolve(root, '../shared/models/mobilenet_v2_0.35_224_tm');
const target = path.join(root, 'resources/models/mobilenet_v2_0.35_224');

await initBackend();
const full = await tf.loadLayersModel(folderHandler(source));
const backbone = full.getLayer('sequential_33') as tf.LayersModel;
fs.rmSync(target, { recursive: true, force: true });
await backbone.save(folderSaver(target));
const check = await tf.loadLayersModel(folderHandler(target));
const x = tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', 7);
const a = backbone.predict(x) as tf.Tensor;
const b = check.predict(x) as tf.Tensor;
const diff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0]!;
process.stdout.write(`wrote ${target}: output ${JSON.stringify(b.shape)}, max |diff| vs source ${diff}\n`);
