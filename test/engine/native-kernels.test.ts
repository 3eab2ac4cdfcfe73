/**
 * The native attention equals the tfjs-ops one (outputs and gradients), with padding and masked keys.
 * The native dropout is bit-identical to the TypeScript one (dropout-kernel.ts).
 * The native Sum and Adam kernels (src/engine/native-kernels.ts) against their fallbacks: Sum over
 * every axis combination against sums of the flat values; the project's Adam on the native path
 * against the same steps on the composed tfjs path; tensor counts flat across Adam steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../src/engine/backend.ts';
import { dropoutInto } from '../../src/engine/dropout-kernel.ts';
import { loadAddon } from '../../src/engine/native-addon.ts';
import { attention, attentionOps, dropout, type RowLayout } from '../../src/engine/ops.ts';
import { TokenLayout } from '../../src/model/tokens.ts';
import { ParamStore } from '../../src/model/params.ts';
import { Adam } from '../../src/train/adam.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomTensor } from '../support/random.ts';

const skip = loadAddon().error ? 'native addon not built' : false;

/** Sum of x (flat values, `shape`) over `axes` by index arithmetic; result in row-major order of the kept axes. */
function referenceSum(values: Float32Array, shape: number[], axes: number[]): number[] {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outSize = kept.reduce((p, i) => p * shape[i]!, 1);
  const out = new Array<number>(outSize).fill(0);
  for (let flat = 0; flat < values.length; flat++) {
    let rem = flat;
    const idx = new Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    const o = kept.reduce((acc, i) => acc * shape[i]! + idx[i]!, 0);
    out[o] = out[o]! + values[flat]!;
  }
  return out;
}

test('native attention equals the tfjs-ops attention: outputs and gradients', { skip }, async () => {
  await initEngine({ matmul: 'native' });
  // Dialogue lengths 5, 1, 3, 4 padded to 5; dialogue 2 has no key at all, dialogue 3 some.
  const B = 4;
  const S = 5;
  const lens = [5, 1, 3, 4];
  const umask = lens.flatMap((n) => Array.from({ length: S }, (_, s) => (s < n ? 1 : 0)));
  const keys = [1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0];
  for (const [D, heads] of [[8, 2], [12, 3], [6, 1]] as const) {
    tf.tidy(() => {
      const L = new TokenLayout(B, S, umask);
      const rng = new Rng(D);
      const [q, k, v, R] = [0, 1, 2, 3].map(() => randomTensor([L.N, D], rng));
      const mask = L.toRows(tf.tensor2d(keys, [B, S])); // [N]
      const attrs = { heads, scale: 1 / Math.sqrt(D / heads), starts: L.starts };
      const loss = (f: typeof attention) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Scalar => tf.sum(tf.mul(f(a, b, c, mask, L, heads), R!));
      const ops = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, m: tf.Tensor, l: RowLayout): tf.Tensor => attentionOps(a, b, c, m, l, attrs);
      const close = (got: tf.Tensor, want: tf.Tensor, what: string): void => {
        const g = got.dataSync();
        const w = want.dataSync();
        w.forEach((x, i) => assert.ok(Math.abs(g[i]! - x) <= 1e-5 * (1 + Math.abs(x)), `${what} D=${D} H=${heads} [${i}]: ${g[i]} vs ${x}`));
      };
      close(attention(q!, k!, v!, mask, L, heads), ops(q!, k!, v!, mask, L), 'output');
      const gNative = tf.grads(loss(attention))([q!, k!, v!]);
      const gOps = tf.grads(loss(ops))([q!, k!, v!]);
      gNative.forEach((g, i) => close(g, gOps[i]!, `d${'qkv'[i]}`));
      // The dialogue with no key gives zeros.
      assert.ok(attention(q!, k!, v!, mask, L, heads).slice([5 + 1, 0], [3, D]).dataSync().every((x) => x === 0));
    });
  }
});

test('native dropout gives the same bits as the TypeScript kernel (one and two threads)', { skip }, async () => {
  await initEngine({ matmul: 'native' });
  for (const [n, rate, seed] of [[1000, 0.3, 5], [300_001, 0.5, 4294967295], [70_000, 0.1, 0]] as const) {
    tf.tidy(() => {
      const x = randomTensor([n], new Rng(n));
      const rng = { nextUint32: () => seed } as unknown as Rng;
      const got = dropout(x, rate, rng, true).dataSync();
      const want = new Float32Array(n);
      dropoutInto(x.dataSync() as Float32Array, want, rate, seed);
      assert.ok(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `n ${n} rate ${rate} seed ${seed}`);
    });
  }
});

