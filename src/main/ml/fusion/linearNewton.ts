import { tf } from '../tfjs/backend.ts';
import { choleskySolve } from '../stats/linalg.ts';

/**
 * The linear head's convex problem solved by Newton's method: weighted softmax cross-entropy (mean over the rows
 * of non-zero weight) plus an L2 penalty per input column, the bias free. TF.js computes what grows with the rows
 * (logits, gradient, Hessian); the small (classes × columns)² system is solved here by Cholesky. Newton reaches the
 * unique optimum in a handful of steps where full-batch Adam needs hundreds of epochs.
 */
export interface LinearProblem {
  /** n × p, row-major; the last column is the bias (all ones). */
  x: Float32Array;
  n: number;
  p: number;
  labels: Int32Array;
  classes: number;
  /** Per-row weight. */
  weights: Float32Array;
  /** Per-column L2 strength (p values; 0 for the bias). */
  l2: Float64Array;
}

/**
 * Largest (classes × columns) system solved by Newton; larger ones take the first-order path. Measured on wasm: a binary
 * head of 83 columns takes 25-40 ms by Newton against 30-170 ms by Adam; six classes (498 unknowns) 250-450 ms
 * against 50-220 ms, the Cholesky solve growing with the cube.
 */
export const NEWTON_MAX_UNKNOWNS = 256;
const MAX_STEPS = 50;
/** Stop when half the Newton decrement is below this: the loss is then within it of the optimum. */
const DECREMENT = 1e-10;
/**
 * The bias shifted equally in every class changes nothing: that direction is taken out of the gradient (only float32
 * rounding puts anything there) and of the step, and the bias entries of the Hessian get this much of its mean
 * diagonal, so the float32 Hessian's rounding along it cannot make a pivot of almost nothing.
 */
const BIAS_DAMPING = 1e-6;

/** Weights p × classes (row-major), the bias in the last row. */
export function solveLinear(pb: LinearProblem): Float64Array {
  const { n, p, classes: C } = pb;
  let nonZero = 0;
  for (const w of pb.weights) if (w !== 0) nonZero++;
  const scale = Float32Array.from(pb.weights, (w) => w / Math.max(nonZero, 1));
  const X = tf.tensor2d(pb.x, [n, p]);
  // Transposed once: the wasm backend's matMul with transposeA is several times slower than a plain product.
  const XT = tf.transpose(X) as tf.Tensor2D;
  const Y = tf.oneHot(tf.tensor1d(pb.labels, 'int32'), C).toFloat() as tf.Tensor2D;
  const S = tf.tensor2d(scale, [n, 1]);
  const rootS = tf.sqrt(S);
  const theta = new Float64Array(p * C);
  try {
    const penalty = (t: Float64Array) => {
      let s = 0;
      for (let j = 0; j < p; j++) for (let c = 0; c < C; c++) s += pb.l2[j]! * t[j * C + c]! ** 2;
      return s;
    };
    const loss = (t: Float64Array): number =>
      tf.tidy(() => {
        const logP = tf.logSoftmax(tf.matMul(X, tf.tensor2d(Float32Array.from(t), [p, C])));
        return -tf.sum(tf.mul(tf.mul(S, Y), logP)).dataSync()[0]!;
      }) + penalty(t);
    let f = loss(theta);
    for (let step = 0; step < MAX_STEPS; step++) {
      const { g, h } = gradientAndHessian(X, XT, Y, S, rootS, theta, p, C);
      const k = p * C;
      // Unknowns in class-major order (c·p + j), as the Hessian's blocks come out.
      const grad = new Float64Array(k);
      for (let j = 0; j < p; j++) {
        for (let c = 0; c < C; c++) {
          grad[c * p + j] = g[j * C + c]! + 2 * pb.l2[j]! * theta[j * C + c]!;
          h[(c * p + j) * k + c * p + j]! += 2 * pb.l2[j]!;
        }
      }
      let trace = 0;
      for (let u = 0; u < k; u++) trace += h[u * k + u]!;
      for (let c = 0; c < C; c++) h[(c * p + p - 1) * k + c * p + p - 1]! += (BIAS_DAMPING * trace) / k;
      centreBias(grad, p, C);
      const delta = dampedSolve(h, grad, k, trace);
      centreBias(delta, p, C);
      let decrement = 0;
      for (let u = 0; u < k; u++) decrement += grad[u]! * delta[u]!;
      if (decrement / 2 < DECREMENT * Math.max(1, f)) break;
      let t = 1;
      let next: Float64Array | null = null;
      let fNext = f;
      for (let tries = 0; tries < 30; tries++, t /= 2) {
        const cand = new Float64Array(p * C);
        for (let j = 0; j < p; j++) for (let c = 0; c < C; c++) cand[j * C + c] = theta[j * C + c]! - t * delta[c * p + j]!;
        fNext = loss(cand);
        if (fNext <= f - 1e-4 * t * decrement) {
          next = cand;
          break;
        }
      }
      // No step lowers the loss beyond float32's rounding: this is the optimum to working precision.
      if (!next) break;
      theta.set(next);
      f = fNext;
    }
    return theta;
  } finally {
    tf.dispose([X, XT, Y, S, rootS]);
  }
}

