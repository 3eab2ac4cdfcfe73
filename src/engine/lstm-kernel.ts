/**
 * One LSTM step as one kernel pair (forward, gradient) in TypeScript over the wasm heap, registered
 * on every path. Gate order [i, f, g, o]; m [B] masks the step (0 = padding: the state is carried):
 *
 *   i, f, o = sigmoid(z_i, z_f, z_o),  g = tanh(z_g)          z [B, 4H]: x_t W_x + b + h_{t-1} W_h
 *   c' = f c + i g,  h' = o tanh(c')
 *   out = m ? [h' | c'] : [h | c]                              [B, 2H]
 *
 * Gradient, for a row with m = 1 (with m = 0 it passes dh, dc through and dz = 0), tc = tanh(c'):
 *   dc* = dc' + dh' o (1 - tc^2)
 *   dz_i = dc* g i (1 - i),  dz_f = dc* c f (1 - f),  dz_g = dc* i (1 - g^2),  dz_o = dh' tc o (1 - o)
 *   dc = dc* f,  dh = 0 (h reaches z through h W_h, which tfjs differentiates)
 *   gradOut = [dz | dh | dc]                                   [B, 6H]
 *
 * Why: composed from tfjs ops a step is ~19 kernels forward (split, three sigmoids, tanh twice,
 * products, the mask blend) and more backward; GCNet runs ~12 recurrences over every dialogue, so
 * per-kernel overhead, not arithmetic, made its epoch on the small preset ~17 s. The per-step
 * arithmetic is B x H elements, so a plain loop is enough; the products x W_x (all steps at once)
 * and h W_h stay matrix kernels. Without registration (another backend) `ops.lstmCell` composes
 * tfjs ops: the same function, which the tests compare against.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm-heap.ts';

export const LSTM_CELL = 'HardyLstmCell';
export const LSTM_CELL_GRAD = 'HardyLstmCellGrad';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** out [B, 2H] from z [B, 4H], h, c [B, H], m [B]. Exported for tests. */
export function lstmCellInto(z: Float32Array, h: Float32Array, c: Float32Array, m: Float32Array, out: Float32Array, B: number, H: number): void {
  for (let b = 0; b < B; b++) {
    const zo = b * 4 * H;
    const so = b * H;
    const oo = b * 2 * H;
    if (!m[b]) {
      out.set(h.subarray(so, so + H), oo);
      out.set(c.subarray(so, so + H), oo + H);
      continue;
    }
    for (let k = 0; k < H; k++) {
      const i = sigmoid(z[zo + k]!);
      const f = sigmoid(z[zo + H + k]!);
      const g = Math.tanh(z[zo + 2 * H + k]!);
      const o = sigmoid(z[zo + 3 * H + k]!);
      const c2 = f * c[so + k]! + i * g;
      out[oo + k] = o * Math.tanh(c2);
      out[oo + H + k] = c2;
    }
  }
}

/** [dz | dh | dc] [B, 6H] from z, c, m and the output gradient dy [B, 2H]. Exported for tests. */
export function lstmCellGradInto(z: Float32Array, c: Float32Array, m: Float32Array, dy: Float32Array, out: Float32Array, B: number, H: number): void {
  out.fill(0);
  for (let b = 0; b < B; b++) {
    const zo = b * 4 * H;
    const so = b * H;
    const yo = b * 2 * H;
    const go = b * 6 * H;
    if (!m[b]) {
      out.set(dy.subarray(yo, yo + 2 * H), go + 4 * H); // dh, dc pass through
      continue;
    }
    for (let k = 0; k < H; k++) {
      const i = sigmoid(z[zo + k]!);
      const f = sigmoid(z[zo + H + k]!);
      const g = Math.tanh(z[zo + 2 * H + k]!);
      const o = sigmoid(z[zo + 3 * H + k]!);
      const cp = c[so + k]!;
      const tc = Math.tanh(f * cp + i * g);
      const dh2 = dy[yo + k]!;
      const dc = dy[yo + H + k]! + dh2 * o * (1 - tc * tc);
      out[go + k] = dc * g * i * (1 - i);
      out[go + H + k] = dc * cp * f * (1 - f);
      out[go + 2 * H + k] = dc * i * (1 - g * g);
      out[go + 3 * H + k] = dh2 * tc * o * (1 - o);
      out[go + 5 * H + k] = dc * f;
    }
  }
}

const f32 = (backend: WasmBackend, t: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;

export const lstmCellKernels: tf.KernelConfig[] = [
  {
    kernelName: LSTM_CELL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: bk }) => {
      const backend = bk as WasmBackend;
      const { z, h, c, m } = inputs as Record<'z' | 'h' | 'c' | 'm', tf.TensorInfo>;
      const [B, H] = h.shape as [number, number];
      const out = backend.makeOutput([B, 2 * H], 'float32');
      // Heap views taken after makeOutput: allocation may grow (and replace) the heap buffer.
      lstmCellInto(f32(backend, z), f32(backend, h), f32(backend, c), f32(backend, m), f32(backend, out), B, H);
      return out;
    },
  },
  {
    kernelName: LSTM_CELL_GRAD,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: bk }) => {
      const backend = bk as WasmBackend;
      const { z, c, m, dy } = inputs as Record<'z' | 'c' | 'm' | 'dy', tf.TensorInfo>;
      const [B, H] = c.shape as [number, number];
      const out = backend.makeOutput([B, 6 * H], 'float32');
      lstmCellGradInto(f32(backend, z), f32(backend, c), f32(backend, m), f32(backend, dy), f32(backend, out), B, H);
      return out;
    },
  },
];

export const lstmCellGradConfig: tf.GradConfig = {
  kernelName: LSTM_CELL,
  inputsToSave: ['z', 'c', 'm'],
  gradFunc: (dy, saved) => {
    const [z, c, m] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const H = c.shape[1]!;
    const g = tf.engine().runKernel(LSTM_CELL_GRAD, { z, c, m, dy: dy as tf.Tensor }) as tf.Tensor;
    const [dz, dh, dc] = tf.split(g, [4 * H, H, H], 1);
    return { z: () => dz!, h: () => dh!, c: () => dc!, m: () => tf.zerosLike(m) };
  },
};