test('native Sum equals the reference for every axis set, keepDims, large inputs (threads)', { skip }, async () => {
  await initEngine({ matmul: 'native' });
  const rng = new Rng(3);
  const cases: [number[], number | number[]][] = [
    [[4, 5, 6], [0, 1]], [[4, 5, 6], 2], [[4, 5, 6], 1], [[4, 5, 6], [0, 2]], [[4, 5, 6], -1], [[4, 5, 6], [0, 1, 2]],
    [[7], 0], [[2, 3, 4, 5], [1, 2]], [[800, 256], 0], [[3, 40000], 1], [[1, 70000, 2], 1],
  ];
  for (const [shape, axis] of cases) {
    for (const keepDims of [false, true]) {
      tf.tidy(() => {
        const x = randomTensor(shape, rng);
        const y = tf.sum(x, axis, keepDims);
        const axes = tf.util.parseAxisParam(axis, shape);
        const expShape = shape.map((d, i) => (axes.includes(i) ? 1 : d)).filter((_, i) => keepDims || !axes.includes(i));
        assert.deepEqual(y.shape, expShape, `shape of sum ${shape} over ${axis}`);
        const ref = referenceSum(x.dataSync() as Float32Array, shape, axes);
        const got = y.dataSync();
        ref.forEach((r, i) => assert.ok(Math.abs(got[i]! - r) <= 1e-4 * (1 + Math.abs(r)) + 1e-6 * Math.sqrt(x.size), `sum ${shape} over ${axis}[${i}]: ${got[i]} vs ${r}`));
      });
    }
  }
  const ints = tf.sum(tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32'), 0);
  assert.deepEqual([...ints.dataSync()], [4, 6]);
  assert.equal(ints.dtype, 'int32');
  ints.dispose();
});

/** Three Adam steps (weight decay on) with fixed gradients on a fresh store; the final weights and moments. */
function adamRun(): { values: Float32Array[]; tensors: number[]; moved: number } {
  const params = new ParamStore(new Rng(4));
  params.matrix('w', 33, 70);
  params.matrix('u', 300, 300); // large enough for the threaded pass
  const rng = new Rng(5);
  const grads = new Map([...params.vars].map(([k, v]) => [k, randomTensor(v.shape, rng)]));
  const w0 = params.vars.get('w')!.dataSync().slice();
  const adam = new Adam(params, { lr: 1e-2, weightDecay: 1e-2 });
  const tensors: number[] = [];
  for (let i = 0; i < 3; i++) {
    adam.apply(grads);
    tensors.push(tf.memory().numTensors);
  }
  const st = adam.getState();
  const values = [...params.vars.values()].map((v) => v.dataSync() as Float32Array);
  for (const k of params.vars.keys()) values.push(st.m.get(k)!.values, st.v.get(k)!.values);
  const moved = Math.max(...values[0]!.map((x, i) => Math.abs(x - w0[i]!)));
  adam.dispose();
  tf.dispose([...grads.values(), ...params.vars.values()]);
  return { values, tensors, moved };
}

test('native Adam equals the composed tfjs Adam; tensor count flat', { skip }, async () => {
  await initEngine({ matmul: 'xnnpack' });
  const stock = adamRun();
  await initEngine({ matmul: 'native' });
  const native = adamRun();
  assert.equal(native.tensors[1], native.tensors[0]);
  assert.equal(native.tensors[2], native.tensors[0]);
  stock.values.forEach((s, j) => {
    const n = native.values[j]!;
    for (let i = 0; i < s.length; i++) assert.ok(Math.abs(n[i]! - s[i]!) <= 1e-5 * (1 + Math.abs(s[i]!)), `array ${j}[${i}]: ${n[i]} vs ${s[i]}`);
  });
  // the weights moved (three steps of lr 1e-2), so the comparison is not between untouched stores
  assert.ok(native.moved > 0.02, `moved ${native.moved}`);
});
