import { IMAGENET_CENTER_CROP, rangePreprocessing } from '../input/spec.ts';
import { type Preprocessing } from '../../../shared/backbone.ts';

/** A known ImageNet backbone that downloads on first use into the model cache. */
export interface CatalogueEntry {
  id: string;
  description: string;
  /** URL of model.json; weight files are fetched relative to it, as TF.js does. Null: built in (see `builtIn`). */
  url: string | null;
  /** Folder under resources/models/ that ships with DermFuse: used offline, never downloaded. */
  builtIn?: string;
  /** Licence of the weights, shown beside the entry. */
  licence: string;
  format: 'layers' | 'graph' | 'onnx';
  /** ONNX entries: the input layout (default NCHW, as PyTorch exports). */
  layout?: 'nchw' | 'nhwc';
  /** Size in MB (of the download, or of the built-in files), shown beside the entry. */
  sizeMB?: number;
  featureLayer: string | null;
  preprocessing: Preprocessing;
  dim: number;
  /**
   * Digest of the whole model (see modelDigest; for ONNX, the file's SHA-256). Null: not pinned, so the first download is trusted and its
   * digest recorded; later loads of the cached copy are checked against that.
   */
  digest: string | null;
}

const GOOGLE_MOBILENET_V1 = 'https://storage.googleapis.com/tfjs-models/tfjs';
const TEACHABLE_MACHINE = 'https://storage.googleapis.com/teachable-machine-models';

/**
 * Stronger ONNX backbones for users with a network. Each is pinned by the SHA-256 its host publishes (the Git LFS
 * pointer of the file), so a changed or damaged download is refused; features are taken below the classifier
 * (see onnx/graph.ts) or, for a transformer, from its class token.
 */
const ONNX_ZOO: readonly CatalogueEntry[] = [
  {
    id: 'resnet50_v2_onnx',
    description:
      'ResNet-50 v2 (pre-activation), ImageNet-1k, 75.8% top-1 (ONNX Model Zoo, from MXNet GluonCV), 224x224; the 2048-d pooled features below its classifier',
    url: 'https://huggingface.co/onnxmodelzoo/legacy_models/resolve/main/validated/vision/classification/resnet/model/resnet50-v2-7.onnx',
    licence: 'Apache-2.0',
    format: 'onnx',
    layout: 'nchw',
    sizeMB: 98,
    featureLayer: null,
    preprocessing: IMAGENET_CENTER_CROP,
    dim: 2048,
    // The file's Git LFS pointer in github.com/onnx/models (validated/vision/classification/resnet/model).
    digest: '79102261eb6e5fd7af5d27f41316293e388c5cb691e5d25bfb035c4f64fefe31',
  },
  {
    id: 'dinov2_vits14_onnx',
    description: 'DINOv2 ViT-S/14 (Meta), self-supervised on 142M images, 224x224; the 384-d class token (Transformers.js export)',
    url: 'https://huggingface.co/Xenova/dinov2-small/resolve/560a572cedd01ab59cf1a614c2d9673397b65ef2/onnx/model.onnx',
    licence: 'Apache-2.0',
    format: 'onnx',
    layout: 'nchw',
    sizeMB: 88.5,
    featureLayer: null,
    preprocessing: IMAGENET_CENTER_CROP,
    dim: 384,
    // Hugging Face's Git LFS details of onnx/model.onnx at that commit.
    digest: '83141175ec78b4ff9a2bb58a4c7c264ba0054d1c2e122e5a8114b79a8d4179ea',
  },
];

/** What `extract` uses when no backbone is named, and what the extract form offers first. */
export const DEFAULT_BACKBONE = 'default';

/**
 * The small built-in MobileNetV2-0.35 (TF.js, the default before the 1.0): a fifth of the default's multiply-adds
 * (59M against 300M per image), for work that needs some backbone rather than the strongest one.
 */
export const SMALL_BUILT_IN_BACKBONE = 'mobilenet_v2_0.35_224_builtin';

/** The two built-in backbones (offline, pinned), then downloads: Google's TF.js MobileNets (Apache-2.0) and ONNX_ZOO. */
export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    id: DEFAULT_BACKBONE,
    description:
      'MobileNetV2, width 1.0, ImageNet, 71.7% top-1 (torchvision weights, ONNX), 224x224, built in (works offline): resources/models/mobilenet_v2_1.0_224_onnx',
    url: null,
    builtIn: 'mobilenet_v2_1.0_224_onnx',
    licence: 'BSD-3-Clause',
    format: 'onnx',
    layout: 'nchw',
    sizeMB: 8.9,
    featureLayer: null,
    preprocessing: IMAGENET_CENTER_CROP,
    dim: 1280,
    // The SHA-256 of model.onnx, as for every ONNX backbone (backboneDigest).
    digest: '23fead4e5df5b041e2805427b4921af23c11cda0067141155eea7bbcf6078dac',
  },
  {
    id: SMALL_BUILT_IN_BACKBONE,
    description: 'MobileNetV2, width 0.35, ImageNet, 224x224 (TF.js), built in (works offline): resources/models/mobilenet_v2_0.35_224',
    url: null,
    builtIn: 'mobilenet_v2_0.35_224',
    licence: 'Apache-2.0',
    format: 'layers',
    sizeMB: 1.7,
    featureLayer: null,
    preprocessing: rangePreprocessing(224, -1, 1),
    dim: 1280,
    // The digest of model.json and weights.bin (folderDigest).
    digest: 'a5e65b45e44af0cb25e0dd90e22f2fcfa931c7aabd9db39bcab9f35f2f486306',
  },
  // Google's hosted TF.js MobileNets; the v1 0.75 digest was checked against a verified copy.
  ...(['0.25', '0.50', '0.75', '1.0'] as const).map((alpha) => ({
    id: `mobilenet_v1_${alpha}_224`,
    description: `MobileNet v1, width ${alpha}, ImageNet, 224x224 (the model behind @tensorflow-models/mobilenet)`,
    url: `${GOOGLE_MOBILENET_V1}/mobilenet_v1_${alpha}_224/model.json`,
    licence: 'Apache-2.0',
    format: 'layers' as const,
    featureLayer: 'global_average_pooling2d_1',
    preprocessing: rangePreprocessing(224, -1, 1),
    dim: Math.round(1024 * Number(alpha)),
    digest: alpha === '0.75' ? '761f30ac0ff2c10c7f4c948c2d92e0db642134fd5d7b358294284c4f30b1e87b' : null,
  })),
  {
    id: 'mobilenet_v2_0.35_224',
    description: 'MobileNetV2, width 0.35, ImageNet backbone without top, 224x224 (the one Teachable Machine downloads)',
    url: `${TEACHABLE_MACHINE}/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top/model.json`,
    licence: 'Apache-2.0',
    format: 'layers',
    featureLayer: null,
    preprocessing: rangePreprocessing(224, -1, 1),
    dim: 1280,
    digest: null,
  },
  ...ONNX_ZOO,
];

export function catalogueEntry(id: string): CatalogueEntry | undefined {
  return CATALOGUE.find((e) => e.id === id);
}
