import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.ts';
import { loadCorpus, makeFolds, writeSynth } from '../../src/data/index.ts';
import type { Corpus } from '../../src/data/types.ts';
import { loadIndex } from '../../src/curriculum/retrieval-index.ts';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/train/config.ts';
import { teacherView, trainHardy } from '../../src/train/hardy.ts';
import { makeBatch } from '../../src/data/index.ts';
import { UnitLayout } from '../../src/run/layout.ts';
import { HARDY_METHODS } from '../../src/train/methods.ts';
import { scorerFor } from '../../src/eval/metrics.ts';
import { buildFoldIndexes, disposeFoldIndexes } from '../../src/curriculum/retrieval-index.ts';
import { Retriever } from '../../src/curriculum/retrieval.ts';
import { trainingTable } from '../../src/curriculum/table.ts';
import { Curriculum } from '../../src/curriculum/curriculum.ts';
import { createModel, modelConfig } from '../../src/model/factory.ts';
import { train } from '../../src/train/trainer.ts';

let corpus: Corpus;
before(async () => {
  await initEngine();
  const dir = join(mkdtempSync(join(tmpdir(), 'hardy-pipe-')), 'synth');
  writeSynth(dir, { preset: 'tiny', seed: 3 });
  corpus = loadCorpus(dir);
});

const CONFIG: RunConfig = {
  ...DEFAULT_CONFIG,
  model: { hidden: 8, depth: 1, heads: 2, dropout: 0.1 },
  teacher: { epochs: 2, stage1Epochs: 1 },
  student: { epochs: 3, stage1Epochs: 1 },
  momke: { epochs: 2, stage1Epochs: 1 },
  finetune: { enabled: true, epochs: 1, batchSize: 16 },
  optim: { ...DEFAULT_CONFIG.optim, batchSize: 4 },
  validFraction: 0.2,
};

