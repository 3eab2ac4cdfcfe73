import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.ts';
import { Curriculum } from '../../src/curriculum/curriculum.ts';
import { buildFoldIndexes, disposeFoldIndexes } from '../../src/curriculum/retrieval-index.ts';
import { Retriever } from '../../src/curriculum/retrieval.ts';
import { trainingTable } from '../../src/curriculum/table.ts';
import { Teacher } from '../../src/model/teacher.ts';
import { teacherScores } from '../../src/curriculum/hardness.ts';
import { withFeatures } from '../../src/data/batches.ts';
import { DEFAULT_CONFIG } from '../../src/train/config.ts';
import type { CurriculumConfig } from '../../src/curriculum/config.ts';
import { handFold, makeBatch } from './fixtures.ts';

before(async () => {
  await initEngine();
});

/** Ground truth of the hand fold's utterances (min 0, max 1, so min-max leaves it as it is). */
const TRUTH: Record<string, number> = { u0: 0, u1: 1, u2: 0.5, u3: 0.25, u4: 0.75, u5: 0 };
const CFG: CurriculumConfig = { ...DEFAULT_CONFIG.curriculum, K: 3, Kmin: 1, beta: 4, centre: 0.5, hardness: 'oracle' };

function setup() {
  const fold = handFold();
  const table = trainingTable(fold);
  const indexes = buildFoldIndexes(table, fold);
  const retriever = new Retriever(table, indexes, 3);
  disposeFoldIndexes(indexes);
  return { fold, table, retriever, batch: makeBatch(fold.train, [1, 0, 1]) };
}

/** K_i of every utterance id from the epoch's diagnostics (all six are among hardest + easiest). */
function kOf(cur: Curriculum): Record<string, number> {
  const d = cur.endEpoch(1).diagnostics;
  return Object.fromEntries([...d.hardest, ...d.easiest].map((r) => [r.id, r.K]));
}

test('oracle hardness, centred sigmoid: K_i worked out by hand, and the views hold exactly those neighbours', () => {
  const { table, retriever, batch } = setup();
  const cur = new Curriculum(undefined, retriever, CFG, 'classification', 1, (id) => TRUTH[id]!);
  const views = cur.views(batch);
  // h = sigmoid(4 ((0.6 + 0.4) D - 0.5)): D 0 -> 0.119 -> K = floor(3 h + 1) = 1; 0.25 -> 0.269 -> 1;
  // 0.5 -> 0.5 -> 2; 0.75 -> 0.731 -> 3; 1 -> 0.881 -> 3.
  const K: Record<string, number> = kOf(cur);
  assert.deepEqual({ ...K }, { u0: 1, u1: 3, u2: 2, u3: 1, u4: 3, u5: 1 });
  assert.equal(views.length, 4);
  for (let j = 1; j <= 3; j++) {
    for (let b = 0; b < batch.B; b++) {
      for (let s = 0; s < batch.S; s++) {
        const i = b * batch.S + s;
        if (!batch.umask[i]) continue;
        const id = batch.uttIds[b]![s]!;
        const cands = retriever.candidates(table.rowById.get(id)!, [1, 0, 1]);
        const expected: string = j <= K[id]! && cands[j - 1] ? table.ids[cands[j - 1]!.row]! : id;
        assert.equal(views[j]!.uttIds[b]![s], expected, `view ${j}, ${id}`);
        const row = table.rowById.get(expected)!;
        assert.deepEqual(Array.from(views[j]!.features.a.subarray(i, i + 1)), Array.from(table.features.a.subarray(row, row + 1)));
        assert.equal(views[j]!.labels[i], batch.labels[i]); // the query's label
      }
    }
  }
  assert.ok(views.slice(1).some((v) => v.uttIds.flat().some((id, k) => id !== batch.uttIds.flat()[k])), 'views must not be copies of the batch');
});

