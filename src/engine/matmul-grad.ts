/**
 * BatchMatMul gradient with tfjs's batch broadcasting.
 *
 * Why: tfjs 4.22's registered gradient ignores broadcasting, so `matMul(x [B, S, K], w [K, N])`
 * (or any batch-1 operand) fails in backprop with "gradient of input 'b' has shape [B, K, N]".
 * Here each gradient is the usual product summed over the batch dims its input was broadcast
 * along. For shared weights under untransposed activations (the Linear-layer case) the sum is a
 * single product over the flattened rows, which never materialises [B, K, N].
 */
import * as tf from '@tensorflow/tfjs';

/** Sums `g` (shape [...outBatch, r, c]) down to `shape` (the input's, broadcast into outBatch). */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length - 2; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? tf.sum(g, axes, true) : g;
  return tf.reshape(summed, shape);
}

const batchSize = (shape: number[]): number => shape.slice(0, -2).reduce((p, d) => p * d, 1);

/** [..., r, c] -> [prod(...) * r, c] */
const rows2d = (t: tf.Tensor): tf.Tensor2D => tf.reshape(t, [-1, t.shape[t.shape.length - 1]!]);

export const batchMatMulGradConfig: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const dY = dy as tf.Tensor;
    const { transposeA: tA, transposeB: tB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const sharedB = b.shape.length === 2 || batchSize(b.shape) === 1;
    return {
      a: () => {
        const g = tA
          ? (tB ? tf.matMul(b, dY, true, true) : tf.matMul(b, dY, false, true))
          : (tB ? tf.matMul(dY, b, false, false) : tf.matMul(dY, b, false, true));
        return reduceTo(g, a.shape);
      },
      b: () => {
        if (sharedB && !tA && batchSize(dY.shape) > 1) {
          // dB = sum_i A_i^T dY_i = A_rows^T dY_rows (rows of all batch slices stacked).
          const g = tB ? tf.matMul(rows2d(dY), rows2d(a), true, false) : tf.matMul(rows2d(a), rows2d(dY), true, false);
          return tf.reshape(g, b.shape);
        }
        const g = tA
          ? (tB ? tf.matMul(dY, a, true, true) : tf.matMul(a, dY, false, false))
          : (tB ? tf.matMul(dY, a, true, false) : tf.matMul(a, dY, true, false));
        return reduceTo(g, b.shape);
      },
    };
  },
};
