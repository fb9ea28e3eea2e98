import { tf } from '../tfjs/backend.ts';

/** The layer whose output is the learned embedding when the trained CNN serves as a backbone. */
export const CNN_FEATURE_LAYER = 'features';
/** Small inputs: the network learns from hundreds to thousands of photos, and trains in minutes on a laptop CPU. */
export const CNN_INPUT_SIZE = 96;
/** Dropout before the classifier: the embedding layer is what is kept, so regularise what sits on top of it. */
const HEAD_DROPOUT = 0.3;
/** Faster-moving BatchNorm statistics than Keras' 0.99: a short from-scratch run takes only a few hundred steps. */
const BN_MOMENTUM = 0.9;

/**
 * A compact MobileNet-style CNN (conv stem, depthwise-separable blocks, global pooling) for training from
 * scratch on a project's own labels, when no pretrained network is at hand. About 60k parameters.
 */
export function buildSmallCnn(inputSize: number, classes: number, seed: number): tf.LayersModel {
  let s = seed;
  const init = () => tf.initializers.heNormal({ seed: s++ });
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'image' });
  const bnRelu = (x: tf.SymbolicTensor, name: string) =>
    tf.layers.reLU({ name: `${name}_relu` }).apply(tf.layers.batchNormalization({ name: `${name}_bn`, momentum: BN_MOMENTUM }).apply(x)) as tf.SymbolicTensor;
  let x = bnRelu(
    tf.layers
      .conv2d({ filters: 24, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(), name: 'stem' })
      .apply(input) as tf.SymbolicTensor,
    'stem',
  );
  const blocks: [number, number][] = [
    [48, 2],
    [64, 1],
    [96, 2],
    [128, 2],
    [160, 1],
  ];
  blocks.forEach(([filters, stride], i) => {
    x = bnRelu(
      tf.layers
        .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: init(), name: `dw${i}` })
        .apply(x) as tf.SymbolicTensor,
      `dw${i}`,
    );
    x = bnRelu(tf.layers.conv2d({ filters, kernelSize: 1, useBias: false, kernelInitializer: init(), name: `pw${i}` }).apply(x) as tf.SymbolicTensor, `pw${i}`);
  });
  const features = tf.layers.globalAveragePooling2d({ name: CNN_FEATURE_LAYER }).apply(x) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: HEAD_DROPOUT, seed: s++, name: 'head_dropout' }).apply(features) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }), name: 'classifier' })
    .apply(dropped) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'dermfuse_small_cnn' });
}