test("keep-dialogue: only the ceil(fraction n) hardest utterances of each dialogue get neighbours", () => {
  const { retriever, batch } = setup();
  const cur = new Curriculum(undefined, retriever, { ...CFG, views: 'keep-dialogue', swapFraction: 0.34 }, 'classification', 1, (id) => TRUTH[id]!);
  const views = cur.views(batch);
  // d0 = u0 u1 u2: ceil(1.02) = 2 hardest are u1 (1), u2 (0.5); d1 = u3 u4 u5: u4 (0.75), u3 (0.25).
  assert.deepEqual(kOf(cur), { u0: 0, u1: 3, u2: 2, u3: 1, u4: 3, u5: 0 });
  for (const v of views) {
    assert.equal(v.uttIds[0]![0], 'u0');
    assert.equal(v.uttIds[1]![2], 'u5');
  }
});

test('shuffled hardness: the same K_i values as the teacher gives, attached to other utterances', () => {
  const { retriever, batch } = setup();
  const teacher = new Teacher({ hidden: 8, depth: 1, heads: 2, dropout: 0, dims: { a: 1, t: 2, v: 1 }, numClasses: 4, task: 'classification', decoderHidden: 5 }, 3);
  const hOf = (cfg: CurriculumConfig, seed: number): Record<string, number> => {
    const cur = new Curriculum(teacher, retriever, cfg, 'classification', seed);
    cur.views(batch);
    const d = cur.endEpoch(1).diagnostics;
    return Object.fromEntries([...d.hardest, ...d.easiest].map((r) => [r.id, r.h]));
  };
  const plain = hOf({ ...DEFAULT_CONFIG.curriculum }, 1);
  const sorted = (o: Record<string, number>) => Object.values(o).sort((a, b) => a - b);
  const shuffled = [1, 2, 3].map((seed) => hOf({ ...DEFAULT_CONFIG.curriculum, hardness: 'shuffled' }, seed));
  for (const s of shuffled) assert.deepEqual(sorted(s), sorted(plain));
  assert.ok(shuffled.some((s) => Object.keys(plain).some((id) => s[id] !== plain[id])), 'shuffling must move some hardness to another utterance');
  teacher.dispose();
});

test("teacherFeatures raw: the teacher scores the batch as it trained on (teacherInput), not the student's features", () => {
  const { retriever, batch } = setup();
  const teacher = new Teacher({ hidden: 8, depth: 1, heads: 2, dropout: 0, dims: { a: 1, t: 2, v: 1 }, numClasses: 4, task: 'classification', decoderHidden: 5 }, 3);
  // the teacher's view: other vectors for the same utterances (u_k gets a = v = 3 - k, t = [k, 1])
  const raw = new Map(['u0', 'u1', 'u2', 'u3', 'u4', 'u5'].map((id, k) => [id, { a: Float32Array.of(3 - k), t: Float32Array.of(k, 1), v: Float32Array.of(3 - k) }]));
  const cur = new Curriculum(teacher, retriever, { ...DEFAULT_CONFIG.curriculum }, 'classification', 1, undefined, (b) => withFeatures(b, raw));
  cur.views(batch);
  const d = cur.endEpoch(1).diagnostics;
  const direct = Object.fromEntries([...d.hardest, ...d.easiest].map((r) => [r.id, r.direct]));
  const at = (D: Float32Array) => Object.fromEntries(batch.uttIds.flatMap((row, b) => row.flatMap((id, s) => (batch.umask[b * batch.S + s] ? [[id, D[b * batch.S + s]!]] : []))));
  const onRaw = at(teacherScores(teacher, withFeatures(batch, raw)).D);
  const onStudent = at(teacherScores(teacher, batch).D);
  for (const id of Object.keys(onRaw)) assert.ok(Math.abs(direct[id]! - onRaw[id]!) < 1e-6, id);
  assert.ok(Object.keys(onRaw).some((id) => Math.abs(onRaw[id]! - onStudent[id]!) > 1e-4), 'the two views must score differently');
  teacher.dispose();
});

test('the oracle needs the ground truth and hardness from the teacher needs a teacher', () => {
  const { retriever } = setup();
  assert.throws(() => new Curriculum(undefined, retriever, CFG, 'classification', 1), /ground truth/);
  assert.throws(() => new Curriculum(undefined, retriever, { ...CFG, hardness: 'teacher' }, 'classification', 1), /needs a teacher/);
});
