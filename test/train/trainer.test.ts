import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFold, loadMasks } from '../../src/data/index.ts';
import { MODALITIES, type Batch, type Modality } from '../../src/data/types.ts';
import { initEngine } from '../../src/engine/backend.ts';
import { modalityWeights } from '../../src/model/backbone.ts';
import type { MerModel } from '../../src/model/types.ts';
import type { WeightData } from '../../src/model/params.ts';
import * as tf from '@tensorflow/tfjs';
import { scorerFor } from '../../src/eval/metrics.ts';
import { TEST_SELECTION_LABEL } from '../../src/eval/selection.ts';
import { train } from '../../src/train/trainer.ts';
import { Adam } from '../../src/train/adam.ts';
import { trainStep } from '../../src/train/step.ts';
import { createModel, modelConfig } from '../../src/model/factory.ts';
import { Rng } from '../../src/util/rng.ts';
import { synthCorpus } from './corpus.ts';
import { runTiny, smallMajority, TINY_CONFIG } from './tiny-run.ts';

describe('trainer', () => {
  before(async () => {
    await initEngine();
  });

  it('all three models train on the small synthetic corpus and beat the majority class', async () => {
    const majority = smallMajority();
    for (const kind of ['student', 'teacher', 'momke'] as const) {
      const r = await runTiny(undefined, undefined, {
        kind,
        preset: 'small',
        epochs: 6,
        stage1Epochs: 3,
        config: { ...TINY_CONFIG, optim: { ...TINY_CONFIG.optim, batchSize: 4 } },
      });
      console.log(`# ${kind}: test WA ${r.test.WA!.toFixed(3)} UA ${r.test.UA!.toFixed(3)} (majority ${majority.toFixed(3)})`);
      assert.ok(r.test.WA! > majority + 0.1, `${kind}: WA ${r.test.WA} vs majority ${majority}`);
      assert.ok(r.test.UA! > 0.4, `${kind}: UA ${r.test.UA} vs chance 0.25`);
      r.model.dispose();
    }
  });

  it('the stage switch restores each modality from its best stage-1 epoch', async () => {
    let model: MerModel | undefined;
    const perEpoch: Record<Modality, WeightData[]>[] = [];
    let atSwitch: Record<Modality, Map<string, WeightData>> | undefined;
    const grab = (): Record<Modality, Map<string, WeightData>> =>
      Object.fromEntries(MODALITIES.map((m) => [m, model!.params.getWeights(modalityWeights(m))])) as Record<Modality, Map<string, WeightData>>;
    const r = await runTiny(
      undefined,
      {
        beforeEpoch: (epoch, info) => {
          model = info.model;
          if (epoch === 4) atSwitch = grab();
        },
        afterEpoch: (epoch) => {
          if (epoch < 4) perEpoch[epoch] = Object.fromEntries(MODALITIES.map((m) => [m, [...grab()[m].values()]])) as Record<Modality, WeightData[]>;
        },
      },
      { epochs: 6, stage1Epochs: 4 },
    );
    let notLast = 0;
    for (const m of MODALITIES) {
      const scores = r.history.slice(0, 4).map((h) => h.unimodal![m]);
      const best = scores.indexOf(Math.max(...scores));
      assert.equal(r.restored![m], best);
      assert.deepEqual([...atSwitch![m].values()], perEpoch[best]![m]);
      if (best !== 3) notLast++;
    }
    // The restore is visible: at least one modality did not peak in the last stage-1 epoch.
    assert.ok(notLast > 0);
    r.model.dispose();
  });

  it('takes one optimiser step per curriculum view, stage 2 only', async () => {
    const calls: number[] = [];
    const r = await runTiny(undefined, {
      viewsFor: (batch: Batch, epoch) => {
        calls.push(epoch);
        return [batch, batch, batch];
      },
    });
    const batches = r.history[0]!.steps; // stage 1: one step per batch
    assert.ok(calls.every((e) => e >= 2));
    for (const h of r.history.slice(2)) assert.equal(h.steps, 3 * batches);
    r.model.dispose();
  });

  it('each view is one clean optimiser step on that view alone (replayed step by step)', async () => {
    // One stage-2 epoch from a fresh optimiser (no stage 1), dropout 0: the trainer's weights after
    // it must equal a replay of one fresh-gradient Adam step per view, in order. Gradients carried
    // over between views (the published code's one zero-grad for K + 1 steps) or a view skipped or
    // stepped twice give other weights.
    const config = { ...TINY_CONFIG, model: { ...TINY_CONFIG.model, dropout: 0 } };
    let start: Map<string, WeightData> | undefined;
    let end: Map<string, WeightData> | undefined;
    let model: MerModel | undefined;
    const views: Batch[] = [];
    const r = await runTiny(
      undefined,
      {
        beforeEpoch: (_e, info) => {
          model = info.model;
          start = info.model.params.getWeights();
        },
        viewsFor: (batch) => {
          // three different views: the batch, its labels shifted by one class, the batch again
          const shifted = { ...batch, labels: batch.labels.map((l) => (l + 1) % 4) };
          views.push(batch, shifted, batch);
          return [batch, shifted, batch];
        },
        afterEpoch: () => {
          end = model!.params.getWeights();
        },
      },
      { epochs: 1, stage1Epochs: 0, config },
    );
    assert.equal(r.history[0]!.steps, views.length);
    const replay = createModel('student', modelConfig(config.model, synthCorpus('tiny'), 32), 99);
    replay.params.setWeights(start!);
    const adam = new Adam(replay.params, { lr: config.optim.lr, weightDecay: config.optim.weightDecay });
    for (const v of views) trainStep(replay, adam, v, { stage: 2, rng: new Rng(1) });
    const got = replay.params.getWeights();
    let worst = 0;
    let moved = 0;
    for (const [name, w] of end!) {
      const g = got.get(name)!;
      const s0 = start!.get(name)!;
      for (let i = 0; i < w.values.length; i++) {
        worst = Math.max(worst, Math.abs(w.values[i]! - g.values[i]!));
        moved = Math.max(moved, Math.abs(w.values[i]! - s0.values[i]!));
      }
    }
    assert.ok(moved > 1e-3, `the epoch moved the weights by at most ${moved}`);
    assert.ok(worst < 1e-5, `trainer and step-by-step replay differ by ${worst}`);
    adam.dispose();
    replay.dispose();
    r.model.dispose();
  });

  it("selectOn 'reconstruction' picks the stage-2 epoch with the lowest validation reconstruction error", async () => {
    const corpus = synthCorpus('tiny');
    const fold = getFold(corpus, 1, { seed: 1, validFraction: 0.2 });
    const r = await train({ kind: 'teacher', config: TINY_CONFIG, corpus, fold, condition: 'a', score: scorerFor('classification', 4), primary: 'WA', schedule: { epochs: 7, stage1Epochs: 2 }, decoderHidden: 32, selectOn: 'reconstruction', progress: { quiet: true } });
    const stage2 = r.history.filter((h) => h.stage === 2);
    assert.ok(stage2.every((h) => typeof h.rec === 'number' && h.rec > 0));
    const best = stage2.reduce((a, b) => (b.rec! < a.rec! ? b : a));
    assert.equal(r.bestEpoch, best.epoch);
    assert.ok(r.history.filter((h) => h.stage === 1).every((h) => h.rec === undefined));
    r.model.dispose();
  });

  it('validation selection is unchanged when the test labels are permuted', async () => {
    const corpus = synthCorpus('tiny');
    const fold = getFold(corpus, 1, { seed: 1, validFraction: 0.2 });
    const rng = new Rng(5);
    const permuted = {
      ...fold,
      test: fold.test.map((d) => ({ ...d, utterances: d.utterances.map((u) => ({ ...u, label: (u.label + 1 + rng.int(3)) % 4 })) })),
    };
    const run = (f: typeof fold) =>
      train({ kind: 'student', config: TINY_CONFIG, corpus, fold: f, condition: 'at', score: scorerFor('classification', 4), primary: 'WA', schedule: { epochs: 6, stage1Epochs: 2 }, decoderHidden: 32, progress: { quiet: true } });
    const a = await run(fold);
    const b = await run(permuted);
    assert.equal(b.bestEpoch, a.bestEpoch);
    assert.deepEqual(b.valid, a.valid);
    assert.deepEqual(b.history.map((h) => h.valid), a.history.map((h) => h.valid));
    assert.deepEqual(b.model.params.getWeights(), a.model.params.getWeights());
    // ... while the test scores did see the permutation
    assert.notDeepEqual(b.history.map((h) => h.test.WA), a.history.map((h) => h.test.WA));
    for (const x of [a, b]) x.model.dispose();
  });

  it('random-missing protocol: stored fixed test masks, fresh train masks every epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardy-random-'));
    const seen = new Map<number, string>();
    const config = { ...TINY_CONFIG, protocol: { kind: 'random' as const, missingRate: 0.5 } };
    const r = await runTiny(
      dir,
      {
        viewsFor: (batch, epoch) => {
          seen.set(epoch, (seen.get(epoch) ?? '') + Array.from(batch.avail).join(''));
          return [batch];
        },
      },
      { config },
    );
    const masks = loadMasks(join(dir, 'test-masks.json'));
    assert.equal(masks.rate, 0.5);
    assert.deepEqual(masks, r.testMasks);
    // about half the slots missing, never an utterance without any modality
    const flags = [...masks.avail.values()];
    assert.ok(flags.every((a) => a.some((x) => x === 1)));
    assert.ok(new Set([...seen.values()]).size === seen.size && seen.size === 3, 'train masks must change per epoch');
    const r2 = await runTiny(undefined, undefined, { config });
    assert.deepEqual(r2.testMasks, r.testMasks);
    assert.deepEqual(r2.test, r.test);
    for (const x of [r, r2]) x.model.dispose();
  });

  it("selection 'test' is labelled in the outputs; early stop ends a run without improvement", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardy-sel-'));
    const r = await runTiny(dir, undefined, { config: { ...TINY_CONFIG, selection: 'test' } });
    const res = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    assert.equal(res.selection, 'test');
    assert.equal(res.selectionNote, TEST_SELECTION_LABEL);
    const meta = JSON.parse(readFileSync(join(dir, 'model', 'model.json'), 'utf8')).meta;
    assert.equal(meta.selection, 'test');
    assert.equal(meta.selectionNote, TEST_SELECTION_LABEL);
    // best epoch by test WA among stage-2 epochs
    const stage2 = r.history.filter((h) => h.stage === 2);
    assert.equal(r.test.WA, Math.max(...stage2.map((h) => h.test.WA!)));
    r.model.dispose();

    const e = await runTiny(undefined, undefined, { epochs: 12, stage1Epochs: 2, config: { ...TINY_CONFIG, earlyStopPatience: 1, optim: { ...TINY_CONFIG.optim, lr: 0 } } });
    // lr 0: nothing changes after the first stage-2 epoch, so the second one stops the run
    assert.equal(e.history.length, 4);
    e.model.dispose();
  });

  it('regression (CMU-style corpus) trains with the regression metrics and leaves no tensors behind', async () => {
    const corpus = synthCorpus('tiny', 'mosi');
    assert.equal(corpus.task, 'regression');
    const fold = getFold(corpus, 1);
    const before = tf.memory().numTensors;
    const r = await train({
      kind: 'student',
      config: TINY_CONFIG,
      corpus,
      fold,
      condition: 'tv',
      score: scorerFor('regression', 1),
      primary: 'ACC2',
      schedule: { epochs: 4, stage1Epochs: 2 },
      decoderHidden: 16,
      progress: { quiet: true },
    });
    assert.deepEqual(Object.keys(r.test), ['ACC2', 'F1', 'ACC2_hz', 'F1_hz', 'ACC7', 'MAE', 'Corr']);
    assert.ok(Number.isFinite(r.test.MAE) && r.test.MAE! < 3);
    assert.ok(r.history[0]!.unimodal!.t >= 0);
    r.model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
