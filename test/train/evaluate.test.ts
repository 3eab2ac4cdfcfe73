import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { getFold, makeBatches } from '../../src/data/index.ts';
import { initEngine } from '../../src/engine/backend.ts';
import { createModel } from '../../src/model/factory.ts';
import { batchInputs, disposeInputs } from '../../src/model/inputs.ts';
import { recLoss } from '../../src/model/losses.ts';
import { predict, reconstructionMse } from '../../src/train/evaluate.ts';
import { tinyConfig } from '../support/model-batch.ts';
import { synthCorpus } from './corpus.ts';

describe('evaluation helpers', () => {
  before(async () => {
    await initEngine();
  });

  it('predict returns one prediction per real utterance, in dialogue order', () => {
    const corpus = synthCorpus('tiny');
    const fold = getFold(corpus, 2, { seed: 1, validFraction: 0.2 });
    const cfg = tinyConfig({ dims: corpus.dims, numClasses: corpus.numClasses });
    const model = createModel('student', cfg, 1);
    const p = predict(model, fold.test, { stage: 1, batchSize: 1, condition: 't' });
    const ids = fold.test.flatMap((d) => d.utterances.map((u) => u.id));
    assert.deepEqual(p.ids, ids);
    assert.deepEqual(p.labels, fold.test.flatMap((d) => d.utterances.map((u) => u.label)));
    assert.ok(p.preds.every((c) => Number.isInteger(c) && c >= 0 && c < corpus.numClasses));
    assert.equal(p.unimodal!.a.length, ids.length);
    // batching does not change predictions (padding is inert)
    assert.deepEqual(predict(model, fold.test, { stage: 1, batchSize: 4, condition: 't' }).preds, p.preds);
    model.dispose();
  });

  it('reconstructionMse agrees with the training loss L_rec and counts only missing modalities', () => {
    const corpus = synthCorpus('tiny');
    const fold = getFold(corpus, 2, { seed: 1, validFraction: 0.2 });
    const cfg = tinyConfig({ dims: corpus.dims, numClasses: corpus.numClasses });
    const model = createModel('teacher', cfg, 1);
    const zeros = { a: new Float32Array(cfg.dims.a), t: new Float32Array(cfg.dims.t), v: new Float32Array(cfg.dims.v) };
    const r = reconstructionMse(model, fold.test, { batchSize: 2, condition: 'at', baseline: zeros });
    const n = fold.test.reduce((s, d) => s + d.utterances.length, 0);
    assert.equal(r.v.count, n);
    assert.equal(r.a.count + r.t.count, 0);
    // Only v is missing, so L_rec * (real utterances) summed over batches = sum of per-utterance MSE of v.
    let sum = 0;
    for (const batch of makeBatches(fold.test, { batchSize: 2, condition: 'at' })) {
      const inputs = batchInputs(batch);
      sum += tf.tidy(() => recLoss(model.forward(inputs, { stage: 2, training: false }).recon!, inputs).dataSync()[0]!) * batch.umask.reduce((a, b) => a + b, 0);
      disposeInputs(inputs);
    }
    assert.ok(Math.abs(r.v.model - sum / n) < 1e-4 * Math.max(1, r.v.model), `${r.v.model} vs ${sum / n}`);
    // The zero baseline's error is the mean square of the true features.
    let ms = 0;
    for (const d of fold.test) for (const u of d.utterances) ms += u.features.v.reduce((s, x) => s + x * x, 0) / cfg.dims.v;
    assert.ok(Math.abs(r.v.baseline - ms / n) < 1e-6 * Math.max(1, ms / n));
    model.dispose();
  });
});
