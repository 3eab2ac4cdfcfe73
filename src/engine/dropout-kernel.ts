/**
 * Inverted dropout as one kernel whose mask is a pure function of (seed, element index): in the
 * addon on the native path (two threads), in TypeScript over the wasm heap otherwise; both use the
 * same hash and arithmetic, so the masks are bit-identical.
 *
 * Why: tf.dropout draws a [.., D] uniform tensor in JS (seedrandom's alea, ~25 ns per element),
 * then compares, casts, divides and multiplies: ~5 ms for an [800, 256] activation, ~28 calls per
 * student step (~15 % of the step), and it keeps the mask alive for backward. Here the keep/drop
 * decision of element i is a hash of (seed, i), so the forward is one pass, nothing is saved, and
 * the gradient is the same kernel applied to dy with the same seed (dropout is linear in x).
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.ts';
import { elementOffset, heapF32, type WasmBackend } from './wasm-heap.ts';

export const DROPOUT = 'HardyDropout';

export interface DropoutAttrs {
  rate: number;
  /** 32-bit seed; the same seed gives the same mask. */
  seed: number;
}

/** Chris Wellons' lowbias32 integer hash (good avalanche with two multiplies). */
function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * out[i] = x[i] / (1 - rate) where hash(seed, i) >= rate * 2^32, else 0. Exported for tests.
 * The seed is hashed first so that nearby seeds give unrelated masks.
 */
export function dropoutInto(x: Float32Array, out: Float32Array, rate: number, seed: number): void {
  const s = hash32(seed ^ 0x5bd1e995);
  const threshold = rate * 4294967296;
  const scale = 1 / (1 - rate);
  for (let i = 0; i < x.length; i++) out[i] = hash32((s + Math.imul(i, 0x9e3779b9)) | 0) >= threshold ? x[i]! * scale : 0;
}

/** The kernel, through `addon` when given. */
export function dropoutKernel(addon?: NativeAddon): tf.KernelConfig {
  return {
    kernelName: DROPOUT,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend: b }) => {
      const backend = b as WasmBackend;
      const { x } = inputs as { x: tf.TensorInfo };
      const { rate, seed } = attrs as unknown as DropoutAttrs;
      if (x.dtype !== 'float32') throw new Error(`dropout: only float32 is supported, got ${x.dtype}`);
      if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate ${rate} is not in [0, 1)`);
      const out = backend.makeOutput(x.shape, 'float32');
      // Heap views taken after makeOutput: allocation may grow (and replace) the heap buffer.
      if (addon) {
        const n = x.shape.reduce((p, d) => p * d, 1);
        addon.dropout(heapF32(backend), elementOffset(backend, x), elementOffset(backend, out), n, rate, seed);
      } else {
        dropoutInto(backend.typedArrayFromHeap(x) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array, rate, seed);
      }
      return out;
    },
  };
}

export const dropoutGradConfig: tf.GradConfig = {
  kernelName: DROPOUT,
  gradFunc: (dy, _saved, attrs) => ({
    x: () => tf.engine().runKernel(DROPOUT, { x: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
  }),
};
