import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.ts';
import { buildFoldIndexes, disposeFoldIndexes } from '../../src/curriculum/retrieval-index.ts';
import { Retriever, chooseK, dynamicK, medianPairwiseDistance, type RetrieverOptions } from '../../src/curriculum/retrieval.ts';
import { trainingTable } from '../../src/curriculum/table.ts';
import type { Avail } from '../../src/data/types.ts';
import { Rng } from '../../src/util/rng.ts';
import { HardyError } from '../../src/util/errors.ts';
import { dialogue, handFold } from './fixtures.ts';
import type { Fold } from '../../src/data/types.ts';

before(async () => {
  await initEngine();
});

function retrieverFor(fold: Fold, K: number, options: RetrieverOptions = { rerank: 'raw', neighbours: 'any' }) {
  const table = trainingTable(fold);
  const indexes = buildFoldIndexes(table, fold);
  const r = new Retriever(table, indexes, K, options);
  disposeFoldIndexes(indexes);
  return r;
}

const names = (r: Retriever, row: number, avail: Avail) => r.candidates(row, avail).map((c) => r.table.ids[c.row]);

test('hand-built index: merge a, v, t, de-duplicate, re-rank by mean raw complete distance', () => {
  const r = retrieverFor(handFold(), 2);
  assert.deepEqual(names(r, 0, [1, 1, 1]), ['u2', 'u3', 'u1', 'u4']);
  const d = r.candidates(0, [1, 1, 1]).map((c) => c.dist);
  const s2 = Math.SQRT2;
  [(2 + 1 + s2) / 3, 11 / 3, (1 + 9 + s2) / 3, 19 / 3].forEach((e, i) => assert.ok(Math.abs(d[i]! - e) < 1e-5));
  // Only the available modalities are searched.
  assert.deepEqual(names(r, 0, [1, 0, 0]), ['u2', 'u1']);
  assert.deepEqual(names(r, 0, [0, 0, 1]), ['u2', 'u3']);
  assert.deepEqual(names(r, 0, [0, 1, 0]), ['u3', 'u4']);
  // The query never retrieves itself, under any availability.
  for (let row = 0; row < 6; row++) {
    for (const av of [[1, 1, 1], [1, 0, 0], [0, 1, 1]] as Avail[]) {
      assert.ok(!r.candidates(row, av).some((c) => c.row === row));
    }
  }
  // kept = first K_i of the re-ranked list
  assert.deepEqual(r.kept(0, [1, 1, 1], 3).map((c) => r.table.ids[c.row]), ['u2', 'u3', 'u1']);
});

test('re-ranking ties keep the merged order (a before v before t), not the row order', () => {
  // q: a 0, v 0; x (row 1): a 5, v 1; y (row 2): a 1, v 5 -> both at mean distance 2.
  const fold: Fold = {
    index: 1,
    train: [
      dialogue('d', [
        { id: 'q', label: 0, a: [0], v: [0], t: [1, 0] },
        { id: 'x', label: 0, a: [5], v: [1], t: [1, 0] },
        { id: 'y', label: 0, a: [1], v: [5], t: [1, 0] },
        { id: 'z', label: 0, a: [50], v: [50], t: [-1, 0] },
      ]),
    ],
    valid: [],
    test: [],
  };
  const r = retrieverFor(fold, 1);
  // a-list [y], v-list [x], t-list: x and y tie at cosine distance 0 -> lower row x.
  assert.deepEqual(names(r, 0, [1, 1, 1]), ['y', 'x']);
  assert.deepEqual(names(r, 0, [0, 1, 1]), ['x']);
  assert.deepEqual(names(r, 0, [1, 1, 0]), ['y', 'x']);
  assert.equal(r.candidates(0, [1, 1, 1])[0]!.dist, r.candidates(0, [1, 1, 1])[1]!.dist);
});

test('fewer training utterances than K: the lists are just shorter', () => {
  const fold = handFold();
  fold.train = [fold.train[0]!]; // u0, u1, u2
  const r = retrieverFor(fold, 3);
  assert.deepEqual(new Set(names(r, 0, [1, 1, 1])), new Set(['u1', 'u2']));
  assert.equal(r.kept(0, [1, 1, 1], 3).length, 2);
});

test('indexes that do not match the table are refused', () => {
  const fold = handFold();
  const table = trainingTable(fold);
  const other = { ...fold, train: [fold.train[1]!, fold.train[0]!] };
  const indexes = buildFoldIndexes(trainingTable(other), other);
  assert.throws(() => new Retriever(table, indexes, 2), HardyError);
  disposeFoldIndexes(indexes);
});

