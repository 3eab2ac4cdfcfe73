import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.ts';
import { DiagnosticsCollector } from '../../src/curriculum/diagnostics.ts';
import { Curriculum } from '../../src/curriculum/curriculum.ts';
import { buildFoldIndexes, disposeFoldIndexes } from '../../src/curriculum/retrieval-index.ts';
import { Retriever } from '../../src/curriculum/retrieval.ts';
import { trainingTable } from '../../src/curriculum/table.ts';
import { Teacher } from '../../src/model/teacher.ts';
import { DEFAULT_CONFIG } from '../../src/train/config.ts';
import { handFold, makeBatch } from './fixtures.ts';

before(async () => {
  await initEngine();
});

const cand = (...rows: number[]) => rows.map((row, i) => ({ row, dist: i }));
const H = (h: number) => ({ h, direct: h * 2, indirect: -h });

test('diagnostics: histogram, mean K, label agreement at 1/3/5, extremes (hand-computed)', () => {
  const table = trainingTable(handFold()); // labels u0..u5: 0 1 0 2 1 3
  const c = new DiagnosticsCollector(table, 'classification');
  c.add('u0', H(0.95), 3, cand(1, 2, 3, 4, 5)); // same label (0) at rank 2 -> hit@1 0, hit@3 1; prec@3 1/3, prec@5 1/5
  c.add('u1', H(0.55), 2, cand(4, 0)); // label 1 at rank 1 -> hits all; prec@1 1, prec@3 1/2, prec@5 1/2
  c.add('u3', H(0.05), 1, cand(0, 1)); // label 2 nowhere
  const d = c.finish(7);
  assert.equal(d.epoch, 7);
  assert.equal(d.utterances, 3);
  assert.deepEqual(d.hardnessHistogram, [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.ok(Math.abs(d.meanK - 2) < 1e-12);
  assert.deepEqual(d.kCounts, [0, 1, 1, 1]);
  assert.deepEqual(d.hitAt, { 1: 1 / 3, 3: 2 / 3, 5: 2 / 3 });
  const p = d.precisionAt;
  assert.ok(Math.abs(p['1']! - 1 / 3) < 1e-12);
  assert.ok(Math.abs(p['3']! - (1 / 3 + 1 / 2) / 3) < 1e-12);
  assert.ok(Math.abs(p['5']! - (1 / 5 + 1 / 2) / 3) < 1e-12);
  assert.deepEqual(d.hardest.map((r) => r.id), ['u0', 'u1', 'u3']);
  assert.deepEqual(d.easiest.map((r) => r.id), ['u3', 'u1', 'u0']);
  // The hardest utterance's kept neighbours (K = 3) with their ids and labels.
  assert.deepEqual(d.hardest[0]!.neighbours.map((n) => [n.id, n.label]), [['u1', 1], ['u2', 0], ['u3', 2]]);
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
});

test('regression agreement compares polarity', () => {
  const fold = handFold();
  for (const [k, d] of fold.train.entries()) d.utterances.forEach((u, i) => (u.label = [[-1.5, 2, -0.2], [0.4, -3, 1]][k]![i]!));
  const c = new DiagnosticsCollector(trainingTable(fold), 'regression');
  c.add('u0', H(0.5), 1, cand(1, 2)); // -1.5: u1 +2 no, u2 -0.2 yes
  assert.deepEqual(c.finish(1).hitAt, { 1: 0, 3: 1, 5: 1 });
});

test('Curriculum: per-batch hardness, K_i from it, K + 1 views, diagnostics and timing per epoch', () => {
  const fold = handFold();
  const table = trainingTable(fold);
  const indexes = buildFoldIndexes(table, fold);
  const retriever = new Retriever(table, indexes, 3);
  disposeFoldIndexes(indexes);
  const teacher = new Teacher(
    { hidden: 8, depth: 1, heads: 2, dropout: 0.5, dims: { a: 1, t: 2, v: 1 }, numClasses: 4, task: 'classification', decoderHidden: 5 },
    3,
  );
  const cfg = { ...DEFAULT_CONFIG.curriculum, K: 3 };
  const cur = new Curriculum(teacher, retriever, cfg, 'classification', 1);
  const batch = makeBatch(fold.train, [1, 0, 1]);
  const views = cur.views(batch);
  assert.equal(views.length, 4);
  const { diagnostics: d, timing } = cur.endEpoch(1);
  assert.equal(d.utterances, 6);
  assert.equal(d.hardnessHistogram.reduce((a, b) => a + b, 0), 6);
  // sigmoid of a non-negative argument: every h is at least 0.5, so K_i = floor(3 h + 1) is 2 or 3
  // (3 exactly when h >= 2/3); K_i from hand-set hardness is in controls.test.ts.
  for (const r of [...d.hardest, ...d.easiest]) {
    assert.ok(r.h >= 0.5);
    assert.equal(r.K, r.h >= 2 / 3 ? 3 : 2);
    assert.equal(r.neighbours.length, Math.min(r.K, retriever.candidates(table.rowById.get(r.id)!, [1, 0, 1]).length));
  }
  // Min-max within the batch spreads the scores: hardest and easiest differ.
  assert.ok(d.hardest[0]!.h > d.easiest[0]!.h);
  assert.ok(timing.hardnessMs > 0 && timing.retrievalMs >= 0 && timing.viewsMs >= 0);
  // A new epoch starts empty.
  assert.equal(cur.endEpoch(2).diagnostics.utterances, 0);
  // fixed-K ablation: every utterance keeps K = 3.
  const fixed = new Curriculum(teacher, retriever, { ...cfg, kPolicy: 'fixed' }, 'classification', 1);
  fixed.views(batch);
  assert.deepEqual(fixed.endEpoch(1).diagnostics.kCounts, [0, 0, 0, 6]);
  teacher.dispose();
});
