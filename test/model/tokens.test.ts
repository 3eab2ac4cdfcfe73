import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../src/engine/backend.ts';
import { TokenLayout } from '../../src/model/tokens.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomTensor } from '../support/random.ts';

describe('token layout: real utterances as rows', () => {
  before(async () => {
    await initEngine();
  });

  it('rows keep dialogue order; the grid round-trips with exact zeros at padding', () => {
    const L = new TokenLayout(2, 3, [1, 1, 0, 1, 1, 1]);
    assert.equal(L.N, 5);
    const grid = tf.tensor3d([[[1, 2], [3, 4], [99, 99]], [[5, 6], [7, 8], [9, 10]]]);
    const rows = L.toRows(grid);
    assert.deepEqual(rows.shape, [5, 2]);
    assert.deepEqual(rows.arraySync(), [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]);
    assert.deepEqual(L.toGrid(rows).arraySync(), [[[1, 2], [3, 4], [0, 0]], [[5, 6], [7, 8], [9, 10]]]);
    // Masks [B, S] become [N]; trailing axes are kept.
    assert.deepEqual(L.toRows(tf.tensor2d([[1, 0, 7], [0, 1, 1]])).arraySync(), [1, 0, 0, 1, 1]);
    assert.deepEqual(L.toGrid(tf.zeros([5, 2, 3])).shape, [2, 3, 2, 3]);
  });

  it('gradients: toRows and toGrid are adjoint, and each differentiates to the other', () => {
    const L = new TokenLayout(3, 4, [1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1].map((x, i) => (i === 4 ? 1 : x)));
    const rng = new Rng(3);
    const x = randomTensor([3, 4, 5], rng);
    const y = randomTensor([L.N, 5], rng);
    // <toGrid(y), x> = <y, toRows(x)>
    const lhs = tf.sum(tf.mul(L.toGrid(y), x)).dataSync()[0]!;
    const rhs = tf.sum(tf.mul(y, L.toRows(x))).dataSync()[0]!;
    assert.ok(Math.abs(lhs - rhs) < 1e-4, `${lhs} vs ${rhs}`);
    // d/dx <toRows(x), y> = toGrid(y), and d/dy <toGrid(y), x> = toRows(x).
    const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(L.toRows(t), y)))(x);
    assert.deepEqual(gx.arraySync(), L.toGrid(y).arraySync());
    const gy = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(L.toGrid(t), x)))(y);
    assert.deepEqual(gy.arraySync(), L.toRows(x).arraySync());
  });

  it('without padding the layout is a reshape', () => {
    const L = new TokenLayout(2, 2, [1, 1, 1, 1]);
    const x = tf.tensor3d([[[1], [2]], [[3], [4]]]);
    assert.deepEqual(L.toRows(x).arraySync(), [[1], [2], [3], [4]]);
    assert.deepEqual(L.toGrid(L.toRows(x)).arraySync(), x.arraySync());
  });

  it('a batch with no real utterance is refused', () => {
    assert.throws(() => new TokenLayout(1, 2, [0, 0]), /no real utterance/);
  });
});
