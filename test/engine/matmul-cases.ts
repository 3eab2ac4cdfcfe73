/**
 * BatchMatMul / _FusedMatMul behaviour shared by the per-path test files (kernel registration is
 * process-global, so each path runs in its own test file, i.e. its own process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine, type MatmulPath } from '../../src/engine/backend.ts';
import { Rng } from '../../src/util/rng.ts';
import { maxRelErr, referenceMatMul, referenceMatMulGrads } from './reference.ts';
import { randomTensor } from '../support/random.ts';

// [aShape, bShape, transA, transB]: every transpose combination, plain batches, tfjs's
// broadcasting (rank-2 weights against rank-3/4 activations, batch 1 against batch n, mixed
// 1-dims), the attention shapes [B, H, S, dh], and empty / zero-inner products.
const CASES: [number[], number[], boolean, boolean][] = [
  [[5, 7], [7, 3], false, false],
  [[7, 5], [7, 3], true, false],
  [[5, 7], [3, 7], false, true],
  [[7, 5], [3, 7], true, true],
  [[4, 5, 7], [4, 7, 3], false, false],
  [[4, 7, 5], [4, 7, 3], true, false],
  [[4, 5, 7], [4, 3, 7], false, true],
  [[4, 7, 5], [4, 3, 7], true, true],
  [[2, 3, 5, 7], [7, 6], false, false],
  [[2, 3, 7, 5], [7, 6], true, false],
  [[2, 3, 5, 7], [6, 7], false, true],
  [[5, 7], [3, 7, 6], false, false],
  [[7, 5], [3, 6, 7], true, true],
  [[1, 5, 7], [4, 7, 3], false, false],
  [[4, 5, 7], [1, 7, 3], false, false],
  [[4, 7, 5], [1, 7, 3], true, false],
  [[2, 1, 5, 7], [1, 3, 7, 6], false, false],
  [[2, 1, 7, 5], [3, 6, 7], true, true],
  [[2, 2, 6, 4], [2, 2, 6, 4], false, true],
  [[2, 2, 6, 6], [2, 2, 6, 4], false, false],
  [[3, 0, 4], [3, 4, 2], false, false],
  [[2, 0], [0, 3], false, false],
  [[33, 65], [65, 129], false, false],
];

export function matmulSuite(path: MatmulPath, skip: string | false = false): void {
  test(`${path}: initEngine registers the requested matmul path`, { skip }, async () => {
    const info = await initEngine({ matmul: path });
    assert.equal(info.backend, 'wasm');
    assert.equal(info.matmul, path);
    assert.equal((await initEngine()).matmul, path, 'a later call without options keeps the path');
  });

  test(`${path}: BatchMatMul matches a float64 reference on every transpose/batch/broadcast form`, { skip }, async () => {
    await initEngine({ matmul: path });
    const rng = new Rng(7);
    for (const [as, bs, ta, tb] of CASES) {
      tf.tidy(() => {
        const a = randomTensor(as, rng);
        const b = randomTensor(bs, rng);
        const got = tf.matMul(a, b, ta, tb);
        const ref = referenceMatMul(a, b, ta, tb);
        const label = `[${as}] x [${bs}] tA=${ta} tB=${tb}`;
        assert.deepEqual(got.shape, ref.shape, label);
        assert.ok(maxRelErr(got.dataSync(), ref.values) < 1e-5, label);
      });
    }
  });

  test(`${path}: matmul gradients equal the analytic ones (dA = dY B^T, dB = A^T dY, summed over broadcast)`, { skip }, async () => {
    await initEngine({ matmul: path });
    const rng = new Rng(8);
    for (const [as, bs, ta, tb] of CASES.filter(([a, b]) => a.every((d) => d > 0) && b.every((d) => d > 0))) {
      tf.tidy(() => {
        const a = randomTensor(as, rng);
        const b = randomTensor(bs, rng);
        const dy = randomTensor(referenceMatMul(a, b, ta, tb).shape, rng);
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), dy)))([a, b]);
        const { ga: gaRef, gb: gbRef } = referenceMatMulGrads(a, b, dy, ta, tb);
        const label = `[${as}] x [${bs}] tA=${ta} tB=${tb}`;
        assert.deepEqual(ga!.shape, a.shape, label);
        assert.deepEqual(gb!.shape, b.shape, label);
        assert.ok(maxRelErr(ga!.dataSync(), gaRef) < 1e-5, `dA ${label}`);
        assert.ok(maxRelErr(gb!.dataSync(), gbRef) < 1e-5, `dB ${label}`);
      });
    }
  });

  test(`${path}: fused matMul (bias + activation) matches matMul + add + activation, values and gradients`, { skip }, async () => {
    await initEngine({ matmul: path });
    const rng = new Rng(9);
    const acts = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const;
    for (const activation of acts) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true]] as const) {
        tf.tidy(() => {
          const a = randomTensor(ta ? [6, 4] : [4, 6], rng, 2);
          const b = randomTensor(tb ? [5, 6] : [6, 5], rng);
          const bias = randomTensor([5], rng);
          const unfused = (x: tf.Tensor, w: tf.Tensor, c: tf.Tensor): tf.Tensor => {
            const y = tf.add(tf.matMul(x, w, ta, tb), c);
            switch (activation) {
              case 'linear': return y;
              case 'relu': return tf.relu(y);
              case 'relu6': return tf.relu6(y);
              case 'elu': return tf.elu(y);
              case 'sigmoid': return tf.sigmoid(y);
              case 'leakyrelu': return tf.leakyRelu(y, 0.1);
            }
          };
          const fused = (x: tf.Tensor, w: tf.Tensor, c: tf.Tensor): tf.Tensor =>
            tf.fused.matMul({ a: x, b: w, transposeA: ta, transposeB: tb, bias: c, activation, leakyreluAlpha: 0.1 });
          const label = `${activation} tA=${ta} tB=${tb}`;
          assert.ok(maxRelErr(fused(a, b, bias).dataSync(), unfused(a, b, bias).dataSync()) < 1e-5, label);
          const gF = tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.square(fused(x, w, c))))([a, b, bias]);
          const gU = tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.square(unfused(x, w, c))))([a, b, bias]);
          for (let i = 0; i < 3; i++) assert.ok(maxRelErr(gF[i]!.dataSync(), gU[i]!.dataSync()) < 1e-4, `grad ${i} ${label}`);
        });
      }
    }
  });

  test(`${path}: fused matMul with prelu and without bias`, { skip }, async () => {
    await initEngine({ matmul: path });
    const rng = new Rng(10);
    tf.tidy(() => {
      const a = randomTensor([3, 4], rng, 2);
      const b = randomTensor([4, 5], rng);
      const alpha = randomTensor([5], rng);
      const fused = tf.fused.matMul({ a, b, activation: 'prelu', preluActivationWeights: alpha });
      assert.ok(maxRelErr(fused.dataSync(), tf.prelu(tf.matMul(a, b), alpha).dataSync()) < 1e-5);
    });
  });

  test(`${path}: a product that grows the wasm heap mid-kernel is still exact, and no tensor leaks`, { skip }, async () => {
    await initEngine({ matmul: path });
    const heapBytes = (): number => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const before = tf.memory().numTensors;
    const heapBefore = heapBytes();
    const rng = new Rng(11);
    tf.tidy(() => {
      // Output [2, 4, 1e6] = 32 MB: allocating it grows the heap after the inputs were placed.
      const a = randomTensor([2, 4, 8], rng);
      const b = tf.add(tf.mul(tf.range(0, 8 * 1_000_000, 1, 'float32').reshape([8, 1_000_000]), 1e-7), -0.5);
      const got = tf.matMul(a, b).dataSync();
      assert.ok(heapBytes() > heapBefore, 'the heap grew');
      const av = a.dataSync();
      const bv = b.dataSync();
      for (let s = 0; s < 500; s++) {
        const [bi, i, j] = [rng.int(2), rng.int(4), rng.int(1_000_000)];
        let ref = 0;
        for (let p = 0; p < 8; p++) ref += av[bi * 32 + i * 8 + p]! * bv[p * 1_000_000 + j]!;
        assert.ok(Math.abs(got[(bi * 4 + i) * 1_000_000 + j]! - ref) < 1e-4 * Math.max(1, Math.abs(ref)));
      }
    });
    assert.equal(tf.memory().numTensors, before);
  });
}
