/**
 * Memory discipline: training steps of a small attention model (matmuls in every transpose form,
 * masked softmax with a fully masked row, GELU, dropout, Adam) must not leak tensors, nor wasm
 * buffers behind tfjs's back (the kernels alias heap slices).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine, type MatmulPath } from '../../src/engine/backend.ts';
import { dropout, gelu, torchLinearInit, maskedSoftmax } from '../../src/engine/ops.ts';
import { createModel } from '../../src/model/factory.ts';
import { Adam } from '../../src/train/adam.ts';
import { trainStep } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomBatch, tinyConfig } from '../support/model-batch.ts';
import { randomTensor } from '../support/random.ts';

export function memorySuite(path: MatmulPath, skip: string | false = false): void {
  test(`${path}: tensor and wasm buffer counts stay flat across training steps`, { skip }, async () => {
    await initEngine({ matmul: path });
    const [B, S, D, H, C] = [3, 6, 16, 2, 4];
    const rng = new Rng(12);
    const W = (i: number, o: number): tf.Variable => tf.variable(torchLinearInit([i, o], rng));
    const params = { q: W(D, D), k: W(D, D), v: W(D, D), f1: W(D, D), f2: W(D, D), out: W(D, C), bias: tf.variable(tf.zeros([C])) };
    const x = randomTensor([B, S, D], rng);
    const keyMask = tf.tensor2d([[1, 1, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]]);
    const labels = tf.oneHot(tf.tensor2d([[0, 1, 2, 3, 0, 1], [1, 1, 1, 1, 1, 1], [3, 2, 1, 0, 3, 2]], undefined, 'int32'), C);
    const opt = tf.train.adam(1e-3);
    const dh = D / H;
    const step = (): number => {
      const loss = opt.minimize(() => {
        const heads = (w: tf.Variable): tf.Tensor => tf.transpose(tf.reshape(tf.matMul(x, w), [B, S, H, dh]), [0, 2, 1, 3]);
        const p = maskedSoftmax(tf.div(tf.matMul(heads(params.q), heads(params.k), false, true), Math.sqrt(dh)), tf.reshape(keyMask, [B, 1, 1, S]));
        const a = tf.reshape(tf.transpose(tf.matMul(p, heads(params.v)), [0, 2, 1, 3]), [B, S, D]);
        const h = tf.add(a, tf.matMul(dropout(gelu(tf.matMul(a, params.f1)), 0.3, rng, true), params.f2));
        const logits = tf.add(tf.matMul(h, params.out), params.bias);
        return tf.losses.softmaxCrossEntropy(labels, logits);
      }, true);
      const v = loss!.dataSync()[0]!;
      loss!.dispose();
      return v;
    };
    const backendBuffers = (): number => tf.backend().numDataIds();
    step(); // the first step creates Adam's moment variables
    const tensors = tf.memory().numTensors;
    const buffers = backendBuffers();
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      losses.push(step());
      assert.equal(tf.memory().numTensors, tensors, `tensors after step ${i + 2}`);
      assert.equal(backendBuffers(), buffers, `wasm buffers after step ${i + 2}`);
    }
    assert.ok(losses.every(Number.isFinite), `finite losses ${losses}`);
    assert.ok(losses.at(-1)! < losses[0]!, `loss decreases: ${losses}`);
    tf.dispose([...Object.values(params), x, keyMask, labels]);
    opt.dispose();
  });

  test(`${path}: the models' own steps (row layout, attention, dropout, lean reverse pass) leak nothing`, { skip }, async () => {
    await initEngine({ matmul: path });
    const cfg = tinyConfig({ dropout: 0.3 });
    for (const kind of ['student', 'teacher', 'momke'] as const) {
      const model = createModel(kind, cfg, 2);
      const adam = new Adam(model.params, { lr: 1e-3, weightDecay: 1e-5 });
      const batch = randomBatch(cfg, [5, 2, 4], 3, (b, s) => [[1, 0, 1], [0, 1, 1], [1, 1, 0]][(b + s) % 3] as [number, number, number]);
      const rng = new Rng(5);
      for (const stage of [1, 2] as const) trainStep(model, adam, batch, { stage, rng }); // creates Adam's moments
      const tensors = tf.memory().numTensors;
      const buffers = tf.backend().numDataIds();
      for (let i = 0; i < 3; i++) {
        const loss = trainStep(model, adam, batch, { stage: 2, rng });
        assert.ok(Number.isFinite(loss), `${kind}: loss ${loss}`);
        assert.equal(tf.memory().numTensors, tensors, `${kind}: tensors after step ${i + 1}`);
        assert.equal(tf.backend().numDataIds(), buffers, `${kind}: wasm buffers after step ${i + 1}`);
      }
      model.dispose();
      adam.dispose();
    }
  });
}
