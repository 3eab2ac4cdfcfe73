/**
 * The one module that owns the tensor backend: start-up, kernel registration and seeding.
 * Nothing else in the project names a backend.
 *
 * The platform-neutral part (wasm backend, copy-free kernels, gradients, the pure-wasm product)
 * is wasm-start.ts, which the web page uses alone; this file adds the Node side (the wasm folder
 * in node_modules, the native addon, the environment variable).
 *
 * Matrix-product paths (tfjs's kernel registry is process-global, so this is per process):
 * - 'native': BatchMatMul/_FusedMatMul through the OpenBLAS N-API addon (fastest);
 * - 'xnnpack': pure wasm, every product rerouted to XNNPACK's fast path (used when the addon
 *   is missing or fails to load);
 * - 'stock': the wasm backend's own kernels (slow; kept for benchmarks and parity checks).
 * 'auto' (the default) picks 'native' when the addon loads, else 'xnnpack' with one notice.
 * On every path: the BatchMatMul gradient is replaced by one that handles batch broadcasting,
 * Identity/Cast/Slice/SplitV/GatherV2/ScatterNd by copy-free versions (wasm-kernels.ts), dropout is one
 * seeded kernel (dropout-kernel.ts), and the reverse pass frees memory as it goes (autograd.ts);
 * the native path also runs GELU, attention (each with its gradient), Sum over contiguous axes and
 * the Adam update in the addon (gelu-kernel.ts, attention-kernel.ts, native-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { HardyError } from '../util/errors.ts';
import { batchMatMulKernel, fusedMatMulKernel, nativeMatMul } from './matmul-kernels.ts';
import { geluKernels } from './gelu-kernel.ts';
import { attentionKernels } from './attention-kernel.ts';
import { dropoutKernel } from './dropout-kernel.ts';
import { loadAddon } from './native-addon.ts';
import { adamKernel, sumKernel } from './native-kernels.ts';
import { dropNativeKernels, registerStockMatMul, registerXnnpackMatMul, replaceKernels, startWasmBackend, stockSumKernel } from './wasm-start.ts';

export type MatmulPath = 'native' | 'xnnpack' | 'stock';
export type MatmulChoice = 'auto' | MatmulPath;

export interface EngineOptions {
  /** Which matrix product to register; default: env HARDY_MER_MATMUL, else 'auto'. */
  matmul?: MatmulChoice;
}

export interface EngineInfo {
  backend: string;
  /** The active matrix-product path. */
  matmul: MatmulPath;
  /** OpenBLAS build string and the addon's thread budget when matmul is 'native'. */
  blas?: string;
  blasThreads?: number;
  /** Why 'auto' could not use the native addon. */
  fallbackReason?: string;
}

export const MATMUL_ENV = 'HARDY_MER_MATMUL';
/**
 * Engine threads of this process (the addon's kernels, products included: OpenBLAS itself always
 * runs one thread): the local pool and the queue worker set it for each job process so that jobs x
 * threads does not oversubscribe the cores. Unset: two. The numbers do not depend on it: every
 * kernel splits its work by the shapes alone (native/common.h; test/engine/thread-count.test.ts).
 * The pure-wasm path runs one thread under Node whatever it says.
 */
export const THREADS_ENV = 'HARDY_MER_THREADS';

function requestedThreads(): number | undefined {
  const env = process.env[THREADS_ENV];
  if (env === undefined || env === '') return undefined;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new HardyError(`environment variable ${THREADS_ENV}="${env}": expected a whole number >= 1`);
  return n;
}
const CHOICES: readonly MatmulChoice[] = ['auto', 'native', 'xnnpack', 'stock'];

function requestedPath(options: EngineOptions): MatmulChoice {
  if (options.matmul) return options.matmul;
  const env = process.env[MATMUL_ENV];
  if (env === undefined || env === '') return 'auto';
  if (!(CHOICES as readonly string[]).includes(env)) {
    throw new HardyError(`environment variable ${MATMUL_ENV}="${env}": expected one of ${CHOICES.join(', ')}`);
  }
  return env as MatmulChoice;
}

let started: Promise<void> | undefined;
let active: EngineInfo | undefined;
let noticePrinted = false;

function registerPath(choice: MatmulChoice): EngineInfo {
  const backend = tf.getBackend();
  if (choice === 'stock') {
    registerStockMatMul();
    return { backend, matmul: 'stock' };
  }
  let fallbackReason: string | undefined;
  if (choice !== 'xnnpack') {
    const load = loadAddon();
    if (load.addon) {
      dropNativeKernels();
      const impl = nativeMatMul(load.addon);
      replaceKernels([
        batchMatMulKernel(impl), fusedMatMulKernel(impl), ...geluKernels(load.addon),
        sumKernel(load.addon, stockSumKernel()), adamKernel(load.addon), dropoutKernel(load.addon), ...attentionKernels(load.addon),
      ]);
      const threads0 = requestedThreads();
      if (threads0 !== undefined) load.addon.setThreads(threads0);
      const { blas, threads } = load.addon.info();
      return { backend, matmul: 'native', blas, blasThreads: threads };
    }
    if (choice === 'native') {
      throw new HardyError(`native matmul requested but the addon did not load: ${load.error} (run \`npm install\` with libopenblas-dev installed)`);
    }
    fallbackReason = load.error;
    if (!noticePrinted) {
      noticePrinted = true;
      process.stderr.write(
        `hardy-mer: native BLAS matmul unavailable (${load.error}); using the slower pure-wasm path. ` +
          'Install libopenblas-dev and run `npm install` to build it.\n',
      );
    }
  }
  registerXnnpackMatMul();
  return { backend, matmul: 'xnnpack', ...(fallbackReason ? { fallbackReason } : {}) };
}

/**
 * Start the wasm backend once per process and register the matrix-product path. Later calls
 * without options return the active setup; a later call that asks for a path switches to it.
 */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const choice = requestedPath(options);
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  started ??= startWasmBackend(wasmDir + '/');
  await started;
  if (!active || (options.matmul !== undefined && options.matmul !== 'auto' && options.matmul !== active.matmul)) {
    active = registerPath(choice);
  }
  return { ...active };
}
