/**
 * Native kernels for the hot non-matmul work of a training step (bench/RESULTS.md, "Per-kernel profile"),
 * registered on the 'native' path only; each has a stock/pure fallback that computes the same:
 * - Sum over one contiguous run of axes (bias gradients [B, S, D] -> [D], row sums) in one pass,
 *   two threads. The stock wasm Sum transposes the reduced axes to the end first (Transpose + Sum
 *   were ~9 % of the step). Other reductions and dtypes go to the stock kernel.
 * - Adam: one pass per parameter (`adamUpdate`, used by src/train/adam.ts) instead of ~12 tfjs
 *   kernels; the pure fallback is the composed tfjs update there.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.ts';
import { elementOffset, heapF32, type WasmBackend } from './wasm-heap.ts';

export const ADAM = 'HardyAdam';

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

export function sumKernel(addon: NativeAddon, stock: tf.KernelConfig): tf.KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
      if (x.dtype !== 'float32' || axes.length === 0 || !contiguous || size(x.shape) === 0) return stock.kernelFunc(args);
      const backend = args.backend as WasmBackend;
      const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
      const out = backend.makeOutput(keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape, 'float32');
      const outer = size(x.shape.slice(0, axes[0]));
      const mid = size(axes.map((a) => x.shape[a]!));
      const inner = size(x.shape.slice(axes.at(-1)! + 1));
      addon.sumAxes(heapF32(backend), elementOffset(backend, x), elementOffset(backend, out), outer, mid, inner);
      return out;
    },
  };
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Bias corrections 1 - beta^t. */
  bc1: number;
  bc2: number;
}

/** The hyper-parameters as the native kernel reads them (native/elementwise.cc, struct AdamHyper). */
function adamHyper(h: AdamHyper): Float32Array {
  return Float32Array.of(h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.bc1, h.bc2);
}

export function adamKernel(addon: NativeAddon): tf.KernelConfig {
  return {
    kernelName: ADAM,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend: b }) => {
      const backend = b as WasmBackend;
      const { w, g, m, v } = inputs as Record<'w' | 'g' | 'm' | 'v', tf.TensorInfo>;
      const h = attrs as unknown as AdamHyper;
      const outs = [w, m, v].map(() => backend.makeOutput(w.shape, 'float32'));
      const off = (t: tf.TensorInfo): number => elementOffset(backend, t);
      const slots = Uint32Array.of(off(w), off(g), off(m), off(v), off(outs[0]!), off(outs[1]!), off(outs[2]!));
      addon.adam(heapF32(backend), slots, size(w.shape), adamHyper(h));
      return outs;
    },
  };
}

/**
 * One fused Adam step for one parameter: [new w, new m, new v], or undefined when the native kernel
 * is not registered (the caller composes tfjs ops instead). Inputs are float32 of one shape.
 */
export function adamUpdate(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, h: AdamHyper): tf.Tensor[] | undefined {
  if (!tf.getKernel(ADAM, tf.getBackend())) return undefined;
  return tf.engine().runKernel(ADAM, { w, g, m, v }, h as unknown as tf.NamedAttrMap) as tf.Tensor[];
}
