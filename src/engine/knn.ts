/**
 * Exact top-k by inner-product scores, for retrieval: one BLAS sgemm per chunk of queries plus a
 * partial selection, in the native addon (no copies into the wasm heap, both cores). Returns
 * undefined when the addon is not loaded; callers then use tfjs (matMul + topk), same result.
 */
import { loadAddon, type NativeAddon } from './native-addon.ts';

let addon: NativeAddon | null | undefined;

/** Env HARDY_MER_KNN=tfjs forces the fallback (benchmarks and parity tests). */
export const KNN_ENV = 'HARDY_MER_KNN';

function nativeAddon(): NativeAddon | null {
  if (process.env[KNN_ENV] === 'tfjs') return null;
  addon ??= loadAddon().addon ?? null;
  return addon;
}

export interface TopScores {
  /** [nq, kk] scores, each row sorted larger first; ties go to the lower row. */
  values: Float32Array;
  /** [nq, kk] rows of db. */
  indices: Int32Array;
}

/**
 * Top-kk of score(q, x_j) = 2 q.x_j - dbSq[j] (when dbSq is given: the L2 ranking without ||q||^2)
 * or q.x_j, for nq queries [nq, dim] against db [n, dim]; undefined without the native addon.
 */
export function nativeTopScores(db: Float32Array, dbSq: Float32Array | null, queries: Float32Array, dim: number, kk: number): TopScores | undefined {
  const a = nativeAddon();
  if (!a) return undefined;
  const n = db.length / dim;
  const nq = queries.length / dim;
  const values = new Float32Array(nq * kk);
  const indices = new Int32Array(nq * kk);
  a.knn(db, dbSq, queries, n, nq, dim, kk, values, indices);
  return { values, indices };
}
