/**
 * Exact GELU as one native kernel pair (forward, gradient), registered on the 'native' path.
 *
 * Why: through tfjs ops GELU is mul, erf, add, mul forward and exp plus four muls backward, and
 * the wasm Erf/Exp kernels are slow (~40-70 ns per element; GELU was ~8 % of the student's step).
 * The addon does each pass in one C++ loop over the wasm heap:
 *   gelu(x)  = x Phi(x),                  Phi(x) = erfc(-x / sqrt 2) / 2
 *   gelu'(x) = Phi(x) + x phi(x),         phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
 * Without the addon `ops.gelu` composes tfjs ops instead (same function, same gradient).
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.ts';
import { elementOffset, heapF32, type WasmBackend } from './wasm-heap.ts';

export const GELU = 'HardyGelu';
export const GELU_GRAD = 'HardyGeluGrad';

function checkFloat32(t: tf.TensorInfo): void {
  if (t.dtype !== 'float32') throw new Error(`gelu: only float32 is supported, got ${t.dtype}`);
}

export function geluKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    {
      kernelName: GELU,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b }) => {
        const backend = b as WasmBackend;
        const { x } = inputs as { x: tf.TensorInfo };
        checkFloat32(x);
        const out = backend.makeOutput(x.shape, 'float32');
        const n = x.shape.reduce((p, d) => p * d, 1);
        addon.gelu(heapF32(backend), elementOffset(backend, x), elementOffset(backend, out), n);
        return out;
      },
    },
    {
      kernelName: GELU_GRAD,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b }) => {
        const backend = b as WasmBackend;
        const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
        checkFloat32(x);
        checkFloat32(dy);
        const out = backend.makeOutput(x.shape, 'float32');
        const n = x.shape.reduce((p, d) => p * d, 1);
        addon.geluGrad(heapF32(backend), elementOffset(backend, x), elementOffset(backend, dy), elementOffset(backend, out), n);
        return out;
      },
    },
  ];
}

export const geluGradConfig: tf.GradConfig = {
  kernelName: GELU,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => ({
    x: () => tf.engine().runKernel(GELU_GRAD, { x: saved[0]!, dy: dy as tf.Tensor }) as tf.Tensor,
  }),
};
