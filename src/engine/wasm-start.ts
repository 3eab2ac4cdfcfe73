/**
 * The platform-neutral half of the engine's start (no Node module here): the wasm backend from
 * a folder or URL of its .wasm binaries, the gradients and copy-free kernels every path uses, and
 * the pure-wasm matrix product (XNNPACK). backend.ts (Node) adds the native addon on top; the web
 * page (src/serve/page/) uses this alone, which is the engine's pure-TypeScript path.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { batchMatMulKernel, fusedMatMulKernel, xnnpackMatMul } from './matmul-kernels.ts';
import { GELU, GELU_GRAD, geluGradConfig } from './gelu-kernel.ts';
import { lstmCellGradConfig, lstmCellKernels } from './lstm-kernel.ts';
import { ATTENTION, ATTENTION_GRAD } from './attention-kernel.ts';
import { installLeanGradients } from './autograd.ts';
import { dropoutGradConfig, dropoutKernel } from './dropout-kernel.ts';
import { batchMatMulGradConfig } from './matmul-grad.ts';
import { ADAM } from './native-kernels.ts';
import { castKernel, gatherKernel, identityKernel, scatterNdKernel, sliceKernel, splitVKernel, unpackKernel } from './wasm-kernels.ts';

let stockKernels: tf.KernelConfig[] | undefined;
let stockSum: tf.KernelConfig | undefined;

export function replaceKernels(configs: tf.KernelConfig[]): void {
  for (const c of configs) {
    if (tf.getKernel(c.kernelName, c.backendName)) tf.unregisterKernel(c.kernelName, c.backendName);
    tf.registerKernel(c);
  }
}

/** `wasmPath`: folder (Node) or URL prefix (browser) of tfjs-backend-wasm's .wasm files, ending in '/'. */
export async function startWasmBackend(wasmPath: string): Promise<void> {
  setWasmPaths(wasmPath);
  await tf.setBackend('wasm');
  await tf.ready();
  tf.registerGradient(batchMatMulGradConfig);
  installLeanGradients();
  const stock = (name: string): tf.KernelConfig => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
    return k;
  };
  stockKernels = [stock(tf.BatchMatMul), stock(tf._FusedMatMul)];
  stockSum = stock(tf.Sum);
  replaceKernels([
    identityKernel, castKernel(stock(tf.Cast)), sliceKernel(stock(tf.Slice)), splitVKernel(stock(tf.SplitV)), unpackKernel(stock(tf.Unpack)),
    gatherKernel(stock(tf.GatherV2)),
    scatterNdKernel(stock(tf.ScatterNd)),
    ...lstmCellKernels,
  ]);
  tf.registerGradient(lstmCellGradConfig);
  tf.registerGradient(geluGradConfig);
  tf.registerGradient(dropoutGradConfig);
}

/**
 * The native GELU, attention and Adam kernels exist only on the 'native' path (ops.gelu,
 * ops.attention and Adam compose tfjs ops otherwise); Sum goes back to the stock kernel, dropout to its TypeScript version.
 */
export function dropNativeKernels(): void {
  for (const name of [GELU, GELU_GRAD, ADAM, ATTENTION, ATTENTION_GRAD]) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  replaceKernels([stockSum!, dropoutKernel()]);
}

/** The wasm backend's own matrix products (slow; for benchmarks and parity checks). */
export function registerStockMatMul(): void {
  dropNativeKernels();
  replaceKernels(stockKernels!);
}

/** Every product rerouted to XNNPACK's fast path: the pure-wasm path. */
export function registerXnnpackMatMul(): void {
  dropNativeKernels();
  const impl = xnnpackMatMul();
  replaceKernels([batchMatMulKernel(impl), fusedMatMulKernel(impl)]);
}

/** The wasm backend's own Sum kernel (the native Sum falls back to it). */
export const stockSumKernel = (): tf.KernelConfig => stockSum!;
