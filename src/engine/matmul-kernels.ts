/**
 * Replacements for the wasm backend's BatchMatMul and _FusedMatMul kernels.
 *
 * Why: the stock wasm BatchMatMul reaches XNNPACK only for one untransposed product; every
 * transposed (backward) or batched (attention) product falls to a naive loop at ~1 GFLOP/s.
 * - `nativeBatchMatMul`: every product through OpenBLAS sgemm in a N-API addon, reading and
 *   writing the wasm heap in place (multi-threaded, ~140 GFLOP/s on this machine).
 * - `xnnpackBatchMatMul`: no native code; materialises transposes and runs each batch slice as
 *   one untransposed product, which is XNNPACK's fast path (~30 GFLOP/s, one core).
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.ts';
import { planMatMul, type MatMulPlan } from './matmul-plan.ts';
import {
  elementOffset,
  heapF32,
  makeAlias,
  releaseAlias,
  runWasmKernel,
  wasmId,
  type WasmBackend,
} from './wasm-heap.ts';

type MatMulImpl = (a: tf.TensorInfo, b: tf.TensorInfo, transA: boolean, transB: boolean, backend: WasmBackend) => tf.TensorInfo;

function checkFloat32(kernel: string, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32') throw new Error(`${kernel}: only float32 is supported, got ${t.dtype}`);
  }
}

function outputSize(plan: MatMulPlan): number {
  return plan.outShape.reduce((p, d) => p * d, 1);
}

export function nativeMatMul(addon: NativeAddon): MatMulImpl {
  return (a, b, transA, transB, backend) => {
    const plan = planMatMul(a.shape, b.shape, transA, transB);
    const out = backend.makeOutput(plan.outShape, 'float32');
    if (outputSize(plan) === 0) return out;
    // Offsets are taken after makeOutput: allocation may grow (and replace) the heap buffer.
    const aBase = elementOffset(backend, a);
    const bBase = elementOffset(backend, b);
    addon.matmul(
      heapF32(backend),
      plan.aOffsets.map((o) => o + aBase),
      plan.bOffsets.map((o) => o + bBase),
      elementOffset(backend, out),
      plan.m, plan.n, plan.k, transA, transB,
    );
    return out;
  };
}

type WasmBatchMatMulFn = (
  aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transA: boolean, transB: boolean, outId: number,
) => void;

interface Cwrap {
  cwrap(name: string, ret: null, args: string[]): WasmBatchMatMulFn;
}

const shapeBytes = (shape: number[]): Uint8Array => new Uint8Array(new Int32Array(shape).buffer);

/** Copies [batch, rows, cols] to [batch, cols, rows] with the wasm Transpose kernel. */
function transposed(t: tf.TensorInfo, rows: number, cols: number, backend: WasmBackend): tf.TensorInfo {
  const batch = t.shape.reduce((p, d) => p * d, 1) / (rows * cols);
  const x = { dataId: t.dataId, shape: [batch, rows, cols], dtype: t.dtype };
  return runWasmKernel('Transpose', { x }, { perm: [0, 2, 1] }, backend);
}

