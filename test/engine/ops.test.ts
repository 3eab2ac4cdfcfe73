// The engine's ops: values against float64 references, gradients against central finite
// differences, and the NaN-safety of masked softmax on fully masked rows.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../src/engine/backend.ts';
import { dropoutInto } from '../../src/engine/dropout-kernel.ts';
import { dropout, gelu, torchLinearInit, maskedSoftmax } from '../../src/engine/ops.ts';
import { Rng } from '../../src/util/rng.ts';
import { maxRelErr, numericGrad } from './reference.ts';
import { randomTensor } from '../support/random.ts';

before(async () => {
  await initEngine();
});

/** erf by its Maclaurin series in float64 (|x| <= 4.3: cancellation leaves ~1e-11 accuracy). */
function erf(x: number): number {
  if (Math.abs(x) > 4.3) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Checks the tfjs gradient of sum(w * op(x)) against finite differences. */
function checkGrad(op: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, rng: Rng, tol = 2e-3): tf.Tensor {
  const w = randomTensor(op(x).shape, rng);
  const f = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(op(t), w));
  const analytic = tf.grad(f)(x);
  const numeric = numericGrad(f, x);
  assert.ok(maxRelErr(analytic.dataSync(), numeric) < tol, `analytic ${analytic.dataSync().slice(0, 6)} vs numeric ${numeric.slice(0, 6)}`);
  return analytic;
}

test('gelu equals 0.5 x (1 + erf(x / sqrt 2)) and its gradient matches finite differences', async () => {
  const info = await initEngine();
  tf.tidy(() => {
    const xs = [-6, -3, -1.5, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 2.5, 6];
    const got = gelu(tf.tensor1d(xs)).dataSync();
    const ref = xs.map((x) => 0.5 * x * (1 + erf(x / Math.SQRT2)));
    assert.ok(maxRelErr(got, ref) < 1e-6);
    // Far negative tail, where the series loses relative accuracy: gelu(-6) = -6 Phi(-6) with
    // Phi(-6) = 9.8658764503769e-10 (normal tables); tfjs-op compositions give 1 + erf = 0 or noise.
    if (info.matmul === 'native') assert.ok(Math.abs(got[0]! / (-6 * 9.8658764503769e-10) - 1) < 1e-4, `gelu(-6) = ${got[0]}`);
    checkGrad(gelu, randomTensor([3, 7], new Rng(1), 2), new Rng(2));
  });
});

test('gelu on the active path (native kernel when the addon loads) agrees with the tfjs-op composition, values and gradients', async () => {
  const info = await initEngine();
  tf.tidy(() => {
    const x = randomTensor([40, 30], new Rng(6), 3);
    const composed = (t: tf.Tensor): tf.Tensor => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2))));
    assert.ok(maxRelErr(gelu(x).dataSync(), composed(x).dataSync()) < 1e-6, info.matmul);
    const w = randomTensor([40, 30], new Rng(7));
    const g1 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), w)))(x);
    const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(composed(t), w)))(x);
    assert.ok(maxRelErr(g1.dataSync(), g2.dataSync()) < 1e-5, info.matmul);
  });
});

test('maskedSoftmax: softmax over kept keys, zero weight on masked keys, zero rows when nothing is kept', () => {
  tf.tidy(() => {
    const scores = tf.tensor3d([[[1, 2, 3, 4], [0, -1, 5, 2]], [[3, 3, 3, 3], [9, -9, 0, 1]]]); // [2, 2, 4]
    const mask = tf.tensor3d([[[1, 0, 1, 1]], [[0, 0, 0, 0]]]); // [2, 1, 4]: batch 1 fully masked
    const p = maskedSoftmax(scores, mask).arraySync() as number[][][];
    const s = scores.arraySync() as number[][][];
    for (let r = 0; r < 2; r++) {
      const keep = [0, 2, 3];
      const z = keep.reduce((acc, j) => acc + Math.exp(s[0]![r]![j]!), 0);
      for (let j = 0; j < 4; j++) {
        const want = keep.includes(j) ? Math.exp(s[0]![r]![j]!) / z : 0;
        assert.ok(Math.abs(p[0]![r]![j]! - want) < 1e-6, `row ${r} key ${j}`);
      }
      assert.deepEqual(p[1]![r], [0, 0, 0, 0]);
    }
  });
});

test('maskedSoftmax gradient matches finite differences, with a fully masked row in the batch', () => {
  tf.tidy(() => {
    const rng = new Rng(3);
    const mask = tf.tensor4d([1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0], [3, 1, 1, 4]); // [B, 1, 1, T]
    const g = checkGrad((x) => maskedSoftmax(x, mask), randomTensor([3, 2, 3, 4], rng, 2), rng);
    const gv = g.arraySync() as number[][][][];
    // Fully masked dialogue: no path from its scores to the output, so exactly zero gradient.
    assert.ok(gv[1]!.flat(2).every((v) => v === 0));
    // Masked keys of partly masked rows get zero gradient too.
    assert.ok(gv[0]!.flat().every((row) => row[1] === 0));
  });
});

