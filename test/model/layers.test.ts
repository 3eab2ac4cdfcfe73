import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../src/engine/backend.ts';
import { AttentionBlock, CrossAttention, MultiHeadAttention } from '../../src/model/attention.ts';
import { Decoder, ExpertStack, FusionHead, Projections } from '../../src/model/backbone.ts';
import { GeluMlp, Linear, ReluMlp, type Ctx } from '../../src/model/layers.ts';
import { ParamStore } from '../../src/model/params.ts';
import { TokenLayout } from '../../src/model/tokens.ts';
import { Rng } from '../../src/util/rng.ts';
import { tinyConfig } from '../support/model-batch.ts';
import { checkModule as check } from './gradcheck.ts';
import { randomVariable } from '../support/random.ts';

const B = 3;
const S = 4;
const D = 8;
const evalCtx: Ctx = { training: false };
// Training mode with a fresh generator on every call: the same dropout masks each evaluation, so
// finite differences see the same function autograd differentiated.
const dropCtx = (): Ctx => ({ training: true, rng: new Rng(11) });

/** Dialogue lengths 4, 3, 2: N = 9 real utterances, 3 padding slots. */
const UMASK = [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0];
const N = 9;
/** Created in `before` (tensors need the engine). */
let L: TokenLayout;

/** Key masks [B, S]: dialogue 0 complete, dialogue 1 partly masked, dialogue 2 fully masked. */
function keyMask(): tf.Tensor {
  return tf.tensor2d([1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0], [B, S]);
}

/** The same as rows [N] of L, as the layers take it. */
const keyRows = (): tf.Tensor => L.toRows(keyMask());

describe('layers: finite-difference gradient checks', () => {
  before(async () => {
    await initEngine();
    L = new TokenLayout(B, S, UMASK);
  });

  it('Linear', () => {
    const p = new ParamStore(new Rng(1));
    const lin = new Linear(p, 'l', 5, 3);
    const x = randomVariable([B, S, 5], new Rng(2));
    check(p, { x }, () => lin.apply(x));
  });

  it('GeluMlp, with dropout on', () => {
    const p = new ParamStore(new Rng(1));
    const mlp = new GeluMlp(p, 'm', D, 0.3);
    const x = randomVariable([B, S, D], new Rng(2));
    check(p, { x }, () => mlp.apply(x, dropCtx()));
  });

  it('ReluMlp', () => {
    const p = new ParamStore(new Rng(1));
    const mlp = new ReluMlp(p, 'm', D, 6, 3);
    const x = randomVariable([B, S, D], new Rng(2));
    check(p, { x }, () => mlp.apply(x), 1e-3);
  });

  it('MultiHeadAttention with a fully masked dialogue', () => {
    const p = new ParamStore(new Rng(1));
    const att = new MultiHeadAttention(p, 'att', D, 2);
    const x = randomVariable([N, D], new Rng(2));
    const mask = keyRows();
    check(p, { x }, () => att.apply(x, x, mask, L));
  });

  it('AttentionBlock A\'(z) = A(z) + MLP(A(z))', () => {
    const p = new ParamStore(new Rng(1));
    const blk = new AttentionBlock(p, 'blk', D, 2, 0.2);
    const x = randomVariable([N, D], new Rng(2));
    const mask = keyRows();
    check(p, { x }, () => blk.apply(x, mask, L, dropCtx()));
  });

  it('CrossAttention with OR-mask', () => {
    const p = new ParamStore(new Rng(1));
    const ca = new CrossAttention(p, 'ca', D, 2, 0.2);
    const q = randomVariable([N, D], new Rng(2));
    const kv = randomVariable([N, D], new Rng(3));
    const mq = keyRows();
    const mkv = L.toRows(tf.tensor2d([0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0], [B, S]));
    check(p, { q, kv }, () => ca.apply(q, kv, mq, mkv, L, dropCtx()));
  });

  it('ExpertStack: single expert and router-weighted mixing', () => {
    const cfg = tinyConfig({ dropout: 0.2 });
    const p = new ParamStore(new Rng(1));
    const ex = new ExpertStack(p, cfg);
    const z = randomVariable([N, D], new Rng(2));
    const w = randomVariable([N, 3], new Rng(4));
    const mask = keyRows();
    check(p, { z }, () => ex.run('t', z, mask, L, dropCtx()));
    check(p, { z, w }, () => ex.mix(z, mask, L, dropCtx(), tf.softmax(w)));
  });

  it('Projections, FusionHead and Decoder', () => {
    const cfg = tinyConfig();
    const p = new ParamStore(new Rng(1));
    const proj = new Projections(p, cfg);
    const fusion = new FusionHead(p, cfg);
    const dec = new Decoder(p, cfg);
    const xs = { a: randomVariable([B, S, 5], new Rng(2)), t: randomVariable([B, S, 6], new Rng(3)), v: randomVariable([B, S, 4], new Rng(4)) };
    // The inputs come as the [B, S] grid, so this also checks the gradient of the grid -> rows gather.
    const rowMasks = { a: keyRows(), t: tf.ones([N]), v: tf.zeros([N]) };
    check(p, xs, () => {
      const h = proj.apply(xs, rowMasks, L, evalCtx);
      const { u, logits } = fusion.apply(h, rowMasks, evalCtx);
      return tf.concat([logits, dec.apply(u)], -1);
    }, 1e-3);
  });
});

describe('attention masking', () => {
  before(async () => {
    await initEngine();
    L = new TokenLayout(B, S, UMASK);
  });

  it('a fully masked row gives zeros and finite gradients; masked keys do not matter', () => {
    const p = new ParamStore(new Rng(1));
    const att = new MultiHeadAttention(p, 'att', D, 2);
    const x = randomVariable([N, D], new Rng(2));
    const gridMask = keyMask();
    const mask = L.toRows(gridMask);
    const grid = (t: tf.Tensor): number[][][] => tf.tidy(() => L.toGrid(t).arraySync() as number[][][]);
    const vals = grid(att.apply(x, x, mask, L));
    for (const row of vals[2]!) for (const e of row) assert.equal(e, 0);
    const { grads } = tf.variableGrads(() => tf.sum(att.apply(x, x, mask, L)) as tf.Scalar);
    for (const g of Object.values(grads)) assert.ok(g.dataSync().every(Number.isFinite));
    // Changing the values at masked key positions leaves every output unchanged.
    const x2 = tf.tidy(() => {
      const keep = tf.reshape(mask, [N, 1]);
      return tf.add(tf.mul(x, keep), tf.mul(tf.sub(1, keep), 100));
    });
    const out2 = grid(att.apply(x2, x2, mask, L));
    for (let b = 0; b < 2; b++)
      for (let s = 0; s < S; s++)
        if ((gridMask.arraySync() as number[][])[b]![s]) for (let j = 0; j < D; j++) assert.ok(Math.abs(out2[b]![s]![j]! - vals[b]![s]![j]!) < 1e-5);
  });
});