test('dynamic K follows floor(h (K + 1 - K_min) + K_min) capped at K', () => {
  const cases: [number, number][] = [[0, 1], [0.33, 1], [0.34, 2], [0.5, 2], [0.66, 2], [0.67, 3], [0.99, 3], [1, 3]];
  for (const [h, k] of cases) assert.equal(dynamicK(h, 3, 1), k, `h=${h}`);
  assert.equal(dynamicK(0.5, 5, 2), 4);
  const rng = new Rng(3);
  assert.equal(chooseK(0.1, { K: 3, Kmin: 1, kPolicy: 'fixed' }, rng), 3);
  assert.equal(chooseK(0.1, { K: 3, Kmin: 1, kPolicy: 'hardness' }, rng), 1);
  const draw = (seed: number) => {
    const g = new Rng(seed);
    return Array.from({ length: 300 }, () => chooseK(0.9, { K: 3, Kmin: 1, kPolicy: 'random' }, g));
  };
  const ks = draw(5);
  assert.deepEqual([...new Set(ks)].sort(), [1, 2, 3]);
  assert.deepEqual(draw(5), ks);
  assert.notDeepEqual(draw(6), ks);
});

test("rerank 'none' keeps the merged a, v, t order (the published code's truncation)", () => {
  const r = retrieverFor(handFold(), 2, { rerank: 'none', neighbours: 'any' });
  assert.deepEqual(names(r, 0, [1, 1, 1]), ['u1', 'u2', 'u3', 'u4']);
  assert.deepEqual(r.kept(0, [1, 1, 1], 2).map((c) => r.table.ids[c.row]), ['u1', 'u2']);
});

test('the median pairwise distance of a modality, by hand', () => {
  // a = [0, 1, 2, 9, 9, 20]: the 15 pairwise distances sorted are 0 1 1 2 7 7 8 8 9 9 11 11 18 19 20 -> median 8.
  const table = trainingTable(handFold());
  assert.equal(medianPairwiseDistance(table, 'a'), 8);
});

test("rerank 'normalised' is unchanged when one modality's features are scaled by 1000; 'raw' follows that modality", () => {
  const scaled = handFold();
  for (const d of scaled.train) for (const u of d.utterances) u.features.v = u.features.v.map((x) => x * 1000);
  const norm = retrieverFor(handFold(), 2, { rerank: 'normalised', neighbours: 'any' });
  const normScaled = retrieverFor(scaled, 2, { rerank: 'normalised', neighbours: 'any' });
  const rawScaled = retrieverFor(scaled, 2, { rerank: 'raw', neighbours: 'any' });
  for (let row = 0; row < 6; row++) {
    assert.deepEqual(names(normScaled, row, [1, 1, 1]), names(norm, row, [1, 1, 1]), `row ${row}`);
  }
  // raw follows video alone (u0's candidates: v distances u2 1, u3 2, u1 9, u4 9; u1 before u4 by the other modalities)
  assert.deepEqual(names(rawScaled, 0, [1, 1, 1]), ['u2', 'u3', 'u1', 'u4']);
  // normalised, by hand for u0 (scales a 8, v 8, t = median of the 15 text distances):
  const t = medianPairwiseDistance(norm.table, 't');
  const expected = { u1: 1 / 8 + 9 / 8 + Math.SQRT2 / t, u2: 2 / 8 + 1 / 8 + Math.SQRT2 / t, u3: 9 / 8 + 2 / 8 + 0, u4: 9 / 8 + 9 / 8 + 1 / t };
  const order = Object.entries(expected).sort((x, y) => x[1] - y[1]).map(([id]) => id);
  assert.deepEqual(names(norm, 0, [1, 1, 1]), order);
  norm.candidates(0, [1, 1, 1]).forEach((c) => assert.ok(Math.abs(c.dist - expected[norm.table.ids[c.row] as keyof typeof expected] / 3) < 1e-6));
});

test("neighbours 'same-label' retrieves only training utterances of the query's label, K of them when there are", () => {
  const fold = handFold();
  // relabel so that every label has three rows: u0 u2 u4 label 0, u1 u3 u5 label 1
  fold.train.forEach((d) => d.utterances.forEach((u) => (u.label = Number(u.id.slice(1)) % 2)));
  const r = retrieverFor(fold, 2, { rerank: 'normalised', neighbours: 'same-label' });
  for (let row = 0; row < 6; row++) {
    for (const av of [[1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]] as Avail[]) {
      const c = r.candidates(row, av);
      assert.ok(c.every((x) => r.table.labels[x.row] === r.table.labels[row] && x.row !== row), `row ${row} ${av.join('')}`);
      assert.equal(c.length, 2); // the two other rows of its label
    }
  }
  const any = retrieverFor(fold, 2, { rerank: 'normalised', neighbours: 'any' });
  assert.ok([0, 1, 2, 3, 4, 5].some((row) => any.candidates(row, [1, 1, 1]).some((x) => any.table.labels[x.row] !== any.table.labels[row])));
});
