/**
 * Multi-head attention within dialogues as one native kernel pair (forward, gradient), registered
 * on the 'native' path; ops.attention composes tfjs ops otherwise (same function, same gradient).
 *
 * Why: through tfjs ops one attention is ~20 kernels forward and as many backward (rows -> grid
 * gathers, head transposes, the masked softmax's elementwise chain, their gradients) on the padded
 * [B, H, S, S] grid, and autograd keeps every intermediate until its gradient is done. The kernel
 * reads the [N, D] rows directly, skips padding, and keeps only the attention weights P.
 * Shapes: N real utterances, D hidden, H heads; dialogue b owns rows starts[b]..starts[b+1].
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.ts';
import { elementOffset, heapF32, type WasmBackend } from './wasm-heap.ts';

export const ATTENTION = 'HardyAttention';
export const ATTENTION_GRAD = 'HardyAttentionGrad';

export interface AttentionAttrs {
  heads: number;
  scale: number;
  /** [B + 1] row offsets of the dialogues. */
  starts: number[];
}

/** [B + 1] offsets of each dialogue's H n_b^2 attention weights in P. */
function weightStarts(starts: number[], heads: number): Int32Array {
  const out = new Int32Array(starts.length);
  for (let b = 0; b + 1 < starts.length; b++) {
    const n = starts[b + 1]! - starts[b]!;
    out[b + 1] = out[b]! + heads * n * n;
  }
  return out;
}

function checkRows(name: string, D: number, N: number, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32' || t.shape.length !== 2 || t.shape[0] !== N || t.shape[1] !== D) {
      throw new Error(`${name}: expected float32 [${N}, ${D}] rows, got ${t.dtype} [${t.shape}]`);
    }
  }
}

export function attentionKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    {
      kernelName: ATTENTION,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend: b }) => {
        const backend = b as WasmBackend;
        const { q, k, v, keyMask } = inputs as Record<'q' | 'k' | 'v' | 'keyMask', tf.TensorInfo>;
        const { heads, scale, starts } = attrs as unknown as AttentionAttrs;
        const [N, D] = q.shape as [number, number];
        checkRows(ATTENTION, D, starts.at(-1)!, q, k, v);
        const pStarts = weightStarts(starts, heads);
        const out = backend.makeOutput([N, D], 'float32');
        const p = backend.makeOutput([pStarts.at(-1)!], 'float32');
        const off = (t: tf.TensorInfo): number => elementOffset(backend, t);
        addon.attention(heapF32(backend), off(q), off(k), off(v), off(keyMask), off(out), off(p), Int32Array.from(starts), pStarts, D, heads, scale);
        return [out, p];
      },
    },
    {
      kernelName: ATTENTION_GRAD,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend: b }) => {
        const backend = b as WasmBackend;
        const { dy, q, k, v, p } = inputs as Record<'dy' | 'q' | 'k' | 'v' | 'p', tf.TensorInfo>;
        const { heads, scale, starts } = attrs as unknown as AttentionAttrs;
        const [N, D] = q.shape as [number, number];
        checkRows(ATTENTION_GRAD, D, starts.at(-1)!, dy, q, k, v);
        const grads = [0, 1, 2].map(() => backend.makeOutput([N, D], 'float32'));
        const off = (t: tf.TensorInfo): number => elementOffset(backend, t);
        addon.attentionGrad(
          heapF32(backend), off(dy), off(q), off(k), off(v), off(p), off(grads[0]!), off(grads[1]!), off(grads[2]!),
          Int32Array.from(starts), weightStarts(starts, heads), D, heads, scale,
        );
        return grads;
      },
    },
  ];
}