test('a fully masked row through maskedSoftmax and attention gives zero output and finite gradients everywhere', () => {
  tf.tidy(() => {
    const rng = new Rng(4);
    const q = randomTensor([2, 2, 5, 3], rng); // [B, H, S, dh]
    const k = randomTensor([2, 2, 5, 3], rng);
    const v = randomTensor([2, 2, 5, 3], rng);
    const mask = tf.tensor4d([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], [2, 1, 1, 5]);
    const attend = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor): tf.Tensor =>
      tf.matMul(maskedSoftmax(tf.matMul(qq, kk, false, true), mask), vv);
    const out = attend(q, k, v).arraySync() as number[][][][];
    assert.ok(out[1]!.flat(2).every((x) => x === 0), 'fully masked dialogue outputs zeros');
    const grads = tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => tf.sum(tf.square(attend(qq, kk, vv))))([q, k, v]);
    for (const g of grads) assert.ok(g.dataSync().every(Number.isFinite));
    assert.ok(grads.some((g) => g.dataSync().some((x) => x !== 0)), 'the unmasked dialogue still gets gradient');
  });
});

test('tf.logSoftmax (used by the losses) has a correct gradient', () => {
  tf.tidy(() => {
    const rng = new Rng(5);
    checkGrad((x) => tf.logSoftmax(x), randomTensor([4, 6], rng, 3), rng);
  });
});

test('dropout: identity when not training, seeded masks, inverted scaling, gradient through the mask', () => {
  tf.tidy(() => {
    const x = tf.ones([200, 100]);
    assert.equal(dropout(x, 0.5, new Rng(1), false), x);
    assert.equal(dropout(x, 0, new Rng(1), true), x);
    const a = dropout(x, 0.3, new Rng(42), true).dataSync();
    const b = dropout(x, 0.3, new Rng(42), true).dataSync();
    const c = dropout(x, 0.3, new Rng(43), true).dataSync();
    assert.deepEqual(a, b, 'same seed, same mask');
    assert.notDeepEqual(a, c, 'other seed, other mask');
    const kept = a.filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6), 'kept values scaled by 1/(1-p)');
    assert.ok(Math.abs(1 - kept.length / a.length - 0.3) < 0.02, `drop fraction ${1 - kept.length / a.length}`);
    const g = tf.grad((t: tf.Tensor) => tf.sum(dropout(t, 0.3, new Rng(42), true)))(x).dataSync();
    assert.deepEqual(g, a, 'd/dx sum(dropout(x)) = mask / (1 - p) for x = 1');
  });
});

test('dropout masks: nearby seeds and neighbouring elements are independent', () => {
  const n = 100_000;
  const ones = new Float32Array(n).fill(1);
  const mask = (seed: number): Float32Array => {
    const out = new Float32Array(n);
    dropoutInto(ones, out, 0.5, seed);
    return out;
  };
  const frac = (f: (i: number) => boolean, m = n): number => {
    let k = 0;
    for (let i = 0; i < m; i++) if (f(i)) k++;
    return k / m;
  };
  const [m1, m2] = [mask(1), mask(2)];
  // P(kept) = 1/2; two independent masks agree with P = 1/2, neighbours are both kept with P = 1/4.
  assert.ok(Math.abs(frac((i) => m1[i] !== 0) - 0.5) < 0.01);
  assert.ok(Math.abs(frac((i) => (m1[i] !== 0) === (m2[i] !== 0)) - 0.5) < 0.01, 'seeds 1 and 2 correlate');
  assert.ok(Math.abs(frac((i) => m1[i] !== 0 && m1[i + 1] !== 0, n - 1) - 0.25) < 0.01, 'neighbours correlate');
  assert.ok(Math.abs(frac((i) => m1[i] !== 0 && m1[i + 256] !== 0, n - 256) - 0.25) < 0.01, 'rows correlate');
});

test('torchLinearInit: seeded, inside +-1/sqrt(fanIn) (PyTorch nn.Linear), spread over the range', () => {
  tf.tidy(() => {
    const w = torchLinearInit([64, 32], new Rng(9)).dataSync();
    assert.deepEqual(w, torchLinearInit([64, 32], new Rng(9)).dataSync());
    const lim = 1 / Math.sqrt(64);
    assert.ok(w.every((v) => Math.abs(v) <= lim));
    assert.ok(Math.max(...w) > 0.9 * lim && Math.min(...w) < -0.9 * lim);
  });
});
