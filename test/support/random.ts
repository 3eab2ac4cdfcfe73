/** Seeded random tensors for tests: N(0, scale^2) entries drawn from `rng` in row-major order. */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/util/rng.ts';

export function randomTensor(shape: number[], rng: Rng, scale = 1): tf.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal() * scale;
  return tf.tensor(v, shape);
}

/** The same as a trainable variable (gradient checks differentiate with respect to it). */
export function randomVariable(shape: number[], rng: Rng, scale = 1): tf.Variable {
  return tf.variable(randomTensor(shape, rng, scale));
}
