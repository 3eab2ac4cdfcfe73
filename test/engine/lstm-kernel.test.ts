// The LSTM step kernel pair (engine/lstm-kernel.ts) against the same step composed from tfjs ops:
// values and the gradients w.r.t. every input, masked (carried) rows included.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../src/engine/backend.ts';
import { LSTM_CELL } from '../../src/engine/lstm-kernel.ts';
import { lstmCell, lstmCellOps } from '../../src/engine/ops.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomTensor } from '../support/random.ts';

before(async () => {
  await initEngine();
});

const close = (a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void => {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.deepEqual(a.shape, b.shape, what);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= tol * (1 + Math.abs(y[i]!)), `${what}[${i}]: ${x[i]} vs ${y[i]}`);
};

test('the kernel is registered and equals the tfjs-ops step, forward and backward', () => {
  assert.ok(tf.getKernel(LSTM_CELL, tf.getBackend()), 'initEngine registers the LSTM step kernel');
  const rng = new Rng(4);
  for (const [B, H] of [[3, 2], [5, 7]]) {
    tf.tidy(() => {
      const z = randomTensor([B, 4 * H], rng, 2);
      const h = randomTensor([B, H], rng);
      const c = randomTensor([B, H], rng);
      const m = tf.tensor1d(Array.from({ length: B }, (_, b) => (b % 3 === 1 ? 0 : 1)));
      const R = randomTensor([B, 2 * H], rng);
      close(lstmCell(z, h, c, m), lstmCellOps(z, h, c, m), 1e-5, 'value');
      const loss = (cell: typeof lstmCell) => (zz: tf.Tensor, hh: tf.Tensor, cc: tf.Tensor) => tf.sum(tf.mul(cell(zz, hh, cc, m), R));
      const got = tf.grads(loss(lstmCell))([z, h, c]);
      const want = tf.grads(loss(lstmCellOps))([z, h, c]);
      ['dz', 'dh', 'dc'].forEach((name, i) => close(got[i]!, want[i]!, 1e-5, name));
      // a carried row passes its state and gradient through untouched
      const out = lstmCell(z, h, c, m).arraySync() as number[][];
      assert.deepEqual(out[1], [...(h.arraySync() as number[][])[1]!, ...(c.arraySync() as number[][])[1]!].map((v) => Math.fround(v)));
    });
  }
});
