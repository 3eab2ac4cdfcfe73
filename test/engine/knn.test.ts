/**
 * Exact kNN: the native sgemm + selection (src/engine/knn.ts) and the tfjs matMul + topk fallback
 * give the same neighbours through ExactIndex, for both metrics, with ties and chunking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.ts';
import { KNN_ENV, nativeTopScores } from '../../src/engine/knn.ts';
import { loadAddon } from '../../src/engine/native-addon.ts';
import { ExactIndex, type Metric } from '../../src/curriculum/retrieval-index.ts';
import { Rng } from '../../src/util/rng.ts';

const skip = loadAddon().error ? 'native addon not built' : false;

function data(n: number, dim: number, rng: Rng): Float32Array {
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

function searchWith(path: 'native' | 'tfjs', metric: Metric, db: Float32Array, q: Float32Array, dim: number, k: number, chunk?: number) {
  const prev = process.env[KNN_ENV];
  process.env[KNN_ENV] = path;
  try {
    const index = new ExactIndex({ metric, dim, fold: 1, ids: Array.from({ length: db.length / dim }, (_, i) => `u${i}`), vectors: db });
    if (chunk) index.chunkSize = chunk;
    const excl = Int32Array.from({ length: q.length / dim }, (_, i) => (i % 3 === 0 ? i : -1));
    const r = index.search(q, k, excl);
    index.dispose();
    return r;
  } finally {
    if (prev === undefined) delete process.env[KNN_ENV];
    else process.env[KNN_ENV] = prev;
  }
}

for (const metric of ['l2', 'cosine'] as const) {
  test(`native kNN equals the tfjs path (${metric}, chunked, exclusions)`, { skip }, async () => {
    await initEngine();
    const rng = new Rng(5);
    const dim = 24;
    const db = data(300, dim, rng);
    const q = new Float32Array(db.subarray(0, 40 * dim)); // queries are rows 0..39: exclusions matter
    const a = searchWith('native', metric, db, q, dim, 6, 7);
    const b = searchWith('tfjs', metric, db, q, dim, 6);
    assert.deepEqual([...a.rows], [...b.rows]);
    for (let i = 0; i < a.dists.length; i++) assert.ok(Math.abs(a.dists[i]! - b.dists[i]!) <= 1e-4 * (1 + Math.abs(b.dists[i]!)), `dist ${i}`);
  });
}

test('native top-k: sorted, larger first, ties to the lower row, kk = n', { skip }, () => {
  // db rows 0..4 (dim 1) = [1, 3, 3, 2, 3]; one query q = 1: scores q.x = the values.
  const r = nativeTopScores(Float32Array.from([1, 3, 3, 2, 3]), null, Float32Array.from([1]), 1, 5)!;
  assert.deepEqual([...r.indices], [1, 2, 4, 3, 0]);
  assert.deepEqual([...r.values], [3, 3, 3, 2, 1]);
  // L2 ranking: 2 q.x - ||x||^2 with q = 2.7 -> nearest 3 (rows 1, 2, 4), then 2 (row 3).
  const l2 = nativeTopScores(Float32Array.from([1, 3, 3, 2, 3]), Float32Array.from([1, 9, 9, 4, 9]), Float32Array.from([2.7]), 1, 4)!;
  assert.deepEqual([...l2.indices], [1, 2, 4, 3]);
});
