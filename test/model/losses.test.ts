import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../src/engine/backend.ts';
import { entropy, maskedCrossEntropy, maskedMse, miLoss, recLoss, recPerUtterance } from '../../src/model/losses.ts';
import type { ModelInputs } from '../../src/model/types.ts';
import { Rng } from '../../src/util/rng.ts';
import { gradCheck } from './gradcheck.ts';
import { randomVariable } from '../support/random.ts';

const close = (a: number, b: number, tol = 1e-5): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

/** One dialogue of 3 slots (2 real + padding), dims a=1, t=2, v=1. */
function recFixture(): { inputs: ModelInputs; recon: tf.Tensor } {
  const inputs: ModelInputs = {
    x: {
      a: tf.tensor3d([1, 2, 9], [1, 3, 1]),
      t: tf.tensor3d([0, 1, 1, 1, 9, 9], [1, 3, 2]),
      v: tf.tensor3d([3, 4, 9], [1, 3, 1]),
    },
    umask: tf.tensor2d([1, 1, 0], [1, 3]),
    // utterance 0: only a available (t, v missing); utterance 1: a and v available (t missing)
    avail: tf.tensor3d([1, 0, 0, 1, 0, 1, 0, 0, 0], [1, 3, 3]),
    speakers: tf.zeros([1, 3]),
  };
  // recon order a, t, v: [a | t0 t1 | v]
  const recon = tf.tensor3d([0, 1, 2, 5, 0, 0, 0, 0, 0, 0, 0, 0], [1, 3, 4]);
  return { inputs, recon };
}

describe('losses: hand-computed values', () => {
  before(async () => {
    await initEngine();
  });

  it('masked cross-entropy averages -log p(label) over real utterances only', () => {
    const logits = tf.tensor3d([1, 2, 0, 0, 0, 0, 7, 7, 7], [1, 3, 3]);
    const labels = tf.tensor2d([1, 2, 0], [1, 3]);
    const umask = tf.tensor2d([1, 1, 0], [1, 3]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + 1);
    const expected = ((lse - 2) + Math.log(3)) / 2;
    close(maskedCrossEntropy(logits, labels, umask).dataSync()[0]!, expected);
  });

  it('masked MSE over real utterances', () => {
    const pred = tf.tensor3d([1, 2, 100], [1, 3, 1]);
    const target = tf.tensor2d([0, 0, 0], [1, 3]);
    close(maskedMse(pred, target, tf.tensor2d([1, 1, 0], [1, 3])).dataSync()[0]!, 2.5);
  });

  it('reconstruction uses the true features of missing modalities only', () => {
    const { inputs, recon } = recFixture();
    // utt 0: t missing: ((1-0)^2 + (2-1)^2)/2 = 1; v missing: (5-3)^2 = 4; a available -> 0
    // utt 1: t missing: ((0-1)^2 + (0-1)^2)/2 = 1; v available; a available
    const d = recPerUtterance(recon, inputs).arraySync() as number[][];
    close(d[0]![0]!, (1 + 4) / 3);
    close(d[0]![1]!, 1 / 3);
    close(d[0]![2]!, 0);
    close(recLoss(recon, inputs).dataSync()[0]!, (1 + 4 + 1) / 2);
  });

  it('entropy of a constant vector is log D; MI term sign', () => {
    close(entropy(tf.zeros([1, 1, 8])).dataSync()[0]!, -Math.log(1 / 8 + 1e-7), 1e-5);
    // A one-hot-like vector has entropy near 0.
    assert.ok(entropy(tf.tensor3d([[[50, 0, 0, 0]]])).dataSync()[0]! < 1e-3);
    // reps uniform (H = log 4 each) and joint peaked (H ~ 0): I = 2 log 4 per pair, loss = -(3 * 2 log 4) / 3.
    const flat = tf.zeros([1, 1, 4]);
    const peak = tf.tensor3d([[[50, 0, 0, 0]]]);
    const l = miLoss({ a: flat, t: flat, v: flat }, { at: peak, av: peak, tv: peak }, tf.ones([1, 1]));
    close(l.dataSync()[0]!, -2 * Math.log(4), 1e-3);
  });
});

describe('losses: finite-difference gradient checks', () => {
  before(async () => {
    await initEngine();
  });
  const umask = (): tf.Tensor => tf.tensor2d([1, 1, 1, 1, 1, 0], [2, 3]);

  it('cross-entropy and MSE', () => {
    const logits = randomVariable([2, 3, 4], new Rng(1));
    const labels = tf.tensor2d([0, 3, 2, 1, 1, 0], [2, 3]);
    let r = gradCheck({ logits }, () => maskedCrossEntropy(logits, labels, umask()));
    assert.ok(r.worst < 1e-2, `CE ${r.worst}`);
    const pred = randomVariable([2, 3, 1], new Rng(2));
    r = gradCheck({ pred }, () => maskedMse(pred, tf.tensor2d([0.5, -1, 2, 0, 1, 3], [2, 3]), umask()));
    assert.ok(r.worst < 1e-2, `MSE ${r.worst}`);
  });

  it('reconstruction and MI term', () => {
    const { inputs } = recFixture();
    const recon = randomVariable([1, 3, 4], new Rng(3));
    let r = gradCheck({ recon }, () => recLoss(recon, inputs));
    assert.ok(r.worst < 1e-2 && r.analyticNorm > 0, `rec ${r.worst}`);
    const rng = new Rng(4);
    const reps = { a: randomVariable([2, 3, 6], rng), t: randomVariable([2, 3, 6], rng), v: randomVariable([2, 3, 6], rng) };
    const joint = { at: randomVariable([2, 3, 6], rng), av: randomVariable([2, 3, 6], rng), tv: randomVariable([2, 3, 6], rng) };
    r = gradCheck({ ...reps, ...joint }, () => miLoss(reps, joint, umask()));
    assert.ok(r.worst < 1e-2 && r.analyticNorm > 0, `MI ${r.worst} at ${r.worstVar}`);
  });
});
