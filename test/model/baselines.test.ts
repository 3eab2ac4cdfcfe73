/**
 * The layers of the MMIN and GCNet baselines: recurrences, dialogue graphs and their convolutions,
 * the stopped gradient and MMIN's frozen targets. (Whole-model gradients and mask invariants of
 * both models run with the others in models.test.ts.)
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../src/engine/backend.ts';
import { stopGradient } from '../../src/engine/ops.ts';
import { createModel } from '../../src/model/factory.ts';
import { DialogueGraph, GraphConv, RelationalGraphConv } from '../../src/model/graph.ts';
import { batchInputs, batchLabels, disposeInputs } from '../../src/model/inputs.ts';
import { objective } from '../../src/model/objective.ts';
import { ParamStore } from '../../src/model/params.ts';
import { BiLstm, Lstm } from '../../src/model/recurrent.ts';
import { Adam } from '../../src/train/adam.ts';
import { stepOn } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomBatch, tinyConfig } from '../support/model-batch.ts';
import { checkModule } from './gradcheck.ts';
import { randomVariable } from '../support/random.ts';

const B = 2;
const S = 4;
/** Dialogue 0 has 4 utterances, dialogue 1 has 2 (two padding slots). */
const UMASK = [1, 1, 1, 1, 1, 1, 0, 0];
/** Speakers (0 = F, 1 = M). */
const SPK = [0, 1, 1, 0, 1, 0, 0, 0];
const umask = (): tf.Tensor2D => tf.tensor2d(UMASK, [B, S]);

describe('baselines: gradient checks', () => {
  before(async () => {
    await initEngine();
  });

  it('Lstm, both directions, with padding', () => {
    for (const reverse of [false, true]) {
      const p = new ParamStore(new Rng(1));
      const lstm = new Lstm(p, 'l', 3, 4);
      const x = randomVariable([B, S, 3], new Rng(2));
      const m = umask();
      checkModule(p, { x }, () => lstm.apply(x, m, reverse));
    }
  });

  it('RelationalGraphConv (temporal) and GraphConv (speaker)', () => {
    const p = new ParamStore(new Rng(3));
    const x = randomVariable([B, S, 3], new Rng(4));
    const temporal = new DialogueGraph('temporal', B, S, UMASK, SPK, 2, 1);
    const rgcn = new RelationalGraphConv(p, 'r', 3, 5, 3);
    checkModule(p, { x }, () => rgcn.apply(x, temporal, temporal.meanWeights()));
    const q = new ParamStore(new Rng(5));
    const speaker = new DialogueGraph('speaker', B, S, UMASK, SPK, 1, 2);
    const conv = new GraphConv(q, 'g', 3, 2);
    checkModule(q, { x }, () => conv.apply(x, speaker, speaker.sumWeights()));
  });

  it('stopGradient passes the value and no gradient', () => {
    const x = randomVariable([2, 3], new Rng(6));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.add(tf.square(stopGradient(x)), x)) as tf.Scalar, [x]);
    const g = grads[x.name]!.dataSync();
    assert.ok([...g].every((v) => v === 1), 'only the un-stopped term contributes');
    const want = [...x.dataSync()].reduce((a, v) => a + v * v + v, 0);
    assert.ok(Math.abs(value.dataSync()[0]! - want) < 1e-4);
  });
});

describe('baselines: dialogue graphs', () => {
  it('edges, relation types and weights by hand (window 1 past, 1 future)', () => {
    const t = new DialogueGraph('temporal', B, S, UMASK, SPK, 1, 1);
    const R = 3;
    const O = 3; // offsets -1, 0, +1
    const edge = (b: number, s: number, r: number, o: number): number => t.edges[((b * S + s) * R + r) * O + (o + 1)]!;
    // utterance 0 of dialogue 0: self and future; no past
    assert.deepEqual([edge(0, 0, 0, -1), edge(0, 0, 1, 0), edge(0, 0, 2, 1)], [0, 1, 1]);
    // utterance 3 (last of dialogue 0): past and self; no future
    assert.deepEqual([edge(0, 3, 0, -1), edge(0, 3, 1, 0), edge(0, 3, 2, 1)], [1, 1, 0]);
    // dialogue 1, utterance 1: its future is padding; padding has no edges at all
    assert.deepEqual([edge(1, 1, 0, -1), edge(1, 1, 1, 0), edge(1, 1, 2, 1)], [1, 1, 0]);
    assert.equal(t.edges.slice((1 * S + 2) * R * O).reduce((a, v) => a + v, 0), 0);

    // speaker graph: type 2 speaker(j) + speaker(i). Utterance 1 (M) hears 0 (F, type 1), itself
    // and 2 (M, type 3): relation 3 has two edges, so mean weights 1/2 each.
    const sp = new DialogueGraph('speaker', B, S, UMASK, SPK, 1, 1);
    const w = sp.meanWeights().arraySync();
    assert.deepEqual(w[1]![1], [1, 0, 0]);
    assert.deepEqual(w[1]![3], [0, 0.5, 0.5]);
    assert.deepEqual(w[1]![0], [0, 0, 0]);
    assert.deepEqual(sp.sumWeights().arraySync()[1]![0], [1, 1, 1]);
  });

  it('RelationalGraphConv equals the per-node sum written out', () => {
    const p = new ParamStore(new Rng(7));
    const D = 3;
    const H = 2;
    const g = new DialogueGraph('temporal', B, S, UMASK, SPK, 2, 2);
    const conv = new RelationalGraphConv(p, 'r', D, H, 3);
    const x = randomVariable([B, S, D], new Rng(8));
    const got = conv.apply(x, g, g.meanWeights()).arraySync() as number[][][];
    const X = x.arraySync() as number[][][];
    const W = p.getWeights();
    const root = W.get('r.root.W')!.values;
    const rel = W.get('r.rel.W')!.values; // [3 D, H]
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < S; i++) {
        if (!UMASK[b * S + i]) continue;
        for (let h = 0; h < H; h++) {
          let want = 0;
          for (let d = 0; d < D; d++) want += X[b]![i]![d]! * root[d * H + h]!;
          for (let r = 0; r < 3; r++) {
            const nbs = [];
            for (let j = Math.max(0, i - 2); j <= Math.min(S - 1, i + 2); j++) if (UMASK[b * S + j] && Math.sign(j - i) + 1 === r) nbs.push(j);
            for (const j of nbs) for (let d = 0; d < D; d++) want += (X[b]![j]![d]! * rel[(r * D + d) * H + h]!) / nbs.length;
          }
          assert.ok(Math.abs(got[b]![i]![h]! - want) < 1e-5, `(${b}, ${i}, ${h}): ${got[b]![i]![h]} vs ${want}`);
        }
      }
    }
  });
});

