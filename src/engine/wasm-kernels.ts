/**
 * Replacements for wasm-backend kernels that copy far more than they need to (measured on the
 * student training step: ~1,100 Identity copies per step, and every Slice copying its whole input
 * out of the heap first).
 * - Identity (tfjs clones every tensor it saves for backprop) and same-dtype Cast share the input's
 *   buffer, as the cpu backend does: tensors are immutable, the buffer is reference-counted.
 * - Slice, SplitV and Unpack copy only the selected runs, straight inside the heap (the stock Unpack
 *   calls the copying Slice once per output: an LSTM's unstack of [B, S, 4H] into S steps copied
 *   the whole input S times, 15 % of a GCNet epoch on `small`).
 * - GatherV2 along the first axis (the models' row layout, model/tokens.ts) copies whole rows; the
 *   stock kernel computes strides per element and took ~9 ms for an [800, 256] gather. ScatterNd
 *   into rows (its adjoint) likewise adds whole rows.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm-heap.ts';

type Heap = Float32Array | Int32Array | Uint8Array;

/** A second reference to `x`'s buffer, as a new tensor of `shape`. */
function share(x: tf.TensorInfo, backend: WasmBackend, shape = x.shape): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

function heapView(backend: WasmBackend, t: tf.TensorInfo): Heap {
  return backend.typedArrayFromHeap(t) as Heap;
}

export const identityKernel: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => share((inputs as { x: tf.TensorInfo }).x, backend as WasmBackend),
};

export function castKernel(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
      return x.dtype === dtype ? share(x, args.backend as WasmBackend) : stock.kernelFunc(args);
    },
  };
}

/** Copies x[begin : begin + size] (any rank) run by run along the last axis. */
function sliceInHeap(src: Heap, xShape: number[], begin: number[], size: number[], dst: Heap): void {
  const rank = xShape.length;
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= xShape[d]!;
  }
  const run = size[rank - 1]!;
  const rows = size.slice(0, -1).reduce((p, d) => p * d, 1);
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0); // odometer over the leading dims
  for (let r = 0; r < rows; r++) {
    let off = begin[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) off += (begin[d]! + idx[d]!) * strides[d]!;
    dst.set(src.subarray(off, off + run), r * run);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
}

function sliceTensor(x: tf.TensorInfo, begin: number | number[], size: number | number[], backend: WasmBackend): tf.TensorInfo {
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, begin, size);
  const out = backend.makeOutput(s, x.dtype);
  if (s.some((d) => d === 0)) return out;
  // Views taken after makeOutput: allocation may grow (and replace) the heap buffer.
  sliceInHeap(heapView(backend, x), x.shape, b, s, heapView(backend, out));
  return out;
}

export function sliceKernel(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      if (x.dtype === 'string' || x.shape.length === 0) return stock.kernelFunc(args);
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
      return sliceTensor(x, begin, size, args.backend as WasmBackend);
    },
  };
}

/** Consecutive slices of x along axis `ax`, of the given sizes (each a copy of just its runs). */
function partsAlong(x: tf.TensorInfo, ax: number, sizes: number[], backend: WasmBackend): tf.TensorInfo[] {
  const begin = x.shape.map(() => 0);
  return sizes.map((n) => {
    const size = [...x.shape];
    size[ax] = n;
    const part = sliceTensor(x, [...begin], size, backend);
    begin[ax]! += n;
    return part;
  });
}

/** SplitV as consecutive slices along `axis` (the stock one calls the copying Slice directly). */
export function splitVKernel(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      if (x.dtype === 'string') return stock.kernelFunc(args);
      const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
      const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
      const sizes = tf.backend_util.prepareSplitSize(x as tf.TensorInfo as tf.Tensor, numOrSizeSplits, ax);
      return partsAlong(x, ax, sizes, args.backend as WasmBackend);
    },
  };
}

/** Unpack (tf.unstack) as one slice per output along `axis`, each reshaped without a copy to drop the axis. */
export function unpackKernel(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const x = (args.inputs as { value: tf.TensorInfo }).value;
      if (x.dtype === 'string') return stock.kernelFunc(args);
      const ax = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, x.shape)[0]!;
      const shape = x.shape.filter((_, d) => d !== ax);
      return partsAlong(x, ax, new Array<number>(x.shape[ax]!).fill(1), args.backend as WasmBackend).map((part) => ({ ...part, shape }));
    },
  };
}

/** GatherV2 on axis 0 without batch dims as one row copy per index; everything else goes to the stock kernel. */
export function gatherKernel(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
      if (x.dtype === 'string' || x.shape.length === 0 || batchDims !== 0 || tf.util.parseAxisParam(axis, x.shape)[0] !== 0) {
        return stock.kernelFunc(args);
      }
      const backend = args.backend as WasmBackend;
      const rows = x.shape[0]!;
      const width = x.shape.slice(1).reduce((p, d) => p * d, 1);
      const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
      const idx = heapView(backend, indices);
      const src = heapView(backend, x);
      const dst = heapView(backend, out);
      for (let n = 0; n < idx.length; n++) {
        const r = idx[n]!;
        if (!(r >= 0 && r < rows)) throw new Error(`gather: index ${r} is not in [0, ${rows})`);
        dst.set(src.subarray(r * width, (r + 1) * width), n * width);
      }
      return out;
    },
  };
}

/** ScatterNd of whole rows (indices [N, 1]) as row additions into zeros; other forms go to the stock kernel. */
export function scatterNdKernel(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const { indices, updates } = args.inputs as { indices: tf.TensorInfo; updates: tf.TensorInfo };
      const { shape } = args.attrs as unknown as { shape: number[] };
      if (updates.dtype !== 'float32' || indices.shape.length !== 2 || indices.shape[1] !== 1 || shape.length < 1) return stock.kernelFunc(args);
      const backend = args.backend as WasmBackend;
      const rows = shape[0]!;
      const width = shape.slice(1).reduce((p, d) => p * d, 1);
      const out = backend.makeOutput(shape, 'float32');
      const idx = heapView(backend, indices);
      const src = heapView(backend, updates);
      const dst = heapView(backend, out);
      dst.fill(0);
      const seen = new Uint8Array(rows); // a row's first update is a copy, repeats add
      for (let n = 0; n < idx.length; n++) {
        const r = idx[n]!;
        if (!(r >= 0 && r < rows)) throw new Error(`scatterND: index ${r} is not in [0, ${rows})`);
        const o = r * width;
        const i = n * width;
        if (!seen[r]) dst.set(src.subarray(i, i + width), o);
        else for (let j = 0; j < width; j++) dst[o + j] += src[i + j]!;
        seen[r] = 1;
      }
      return out;
    },
  };
}