test('hardy pipeline: fine-tune -> indexes -> teacher -> student with K + 1 views per stage-2 batch', async () => {
  const fold = makeFolds(corpus, { seed: 1, validFraction: 0.2 })[1]!;
  const runDir = mkdtempSync(join(tmpdir(), 'hardy-run-'));
  const r = await trainHardy({ method: 'hardy', config: CONFIG, corpus, fold, condition: 'at', score: scorerFor(corpus.task, corpus.numClasses), files: new UnitLayout(runDir), progress: { quiet: true } });
  const batches = Math.ceil(fold.train.length / 4);
  const stage2 = r.result.history.filter((h) => h.stage === 2);
  assert.equal(stage2.length, 2);
  for (const h of stage2) assert.equal(h.steps, batches * (CONFIG.curriculum.K + 1));
  assert.equal(r.result.history.find((h) => h.stage === 1)!.steps, batches);
  assert.ok(r.teacher);
  assert.ok(r.finetune && r.finetune.a.trainUtterances === fold.train.reduce((n, d) => n + d.utterances.length, 0));
  // Diagnostics: one record per stage-2 epoch, covering every training utterance.
  const nTrain = fold.train.reduce((n, d) => n + d.utterances.length, 0);
  assert.deepEqual(r.diagnostics.map((d) => d.epoch), stage2.map((h) => h.epoch));
  for (const d of r.diagnostics) assert.equal(d.utterances, nTrain);
  const lines = readFileSync(join(runDir, 'curriculum.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  assert.deepEqual(JSON.parse(lines[1]!), r.diagnostics[1]);
  // The saved indexes hold exactly the fold's training utterances: no validation or test one.
  const heldOut = new Set([...fold.valid, ...fold.test].flatMap((d) => d.utterances.map((u) => u.id)));
  for (const m of ['a', 't', 'v']) {
    const idx = loadIndex(join(runDir, 'indexes'), `index-${m}`);
    assert.equal(idx.ids.length, nTrain);
    assert.ok(idx.ids.every((id) => !heldOut.has(id)));
    idx.dispose();
  }
  // The curriculum decided something: hardness varies across utterances, neighbours were swapped in,
  // and the saved hardness (normalised over the whole training set) spans [0, 1]'s sigmoid image.
  for (const d of r.diagnostics) {
    assert.ok(d.hardest[0]!.h > d.easiest[0]!.h, 'hardness must vary across utterances');
    assert.ok(d.meanK > 0 && d.hardest[0]!.neighbours.length > 0 && d.hardest[0]!.neighbours.every((n) => n.id !== d.hardest[0]!.id));
  }
  const saved = Object.values(JSON.parse(readFileSync(join(runDir, 'hardness.json'), 'utf8')) as Record<string, number>);
  assert.equal(saved.length, nTrain);
  assert.ok(Math.min(...saved) >= 0.5 && Math.max(...saved) > Math.min(...saved));
  assert.ok(r.timing.curriculum!.hardnessMs > 0);
  assert.ok(r.timing.stage2EpochS > 0 && r.timing.stage1EpochS > 0);
  r.result.model.dispose();
});

test("the teacher's weights do not change while the student trains on its curriculum", async () => {
  const fold = makeFolds(corpus, { seed: 1, validFraction: 0.2 })[0]!;
  const table = trainingTable(fold);
  const indexes = buildFoldIndexes(table, fold);
  const retriever = new Retriever(table, indexes, 3);
  disposeFoldIndexes(indexes);
  const teacher = createModel('teacher', modelConfig(CONFIG.model, corpus, 16), 4);
  const before = teacher.params.getWeights();
  const cur = new Curriculum(teacher, retriever, CONFIG.curriculum, corpus.task, 1);
  let calls = 0;
  const r = await train({
    kind: 'student',
    config: CONFIG,
    corpus,
    fold,
    condition: 'a',
    score: scorerFor(corpus.task, corpus.numClasses),
    primary: 'WA',
    decoderHidden: 16,
    progress: { quiet: true },
    hooks: { beforeEpoch: (_e, { rng }) => cur.beginEpoch(rng), viewsFor: (b) => (calls++, cur.views(b)) },
  });
  assert.ok(calls > 0);
  assert.deepEqual(teacher.params.getWeights(), before);
  r.model.dispose();
  teacher.dispose();
});

test('self-views: K + 1 steps per stage-2 batch and no teacher; oracle: no teacher, hardness from the ground truth', async () => {
  const fold = makeFolds(corpus, { seed: 1, validFraction: 0.2 })[0]!;
  const batches = Math.ceil(fold.train.length / 4);
  const score = scorerFor(corpus.task, corpus.numClasses);
  const config = { ...CONFIG, finetune: { ...CONFIG.finetune, enabled: false } };
  const s = await trainHardy({ method: 'self-views', config, corpus, fold, condition: 'v', score, progress: { quiet: true } });
  assert.equal(s.teacher, undefined);
  for (const h of s.result.history) assert.equal(h.steps, h.stage === 2 ? batches * (CONFIG.curriculum.K + 1) : batches);
  s.result.model.dispose();
  const o = await trainHardy({ method: 'oracle', config, corpus, fold, condition: 'v', score, progress: { quiet: true } });
  assert.equal(o.teacher, undefined);
  assert.ok(o.diagnostics.length > 0 && o.diagnostics[0]!.meanK > 0);
  // the hardest utterance under the oracle is one whose true difficulty is the batch's largest
  const hardest = o.diagnostics[0]!.hardest[0]!;
  assert.ok(Math.abs(hardest.direct - corpus.difficulty!.get(hardest.id)!) < 1e-6);
  o.result.model.dispose();
  await assert.rejects(trainHardy({ method: 'oracle', config, corpus: { ...corpus, difficulty: undefined, modalityDifficulty: undefined }, fold, condition: 'v', score }), /ground truth/);
});

test('teacherFeatures raw: the teacher trains on the standardised raw features, the student on the fine-tuned ones', async () => {
  const fold = makeFolds(corpus, { seed: 1, validFraction: 0.2 })[0]!;
  const score = scorerFor(corpus.task, corpus.numClasses);
  const rawCfg = { ...CONFIG, curriculum: { ...CONFIG.curriculum, teacherFeatures: 'raw' as const } };
  const studentCfg = { ...CONFIG, curriculum: { ...CONFIG.curriculum, teacherFeatures: 'student' as const } };
  // the view: per-dimension mean 0 and std 1 over the fold's training utterances, mapped batch by id
  const view = teacherView({ corpus, fold }, corpus, fold, rawCfg);
  const train0 = view.fold.train.flatMap((d) => d.utterances);
  for (const m of ['a', 't', 'v'] as const) {
    for (const j of [0, corpus.dims[m] - 1]) {
      const xs = train0.map((u) => u.features[m][j]!);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
      assert.ok(Math.abs(mean) < 1e-4 && Math.abs(sd - 1) < 1e-3, `${m}[${j}]: mean ${mean}, sd ${sd}`);
    }
  }
  const batch = makeBatch(fold.train.slice(0, 2), { condition: 'a' });
  assert.deepEqual(Array.from(view.input!(batch).features.v.subarray(0, corpus.dims.v)), Array.from(view.fold.train[0]!.utterances[0]!.features.v));
  assert.equal(teacherView({ corpus, fold }, corpus, fold, studentCfg).input, undefined);
  // end to end: same seed, only the teacher's features differ
  const run = async (config: RunConfig) => {
    const dir = mkdtempSync(join(tmpdir(), 'hardy-tf-'));
    const r = await trainHardy({ method: 'hardy', config, corpus, fold, condition: 'a', score, files: new UnitLayout(dir), progress: { quiet: true } });
    r.result.model.dispose();
    return { r, hardness: JSON.parse(readFileSync(join(dir, 'hardness.json'), 'utf8')) as Record<string, number> };
  };
  const student = await run(studentCfg);
  const raw = await run(rawCfg);
  // the student's stage 1 does not involve the teacher: identical
  assert.deepEqual(raw.r.result.history.filter((h) => h.stage === 1).map((h) => h.valid), student.r.result.history.filter((h) => h.stage === 1).map((h) => h.valid));
  assert.notDeepEqual(raw.r.teacher!.history.map((h) => h.loss), student.r.teacher!.history.map((h) => h.loss));
  assert.notDeepEqual(raw.hardness, student.hardness);
  assert.deepEqual(Object.keys(raw.hardness).sort(), Object.keys(student.hardness).sort());
});

test('presets: no-curriculum trains the student alone; ablations only change the curriculum config', async () => {
  const fold = makeFolds(corpus, { seed: 1, validFraction: 0.2 })[0]!;
  const r = await trainHardy({ method: 'no-curriculum', config: { ...CONFIG, finetune: { ...CONFIG.finetune, enabled: false } }, corpus, fold, condition: 'v', score: scorerFor(corpus.task, corpus.numClasses), progress: { quiet: true } });
  assert.equal(r.teacher, undefined);
  assert.equal(r.diagnostics.length, 0);
  const batches = Math.ceil(fold.train.length / 4);
  for (const h of r.result.history) assert.equal(h.steps, batches);
  r.result.model.dispose();
  assert.equal(HARDY_METHODS['direct-only'].apply(CONFIG).curriculum.alpha2, 0);
  assert.equal(HARDY_METHODS['indirect-only'].apply(CONFIG).curriculum.alpha1, 0);
  assert.equal(HARDY_METHODS['fixed-k'].apply(CONFIG).curriculum.kPolicy, 'fixed');
  assert.equal(HARDY_METHODS['random-k'].apply(CONFIG).curriculum.kPolicy, 'random');
  assert.equal(HARDY_METHODS.centred.apply(CONFIG).curriculum.centre, 0.5);
  assert.equal(HARDY_METHODS['no-finetune'].apply(CONFIG).finetune.enabled, false);
  assert.equal(HARDY_METHODS.hardy.apply(CONFIG), CONFIG);
  assert.equal(HARDY_METHODS['shuffled-hardness'].apply(CONFIG).curriculum.hardness, 'shuffled');
  assert.equal(HARDY_METHODS['same-label'].apply(CONFIG).curriculum.neighbours, 'same-label');
  assert.equal(HARDY_METHODS['keep-dialogue'].apply(CONFIG).curriculum.views, 'keep-dialogue');
  assert.equal(HARDY_METHODS.oracle.apply(CONFIG).curriculum.hardness, 'oracle');
});
