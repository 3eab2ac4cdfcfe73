/**
 * MMIN and GCNet through the trainer: they learn, MMIN's pre-training hands its best epoch to the
 * imagination stage, both resume from a checkpoint to the same numbers, and both regress on a
 * CMU-style corpus.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFold } from '../../src/data/index.ts';
import { initEngine } from '../../src/engine/backend.ts';
import { scorerFor } from '../../src/eval/metrics.ts';
import type { WeightData } from '../../src/model/params.ts';
import type { MerModel } from '../../src/model/types.ts';
import { train } from '../../src/train/trainer.ts';
import { synthCorpus } from './corpus.ts';
import { runTiny, smallMajority, TINY_CONFIG } from './tiny-run.ts';

const strip = (h: { seconds?: number; evalSeconds?: number }[]): unknown[] => h.map(({ seconds: _s, evalSeconds: _e, ...r }) => r);

describe('baselines in the trainer', () => {
  before(async () => {
    await initEngine();
  });

  it('MMIN and GCNet train on the small synthetic corpus and beat the majority class', async () => {
    const majority = smallMajority();
    for (const [kind, epochs, stage1Epochs] of [['mmin', 10, 4], ['gcnet', 5, 0]] as const) {
      const r = await runTiny(undefined, undefined, {
        kind,
        preset: 'small',
        epochs,
        stage1Epochs,
        config: { ...TINY_CONFIG, optim: { ...TINY_CONFIG.optim, batchSize: 4 } },
      });
      console.log(`# ${kind}: test WA ${r.test.WA!.toFixed(3)} UA ${r.test.UA!.toFixed(3)} (majority ${majority.toFixed(3)})`);
      assert.ok(r.test.WA! > majority + 0.1, `${kind}: WA ${r.test.WA} vs majority ${majority}`);
      r.model.dispose();
    }
  });

  it('MMIN: the switch restores the best pre-training epoch (fused score) and freezes its encoders as targets', async () => {
    let model: MerModel | undefined;
    const encoders: WeightData[][] = [];
    let targets: WeightData[] | undefined;
    const r = await runTiny(
      undefined,
      {
        beforeEpoch: (epoch, info) => {
          model = info.model;
          if (epoch === 4) targets = [...model.params.getWeights((n) => n.startsWith('target.')).values()];
        },
        afterEpoch: (epoch) => {
          if (epoch < 4) encoders[epoch] = [...model!.params.getWeights((n) => n.startsWith('proj.')).values()];
        },
      },
      { kind: 'mmin', epochs: 6, stage1Epochs: 4 },
    );
    const scores = r.history.slice(0, 4).map((h) => h.valid!.WA!);
    const best = scores.indexOf(Math.max(...scores));
    assert.deepEqual(r.restored, { a: best, t: best, v: best });
    assert.equal(r.history[0]!.unimodal, undefined);
    // target.{a,t,v}.{W,b} are the encoders proj.{a,t,v}.{W,b} of the best epoch, same order
    assert.deepEqual(targets, encoders[best]);
    r.model.dispose();
  });

  for (const [kind, stage1Epochs] of [['mmin', 2], ['gcnet', 0]] as const) {
    it(`${kind}: a run stopped after epoch 2 resumes from its checkpoint to the same numbers`, async () => {
      const root = mkdtempSync(join(tmpdir(), `hardy-${kind}-resume-`));
      const opts = { kind, epochs: 4, stage1Epochs };
      const straight = await runTiny(join(root, 'straight'), undefined, opts);
      const dir = join(root, 'stopped');
      await assert.rejects(
        runTiny(dir, { beforeEpoch: (e) => { if (e === 2) throw new Error('stop'); } }, opts),
        /stop/,
      );
      const resumed = await runTiny(dir, undefined, opts);
      assert.deepEqual(strip(resumed.history), strip(straight.history));
      assert.deepEqual(resumed.test, straight.test);
      for (const r of [straight, resumed]) r.model.dispose();
      rmSync(root, { recursive: true, force: true });
    });
  }

  it('both regress on a CMU-style corpus with the regression metrics', async () => {
    const corpus = synthCorpus('tiny', 'mosi');
    const fold = getFold(corpus, 1);
    for (const [kind, stage1Epochs] of [['mmin', 1], ['gcnet', 0]] as const) {
      const r = await train({
        kind,
        config: TINY_CONFIG,
        corpus,
        fold,
        condition: 'tv',
        score: scorerFor('regression', 1),
        primary: 'ACC2',
        schedule: { epochs: 3, stage1Epochs },
        progress: { quiet: true },
      });
      assert.deepEqual(Object.keys(r.test), ['ACC2', 'F1', 'ACC2_hz', 'F1_hz', 'ACC7', 'MAE', 'Corr']);
      assert.ok(Number.isFinite(r.test.MAE) && r.test.MAE! < 3, `${kind}: MAE ${r.test.MAE}`);
      r.model.dispose();
    }
  });
});