/** Removes the bias's mean over the classes from a class-major vector (the direction that changes nothing). */
function centreBias(v: Float64Array, p: number, C: number): void {
  let mean = 0;
  for (let c = 0; c < C; c++) mean += v[c * p + p - 1]!;
  mean /= C;
  for (let c = 0; c < C; c++) v[c * p + p - 1]! -= mean;
}

/**
 * The loss's gradient (p × classes, row-major, without the penalty) and Hessian ((classes·p)², class-major) at
 * `theta`: H = blockdiag_c(Xᵀ diag(s·P_c) X) − NᵀN with N = [diag(√s·P_c) X]_c.
 */
function gradientAndHessian(
  X: tf.Tensor2D,
  XT: tf.Tensor2D,
  Y: tf.Tensor2D,
  S: tf.Tensor2D,
  rootS: tf.Tensor2D,
  theta: Float64Array,
  p: number,
  C: number,
): { g: Float64Array; h: Float64Array } {
  const [g, blocks, outer] = tf.tidy(() => {
    const P = tf.softmax(tf.matMul(X, tf.tensor2d(Float32Array.from(theta), [p, C])));
    const grad = tf.matMul(XT, tf.mul(S, tf.sub(P, Y)));
    const cols = tf.split(P, C, 1);
    const M = tf.concat(
      cols.map((pc) => tf.mul(X, tf.mul(S, pc))),
      1,
    );
    const N = tf.concat(
      cols.map((pc) => tf.mul(X, tf.mul(rootS, pc))),
      1,
    );
    return [grad, tf.matMul(XT, M), tf.matMul(tf.transpose(N), N)];
  });
  const k = p * C;
  const gv = Float64Array.from(g.dataSync());
  const bv = blocks.dataSync();
  const ov = outer.dataSync();
  // Plain loops: typed-array `from` with a mapping function is slow on arrays of this size.
  const h = new Float64Array(k * k);
  for (let u = 0; u < k * k; u++) h[u] = -ov[u]!;
  tf.dispose([g, blocks, outer]);
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < p; j++) for (let i = 0; i < p; i++) h[(c * p + j) * k + c * p + i]! += bv[j * k + c * p + i]!;
  }
  // Symmetrise: float32 products leave the two triangles a rounding apart.
  for (let u = 0; u < k; u++) {
    for (let v = u + 1; v < k; v++) {
      const m = (h[u * k + v]! + h[v * k + u]!) / 2;
      h[u * k + v] = m;
      h[v * k + u] = m;
    }
  }
  return { g: gv, h };
}

/** Cholesky solve, damped (Levenberg) until the float32 Hessian is positive definite. */
function dampedSolve(h: Float64Array, b: Float64Array, k: number, trace: number): Float64Array {
  for (let mu = 0, tries = 0; tries < 12; tries++, mu = mu === 0 ? 1e-10 * (trace / k) : mu * 10) {
    const a = mu === 0 ? h : Float64Array.from(h);
    if (mu > 0) for (let u = 0; u < k; u++) a[u * k + u]! += mu;
    const x = choleskySolve(a, b, k);
    if (x) return x;
  }
  // Nothing positive definite: a plain gradient step, which the line search scales.
  return Float64Array.from(b, (v) => v / Math.max(trace / k, 1e-12));
}