describe('baselines: recurrence masks', () => {
  before(async () => {
    await initEngine();
  });

  it('BiLstm: a dialogue gives the same outputs alone as padded beside a longer one, whatever the padding holds', () => {
    const p = new ParamStore(new Rng(9));
    const lstm = new BiLstm(p, 'b', 3, 4, 2, 0);
    const w = p.getWeights();
    for (const d of w.values()) for (let i = 0; i < d.values.length; i++) d.values[i] = d.values[i]! + 0.3; // non-zero biases
    p.setWeights(w);
    const xs = randomVariable([B, S, 3], new Rng(10)).arraySync() as number[][][];
    xs[1]![2] = [40, -40, 40]; // padding of dialogue 1
    xs[1]![3] = [9, 9, 9];
    const both = lstm.apply(tf.tensor3d(xs), umask(), { training: false }).arraySync() as number[][][];
    const alone = lstm.apply(tf.tensor3d([xs[1]!.slice(0, 2)]), tf.tensor2d([[1, 1]]), { training: false }).arraySync() as number[][][];
    for (let s = 0; s < 2; s++) for (let k = 0; k < 8; k++) assert.ok(Math.abs(both[1]![s]![k]! - alone[0]![s]![k]!) < 1e-5, `(${s}, ${k})`);
    // the backward half of step 0 reads step 1: change it and the first output changes
    const xs2 = structuredClone(xs);
    xs2[1]![1] = [1, 2, 3];
    const moved = lstm.apply(tf.tensor3d(xs2), umask(), { training: false }).arraySync() as number[][][];
    assert.ok(Math.abs(moved[1]![0]![7]! - both[1]![0]![7]!) > 1e-4);
  });
});

describe('baselines: MMIN targets', () => {
  before(async () => {
    await initEngine();
  });

  it('stage 1 has no unimodal heads; the switch freezes the encoders as targets, which stage-2 steps never move', () => {
    const cfg = tinyConfig();
    const model = createModel('mmin', cfg, 3);
    const batch = randomBatch(cfg, [3, 2], 5, (b, s) => [1, (b + s) % 2, 1]);
    const inputs = batchInputs(batch, true);
    tf.tidy(() => assert.equal(model.forward(inputs, { stage: 1, training: false }).unimodal, undefined));
    const adam = new Adam(model.params, { lr: 1e-2, weightDecay: 0 });
    const labels = batchLabels(batch);
    stepOn(model, adam, () => objective(model, inputs, labels, { stage: 1, rng: new Rng(1) }));
    model.beginStage2!();
    const w0 = model.params.getWeights();
    assert.deepEqual(w0.get('target.a.W')!.values, w0.get('proj.a.W')!.values);
    const masked = batchInputs(batch);
    for (let i = 0; i < 3; i++) stepOn(model, adam, () => objective(model, masked, labels, { stage: 2, rng: new Rng(2) }));
    const w1 = model.params.getWeights();
    assert.deepEqual(w1.get('target.a.W')!.values, w0.get('target.a.W')!.values);
    assert.notDeepEqual(w1.get('proj.a.W')!.values, w0.get('proj.a.W')!.values);
    // the imagination terms are in the training loss and absent from evaluation
    tf.tidy(() => assert.equal(model.forward(masked, { stage: 2, training: false }).aux, undefined));
    adam.dispose();
    disposeInputs(inputs);
    disposeInputs(masked);
    model.dispose();
  });
});
