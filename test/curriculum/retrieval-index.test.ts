import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.ts';
import {
  ExactIndex,
  assertTrainingOnly,
  buildFoldIndexes,
  loadFoldIndexes,
  loadIndex,
  saveFoldIndexes,
  disposeFoldIndexes,
} from '../../src/curriculum/retrieval-index.ts';
import { trainingTable } from '../../src/curriculum/table.ts';
import { HardyError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';
import { handFold } from './fixtures.ts';

before(async () => {
  await initEngine();
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `x${i}`);

test('L2 search returns the nearest rows, squared distances, self excluded', () => {
  // 1-D points 0, 1, 3, 7, 8
  const idx = new ExactIndex({ metric: 'l2', dim: 1, fold: 1, ids: ids(5), vectors: Float32Array.from([0, 1, 3, 7, 8]) });
  const q = Float32Array.from([0, 7.4]);
  const r = idx.search(q, 2, Int32Array.from([0, -1]));
  assert.deepEqual([...r.rows], [1, 2, 3, 4]);
  assert.deepEqual([...r.dists].map((d) => Math.round(d * 100) / 100), [1, 9, 0.16, 0.36]);
  idx.dispose();
});

test('cosine search ranks by angle, not magnitude', () => {
  const vectors = Float32Array.from([10, 0, 1, 1, 0, 5, -1, 0]);
  const idx = new ExactIndex({ metric: 'cosine', dim: 2, fold: 1, ids: ids(4), vectors });
  const r = idx.search(Float32Array.from([0.1, 0]), 4);
  assert.deepEqual([...r.rows], [0, 1, 2, 3]);
  assert.ok(Math.abs(r.dists[0]!) < 1e-6);
  assert.ok(Math.abs(r.dists[1]! - (1 - Math.SQRT1_2)) < 1e-6);
  assert.ok(Math.abs(r.dists[3]! - 2) < 1e-6);
  idx.dispose();
});

test('ties go to the lower row; k beyond the index pads with -1', () => {
  // rows 1, 2, 4 are identical; query equals them
  const idx = new ExactIndex({ metric: 'l2', dim: 2, fold: 1, ids: ids(5), vectors: Float32Array.from([5, 5, 1, 2, 1, 2, 9, 9, 1, 2]) });
  const r = idx.search(Float32Array.from([1, 2, 1, 2]), 6, Int32Array.from([2, -1]));
  assert.deepEqual([...r.rows.subarray(0, 6)], [1, 4, 0, 3, -1, -1]);
  assert.deepEqual([...r.rows.subarray(6)], [1, 2, 4, 0, 3, -1]);
  assert.equal(r.dists[5], Infinity);
  idx.dispose();
});

test('chunked queries give the same result as a brute-force scan', () => {
  const rng = new Rng(7);
  const n = 60;
  const dim = 5;
  const x = Float32Array.from({ length: n * dim }, () => rng.normal());
  for (const metric of ['l2', 'cosine'] as const) {
    const idx = new ExactIndex({ metric, dim, fold: 1, ids: ids(n), vectors: x });
    idx.chunkSize = 7;
    const self = Int32Array.from({ length: n }, (_, i) => i);
    const k = 4;
    const r = idx.search(x, k, self);
    for (let i = 0; i < n; i++) {
      const d: { j: number; d: number }[] = [];
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let s = 0;
        let qq = 0;
        let xx = 0;
        for (let c = 0; c < dim; c++) {
          const a = x[i * dim + c]!;
          const b = x[j * dim + c]!;
          s += (a - b) ** 2;
          qq += a * a;
          xx += b * b;
        }
        let dot = 0;
        for (let c = 0; c < dim; c++) dot += x[i * dim + c]! * x[j * dim + c]!;
        d.push({ j, d: metric === 'l2' ? s : 1 - dot / Math.sqrt(qq * xx) });
      }
      d.sort((p, q) => p.d - q.d || p.j - q.j);
      assert.deepEqual([...r.rows.subarray(i * k, (i + 1) * k)], d.slice(0, k).map((e) => e.j), `${metric} query ${i}`);
      for (let c = 0; c < k; c++) assert.ok(Math.abs(r.dists[i * k + c]! - d[c]!.d) < 1e-4);
    }
    idx.dispose();
  }
});

test('fold indexes hold the training utterances only, survive save/load, and refuse held-out ids', () => {
  const fold = handFold();
  const table = trainingTable(fold);
  const indexes = buildFoldIndexes(table, fold);
  for (const m of ['a', 't', 'v'] as const) {
    assert.deepEqual([...indexes[m].ids], ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
    assert.ok(!indexes[m].ids.includes('val0') && !indexes[m].ids.includes('test0'));
  }
  assert.equal(indexes.t.metric, 'cosine');
  assert.equal(indexes.a.metric, 'l2');
  const dir = mkdtempSync(join(tmpdir(), 'hardy-idx-'));
  saveFoldIndexes(indexes, dir);
  const back = loadFoldIndexes(dir, fold);
  for (const m of ['a', 't', 'v'] as const) {
    const q = table.features[m];
    const self = Int32Array.from({ length: 6 }, (_, i) => i);
    assert.deepEqual(back[m].search(q, 3, self), indexes[m].search(q, 3, self));
  }
  // The same index used with another fold, or holding a test utterance, is refused.
  assert.throws(() => loadFoldIndexes(dir, { ...fold, index: 3 }), HardyError);
  const leakyIndex = new ExactIndex({ metric: 'l2', dim: 1, fold: 2, ids: [...table.ids, 'test0'], vectors: new Float32Array(7) });
  assert.throws(() => assertTrainingOnly(leakyIndex, fold), /test0.*validation\/test/);
  // A fold whose training dialogues overlap its test dialogues never gets a table (nor an index).
  assert.throws(() => trainingTable({ ...fold, train: [...fold.train, ...fold.test] }), HardyError);
  // Corrupt vectors file: a HardyError naming the file.
  writeFileSync(join(dir, 'index-a.f32'), readFileSync(join(dir, 'index-a.f32')).subarray(4));
  assert.throws(() => loadIndex(dir, 'index-a'), (e: unknown) => e instanceof HardyError && /index-a\.f32/.test(e.message));
  disposeFoldIndexes(indexes);
  disposeFoldIndexes(back);
  leakyIndex.dispose();
});
