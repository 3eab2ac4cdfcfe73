/**
 * Low-level access to the tfjs wasm backend's heap for the kernels this engine registers.
 * Every tensor of the wasm backend is a run of floats in one WebAssembly memory; kernels here
 * address it by element offset.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type WasmBackend = BackendWasm;

/** A Float32Array over the whole heap. Re-take it after any allocation: growth replaces the buffer. */
export function heapF32(backend: WasmBackend): Float32Array {
  // HEAPU8 is Emscripten's view of the module memory (its type lives in @types/emscripten).
  return new Float32Array((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer);
}

/** Element offset of a float32 tensor's first value in `heapF32`. */
export function elementOffset(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
}

/** Internal wasm id of a tensor (what the C++ kernels take). */
export function wasmId(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.id;
}

/** Runs another registered wasm kernel (the stock one or ours) from inside a kernel. */
export function runWasmKernel(
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  backend: WasmBackend,
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo;
}

/**
 * A tensor that aliases `floats` float32 values already in the heap at element `offset`, so
 * a C++ kernel can read or write a slice in place. Release with `releaseAlias`, never
 * `disposeData` (which would free memory the alias does not own).
 */
export function makeAlias(backend: WasmBackend, offset: number, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32', offset * 4);
}

export function releaseAlias(backend: WasmBackend, t: tf.TensorInfo): void {
  // Drops the C++ registration (which also frees any XNNPACK operator cached for this id)
  // without freeing the memory.
  backend.wasm.tfjs.disposeData(wasmId(backend, t));
  backend.dataIdMap.delete(t.dataId);
}
