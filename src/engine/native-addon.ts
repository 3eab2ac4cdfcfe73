/**
 * Loads the native addon built by `npm install` (binding.gyp -> build/Release/hardy_native.node):
 * the CPU kernels of native/ (OpenBLAS products, elementwise kernels and Adam, attention, kNN).
 * A missing or broken build is not an error: the caller falls back to the pure-wasm path.
 * Every function checks its arguments and throws a TypeError or RangeError on bad ones.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeAddon {
  /** out[outOffset + i*m*n ..] = op(heap[aOffsets[i]..]) op(heap[bOffsets[i]..]), row-major. */
  matmul(
    heap: Float32Array, aOffsets: Uint32Array, bOffsets: Uint32Array, outOffset: number,
    m: number, n: number, k: number, transA: boolean, transB: boolean,
  ): void;
  /** heap[out..out+n] = gelu(heap[x..x+n]) */
  gelu(heap: Float32Array, x: number, out: number, n: number): void;
  /** heap[out..out+n] = heap[dy..] * gelu'(heap[x..]) */
  geluGrad(heap: Float32Array, x: number, dy: number, out: number, n: number): void;
  /** heap[out..out+n] = inverted dropout of heap[x..x+n], mask a hash of (seed, i) (dropout-kernel.ts) */
  dropout(heap: Float32Array, x: number, out: number, n: number, rate: number, seed: number): void;
  /**
   * Attention within dialogues on [N, D] rows (attention-kernel.ts): out and the weights p from
   * q, k, v and the key mask [N]; dialogue b owns rows starts[b]..starts[b+1].
   */
  attention(
    heap: Float32Array, q: number, k: number, v: number, keyMask: number, out: number, p: number,
    starts: Int32Array, pStarts: Int32Array, D: number, H: number, scale: number,
  ): void;
  /** Gradients dq, dk, dv of `attention` from dOut and the saved q, k, v, p. */
  attentionGrad(
    heap: Float32Array, dOut: number, q: number, k: number, v: number, p: number, dq: number, dk: number, dv: number,
    starts: Int32Array, pStarts: Int32Array, D: number, H: number, scale: number,
  ): void;
  /**
   * Exact top-kk scores of each of nq queries against db [n, dim]: score = 2 q.x - dbSq[j] when
   * dbSq is given (L2 ranking), else q.x; rows of outVals/outIdx [nq, kk] are sorted, larger first,
   * ties to the lower row.
   */
  knn(
    db: Float32Array, dbSq: Float32Array | null, queries: Float32Array, n: number, nq: number, dim: number, kk: number,
    outVals: Float32Array, outIdx: Int32Array,
  ): void;
  /** heap[out + o*inner + j] = sum_m heap[x + (o*mid + m)*inner + j] */
  sumAxes(heap: Float32Array, x: number, out: number, outer: number, mid: number, inner: number): void;
  /**
   * One Adam step (L2 penalty, bias-corrected) over n floats: slots are the heap offsets of
   * [w, g, m, v, wOut, mOut, vOut], hyper [lr, beta1, beta2, eps, weightDecay, bc1, bc2]
   * (native-kernels.ts, adamHyper).
   */
  adam(heap: Float32Array, slots: Uint32Array, n: number, hyper: Float32Array): void;
  /** The BLAS the addon is linked against, and the kernels' thread budget (1 or 2). */
  info(): { blas: string; threads: number };
  /** This process' thread budget for the kernels (2, or 1 when n = 1); results do not depend on it. */
  setThreads(n: number): void;
}

/** Where `npm install` builds the addon; env HARDY_MER_ADDON points elsewhere (e.g. a prebuilt copy). */
export const ADDON_ENV = 'HARDY_MER_ADDON';
const BUILT_ADDON = fileURLToPath(new URL('../../build/Release/hardy_native.node', import.meta.url));

export type AddonLoad = { addon: NativeAddon; error?: undefined } | { addon?: undefined; error: string };

export function loadAddon(path = process.env[ADDON_ENV] || BUILT_ADDON): AddonLoad {
  // OpenBLAS runs single-threaded: the addon splits products itself, by their shape, so that the
  // numbers do not depend on the thread count (native/common.h). Read when OpenBLAS loads (with the
  // addon): its pool of idle threads is then never started. In a worker thread this reaches
  // OpenBLAS only if the worker shares the process environment (worker_threads SHARE_ENV, as serve's
  // pool starts them): a worker's own copy of process.env is invisible to native code.
  process.env.OPENBLAS_NUM_THREADS = '1';
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    if (typeof addon.matmul !== 'function' || typeof addon.gelu !== 'function' || typeof addon.attention !== 'function') {
      return { error: `${path} does not export matmul(), gelu() and attention() (rebuild it: npm run install)` };
    }
    return { addon };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0]! };
  }
}