export function xnnpackMatMul(): MatMulImpl {
  let cppMatMul: WasmBatchMatMulFn | undefined;
  return (a, b, transA, transB, backend) => {
    cppMatMul ??= (backend.wasm as unknown as Cwrap).cwrap('BatchMatMul', null, [
      'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
    ]);
    const plan = planMatMul(a.shape, b.shape, transA, transB);
    const { m, n, k } = plan;
    // Transposing each slice keeps slice boundaries, so the plan's offsets hold for the copies.
    const aN = transA ? transposed(a, k, m, backend) : a; // slices [m, k]
    const bN = transB ? transposed(b, n, k, backend) : b; // slices [k, n]
    const out = backend.makeOutput(plan.outShape, 'float32');
    if (outputSize(plan) > 0) {
      const aBase = elementOffset(backend, aN);
      const bBase = elementOffset(backend, bN);
      const outBase = elementOffset(backend, out);
      // One alias per distinct B slice, so XNNPACK packs shared weights once per call.
      const bAliases = new Map<number, tf.TensorInfo>();
      const aShape = shapeBytes([1, m, k]);
      const bShape = shapeBytes([1, k, n]);
      for (let i = 0; i < plan.aOffsets.length; i++) {
        const aAlias = makeAlias(backend, aBase + plan.aOffsets[i]!, [1, m, k]);
        const bOff = bBase + plan.bOffsets[i]!;
        let bAlias = bAliases.get(bOff);
        if (!bAlias) {
          bAlias = makeAlias(backend, bOff, [1, k, n]);
          bAliases.set(bOff, bAlias);
        }
        const outAlias = makeAlias(backend, outBase + i * m * n, [1, m, n]);
        if (k === 0) heapF32(backend).fill(0, outBase + i * m * n, outBase + (i + 1) * m * n);
        else cppMatMul(wasmId(backend, aAlias), aShape, 3, wasmId(backend, bAlias), bShape, 3, false, false, wasmId(backend, outAlias));
        releaseAlias(backend, aAlias);
        releaseAlias(backend, outAlias);
      }
      for (const alias of bAliases.values()) releaseAlias(backend, alias);
    }
    if (aN !== a) backend.disposeData(aN.dataId);
    if (bN !== b) backend.disposeData(bN.dataId);
    return out;
  };
}

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

export function batchMatMulKernel(impl: MatMulImpl): tf.KernelConfig {
  return {
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
      checkFloat32('BatchMatMul', a, b);
      return impl(a, b, transposeA, transposeB, backend as WasmBackend);
    },
  };
}

interface FusedAttrs extends MatMulAttrs {
  activation: 'linear' | 'relu' | 'relu6' | 'elu' | 'prelu' | 'leakyrelu' | 'sigmoid';
  leakyreluAlpha?: number;
}

/**
 * _FusedMatMul (tf.fused.matMul, used by tf.layers' dense) as our product followed by the stock
 * wasm kernels for the bias add and the activation (those are elementwise and already fast).
 */
export function fusedMatMulKernel(impl: MatMulImpl): tf.KernelConfig {
  return {
    kernelName: tf._FusedMatMul,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: anyBackend, attrs }) => {
      const backend = anyBackend as WasmBackend;
      const { a, b, bias, preluActivationWeights } = inputs as {
        a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo;
      };
      const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as FusedAttrs;
      checkFloat32('_FusedMatMul', a, b);
      let y = impl(a, b, transposeA, transposeB, backend);
      const step = (next: tf.TensorInfo): void => {
        backend.disposeData(y.dataId);
        y = next;
      };
      if (bias) step(runWasmKernel(tf.Add, { a: y, b: bias }, {}, backend));
      switch (activation) {
        case 'linear':
          break;
        case 'relu':
          step(runWasmKernel(tf.Relu, { x: y }, {}, backend));
          break;
        case 'relu6':
          step(runWasmKernel(tf.Relu6, { x: y }, {}, backend));
          break;
        case 'elu':
          step(runWasmKernel(tf.Elu, { x: y }, {}, backend));
          break;
        case 'sigmoid':
          step(runWasmKernel(tf.Sigmoid, { x: y }, {}, backend));
          break;
        case 'leakyrelu':
          step(runWasmKernel(tf.LeakyRelu, { x: y }, { alpha: leakyreluAlpha ?? 0.2 }, backend));
          break;
        case 'prelu':
          if (!preluActivationWeights) throw new Error('_FusedMatMul: prelu needs preluActivationWeights');
          step(runWasmKernel(tf.Prelu, { x: y, alpha: preluActivationWeights }, {}, backend));
          break;
        default:
          throw new Error(`_FusedMatMul: unknown activation ${String(activation)}`);
      }
      return y;
    },
  };
}
