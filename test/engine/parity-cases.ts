/**
 * Gradient parity with PyTorch: the computation of scripts/make_parity_fixture.py (masked 2-head
 * attention with a fully masked dialogue, residual GELU MLP, classifier, masked cross-entropy)
 * rebuilt with the engine's ops; loss and every gradient must match the recorded ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initEngine, type MatmulPath } from '../../src/engine/backend.ts';
import { gelu, maskedSoftmax } from '../../src/engine/ops.ts';

interface Arr { shape: number[]; data: number[] }
interface Fixture {
  config: { B: number; S: number; D: number; H: number; C: number };
  inputs: { x: Arr; keyMask: Arr; umask: Arr; labels: Arr };
  params: Record<string, Arr>;
  loss: number;
  grads: Record<string, Arr>;
}

const FIXTURE = new URL('../../fixtures/parity/attention_mlp_ce.json', import.meta.url);
const TOL = 1e-4;

const tensor = (a: Arr): tf.Tensor => tf.tensor(a.data, a.shape, 'float32');

/** The fixture's forward pass; `p` holds the weights ([in, out]) and x. */
function loss(f: Fixture, p: Record<string, tf.Tensor>): tf.Scalar {
  const { B, S, D, H, C } = f.config;
  const dh = D / H;
  const keyMask = tensor(f.inputs.keyMask); // [B, S]
  const umask = tensor(f.inputs.umask); // [B, S]
  const labels = tf.tensor(f.inputs.labels.data, f.inputs.labels.shape, 'int32');
  const lin = (t: tf.Tensor, name: string, out: number): tf.Tensor =>
    tf.reshape(tf.add(tf.matMul(tf.reshape(t, [-1, t.shape.at(-1)!]), p[`${name}.W`]!), p[`${name}.b`]!), [B, S, out]);
  const split = (t: tf.Tensor): tf.Tensor => tf.transpose(tf.reshape(t, [B, S, H, dh]), [0, 2, 1, 3]); // [B, H, S, dh]
  const x = p.x!;
  const q = split(lin(x, 'q', D));
  const k = split(lin(x, 'k', D));
  const v = split(lin(x, 'v', D));
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)); // [B, H, S, S]
  const attn = maskedSoftmax(scores, tf.reshape(keyMask, [B, 1, 1, S]));
  const a = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [B, S, D]);
  const y = tf.add(tf.add(x, a), lin(gelu(lin(a, 'fc1', D)), 'fc2', D));
  const logits = lin(y, 'cls', C);
  const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, C)), -1)); // [B, S]
  return tf.div(tf.sum(tf.mul(nll, umask)), tf.sum(umask));
}

/** max |got - ref| / max(|ref|_inf, 1e-2): relative to the gradient's scale; structurally zero gradients (k.b) must stay below 1e-6. */
function scaledErr(got: ArrayLike<number>, ref: number[]): number {
  let err = 0;
  let scale = 1e-2;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / scale;
}

export function paritySuite(path: MatmulPath, skip: string | false = false): void {
  test(`${path}: loss and all gradients match PyTorch within ${TOL} relative (fully masked row included)`, { skip }, async () => {
    await initEngine({ matmul: path });
    const f = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
    const names = [...Object.keys(f.params), 'x'];
    tf.tidy(() => {
      const values = names.map((n) => tensor(n === 'x' ? f.inputs.x : f.params[n]!));
      const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) =>
        loss(f, Object.fromEntries(names.map((n, i) => [n, xs[i]!]))),
      )(values);
      const l = value.dataSync()[0]!;
      assert.ok(Math.abs(l - f.loss) <= TOL * Math.abs(f.loss), `loss ${l} vs torch ${f.loss}`);
      names.forEach((n, i) => {
        const g = grads[i]!;
        assert.deepEqual(g.shape, f.grads[n]!.shape, n);
        const err = scaledErr(g.dataSync(), f.grads[n]!.data);
        assert.ok(err <= TOL, `gradient of ${n}: relative error ${err}`);
      });
    });
  });
}
