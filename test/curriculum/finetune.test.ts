import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.ts';
import { finetuneFold, remapFold, type FinetuneResult } from '../../src/train/finetune.ts';
import type { Corpus, Dialogue, Fold } from '../../src/data/types.ts';
import { Rng } from '../../src/util/rng.ts';
import { HardyError } from '../../src/util/errors.ts';

before(async () => {
  await initEngine();
});

const DIMS = { a: 6, t: 8, v: 4 };

/** Dialogues whose labels are linearly decodable from every modality (class prototype + noise). */
function corpus(seed: number, task: Corpus['task'] = 'classification'): Corpus {
  const rng = new Rng(seed);
  const protos = { a: [] as number[][], t: [] as number[][], v: [] as number[][] };
  for (const m of ['a', 't', 'v'] as const) for (let c = 0; c < 3; c++) protos[m].push(Array.from({ length: DIMS[m] }, () => rng.normal() * 2));
  const dialogues: Dialogue[] = [];
  for (let d = 0; d < 10; d++) {
    const utterances = Array.from({ length: 8 }, (_, k) => {
      const c = rng.int(3);
      const f = (m: 'a' | 't' | 'v') => Float32Array.from(protos[m][c]!, (p) => p + rng.normal() * 0.5);
      return { id: `d${d}_${k}`, speaker: 'F', label: task === 'classification' ? c : c - 1, features: { a: f('a'), t: f('t'), v: f('v') } };
    });
    dialogues.push({ id: `d${d}`, utterances });
  }
  return { dataset: 'iemocap4', task, numClasses: task === 'classification' ? 3 : 1, classNames: ['x', 'y', 'z'], dims: DIMS, dialogues, source: 'test' };
}

function foldOf(c: Corpus): Fold {
  return { index: 1, train: c.dialogues.slice(0, 7), valid: c.dialogues.slice(7, 8), test: c.dialogues.slice(8) };
}

/** Every utterance's extracted features, by id. */
function featuresOf(r: FinetuneResult, c: Corpus): Map<string, Corpus['dialogues'][number]['utterances'][number]['features']> {
  return new Map(r.pipeline.transformCorpus(c).dialogues.flatMap((d) => d.utterances.map((u) => [u.id, u.features] as const)));
}

const OPTS = { epochs: 4, batchSize: 16, lr: 3e-3, weightDecay: 1e-5, seed: 5 };

test('fine-tuning learns, selects on validation and extracts d-dim features for every utterance', () => {
  const c = corpus(1);
  const fold = foldOf(c);
  const r = finetuneFold(c, fold, OPTS);
  const feats = featuresOf(r, c);
  assert.equal(feats.size, 80);
  for (const [, f] of feats) for (const m of ['a', 't', 'v'] as const) assert.equal(f[m].length, DIMS[m]);
  for (const m of ['a', 't', 'v'] as const) {
    const rep = r.reports[m];
    assert.equal(rep.trainUtterances, 56);
    assert.equal(rep.validUtterances, 8);
    assert.equal(rep.trainLoss.length, 4);
    assert.ok(rep.trainLoss[3]! < rep.trainLoss[0]!, `${m} loss falls`);
    assert.equal(rep.validScore[rep.bestEpoch - 1], Math.max(...rep.validScore));
  }
  const c2 = r.pipeline.transformCorpus(c);
  const f2 = remapFold(fold, c2);
  assert.deepEqual(f2.test[0]!.utterances[0]!.features.a, feats.get('d8_0')!.a);
  assert.notDeepEqual(c2.dialogues[0]!.utterances[0]!.features.a, c.dialogues[0]!.utterances[0]!.features.a);
  // Same seed, same numbers.
  const again = finetuneFold(c, fold, OPTS);
  assert.deepEqual(featuresOf(again, c).get('d3_2'), feats.get('d3_2'));
});

test("a fold's fine-tuning never sees its test utterances, and validation only for selection", () => {
  const c = corpus(2);
  const base = finetuneFold(c, foldOf(c), OPTS);
  // Garbage in the test dialogues: features and labels.
  const rng = new Rng(9);
  const poisoned = structuredClone(c);
  for (const d of poisoned.dialogues.slice(8)) {
    for (const u of d.utterances) {
      u.label = (u.label + 1) % 3;
      for (const m of ['a', 't', 'v'] as const) u.features[m] = Float32Array.from(u.features[m], () => rng.normal() * 100);
    }
  }
  const r = finetuneFold(poisoned, foldOf(poisoned), OPTS);
  const got = featuresOf(r, c);
  const want = featuresOf(base, c);
  for (const d of c.dialogues.slice(0, 8)) {
    for (const u of d.utterances) assert.deepEqual(got.get(u.id), want.get(u.id), u.id);
  }
  assert.deepEqual(r.reports, base.reports);
  // Relabelled validation utterances: the training trajectory is unchanged (only selection may move).
  const relabelled = structuredClone(c);
  for (const u of relabelled.dialogues[7]!.utterances) u.label = (u.label + 1) % 3;
  const rv = finetuneFold(relabelled, foldOf(relabelled), OPTS);
  for (const m of ['a', 't', 'v'] as const) {
    assert.deepEqual(rv.reports[m].trainLoss, base.reports[m].trainLoss);
    assert.notDeepEqual(rv.reports[m].validScore, base.reports[m].validScore);
  }
  // A fold whose training dialogues include a test dialogue is refused.
  const leaky = foldOf(c);
  leaky.train = [...leaky.train, leaky.test[0]!];
  assert.throws(() => finetuneFold(c, leaky, OPTS), HardyError);
});

test('regression: MSE head and selection on validation MSE', () => {
  const c = corpus(3, 'regression');
  const r = finetuneFold(c, foldOf(c), { ...OPTS, epochs: 3 });
  for (const m of ['a', 't', 'v'] as const) {
    assert.equal(r.reports[m].metric, 'mse');
    assert.equal(r.reports[m].validScore[r.reports[m].bestEpoch - 1], Math.min(...r.reports[m].validScore));
  }
});
