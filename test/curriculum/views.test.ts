import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.ts';
import { buildFoldIndexes, disposeFoldIndexes } from '../../src/curriculum/retrieval-index.ts';
import { Retriever } from '../../src/curriculum/retrieval.ts';
import { trainingTable } from '../../src/curriculum/table.ts';
import { buildViews, planBatch } from '../../src/curriculum/views.ts';
import { HardyError } from '../../src/util/errors.ts';
import { dialogue, handFold, HAND_ROWS, makeBatch } from './fixtures.ts';

before(async () => {
  await initEngine();
});

function setup() {
  const fold = handFold();
  const table = trainingTable(fold);
  const indexes = buildFoldIndexes(table, fold);
  const retriever = new Retriever(table, indexes, 3);
  disposeFoldIndexes(indexes);
  // Batch: d1 (u3, u4, u5) and a 2-utterance dialogue (u0, u1) padded to S = 3.
  const batch = makeBatch([fold.train[1]!, dialogue('d0b', HAND_ROWS.slice(0, 2))], [1, 0, 1]);
  return { table, retriever, batch };
}

test('K + 1 views: view j holds the j-th kept neighbour, fewer neighbours keep themselves, padding stays', () => {
  const { table, retriever, batch } = setup();
  const K: Record<string, number> = { u3: 1, u4: 3, u5: 2, u0: 2, u1: 1 };
  const plan = planBatch(batch, retriever, (id) => K[id]!);
  const views = buildViews(batch, plan, table, 3, 'query');
  assert.equal(views.length, 4);
  assert.equal(views[0], batch);
  const kept = (id: string) => plan.get(id)!.map((c) => table.ids[c.row]!);
  // Query u0 with avail (a, v), K = 3: a-list [u1, u2, u3 (ties u4 at 81: lower row)], v-list
  // [u2, u3, u1] -> merged [u1, u2, u3] -> re-ranked by mean distance [u2 1.47, u3 3.67, u1 3.80].
  assert.deepEqual(kept('u0'), ['u2', 'u3']);
  for (let j = 1; j <= 3; j++) {
    const v = views[j]!;
    for (let b = 0; b < 2; b++) {
      for (let s = 0; s < 3; s++) {
        const i = b * 3 + s;
        const q = batch.uttIds[b]![s]!;
        if (!q) {
          // padding: unchanged
          assert.equal(v.uttIds[b]![s], '');
          assert.equal(v.umask[i], 0);
          assert.equal(v.features.a[i], 0);
          assert.equal(v.features.v[i], 0);
          assert.deepEqual([...v.features.t.subarray(i * 2, i * 2 + 2)], [0, 0]);
          continue;
        }
        const expected = kept(q)[j - 1] ?? q; // fewer than j neighbours -> itself
        assert.equal(v.uttIds[b]![s], expected, `view ${j} query ${q}`);
        const row = table.rowById.get(expected)!;
        assert.equal(v.features.a[i], table.features.a[row]);
        assert.equal(v.features.v[i], table.features.v[row]);
        assert.deepEqual([...v.features.t.subarray(i * 2, i * 2 + 2)], [...table.features.t.subarray(row * 2, row * 2 + 2)]);
        // The query's condition mask and label.
        assert.deepEqual([...v.avail.subarray(i * 3, i * 3 + 3)], [1, 0, 1]);
        assert.equal(v.labels[i], batch.labels[i]);
        assert.equal(v.umask[i], 1);
      }
    }
    assert.deepEqual(v.dialogueIds, batch.dialogueIds);
  }
  // The complete features of a neighbour replace all three modalities, even the missing text.
  const u4n1 = kept('u4')[0]!;
  assert.notEqual(u4n1, 'u4');
  assert.equal(views[1]!.features.t[1 * 2], table.features.t[table.rowById.get(u4n1)! * 2]);
  // The batch itself was not modified.
  assert.deepEqual(batch.uttIds, [['u3', 'u4', 'u5'], ['u0', 'u1', '']]);
});

test("neighbourLabel 'own' uses the neighbour's label", () => {
  const { table, retriever, batch } = setup();
  const plan = planBatch(batch, retriever, () => 3);
  const views = buildViews(batch, plan, table, 3, 'own');
  for (let j = 1; j <= 3; j++) {
    for (let i = 0; i < 6; i++) {
      if (!batch.umask[i]) continue;
      const id = views[j]!.uttIds[Math.floor(i / 3)]![i % 3]!;
      assert.equal(views[j]!.labels[i], table.labels[table.rowById.get(id)!]);
    }
  }
});

test('a batch holding a non-training utterance is refused', () => {
  const { retriever } = setup();
  const fold = handFold();
  const batch = makeBatch([fold.test[0]!], [1, 1, 1]);
  assert.throws(() => planBatch(batch, retriever, () => 3), (e: unknown) => e instanceof HardyError && /test0/.test(e.message));
});
