/**
 * Ops the models need that tfjs lacks or gets wrong, all differentiable through tfjs autograd.
 * Shapes: B batch, H heads, S query length, T key length.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { ATTENTION, ATTENTION_GRAD, type AttentionAttrs } from './attention-kernel.ts';
import { DROPOUT, type DropoutAttrs } from './dropout-kernel.ts';
import { GELU } from './gelu-kernel.ts';
import { LSTM_CELL } from './lstm-kernel.ts';

/**
 * Exact GELU, 0.5 x (1 + erf(x / sqrt 2)): the native kernel pair when the engine registered it
 * (gelu-kernel.ts), else tfjs ops (tfjs has no GELU op; Erf has a gradient).
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (tf.getKernel(GELU, tf.getBackend())) return tf.engine().runKernel(GELU, { x }) as tf.Tensor;
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/**
 * Softmax over the last axis where `keyMask` (1 = keep, broadcastable to `scores`, e.g. [B, 1, 1, T])
 * selects the keys. A row whose keys are all masked yields zeros, and gradients stay finite.
 *
 * Why not `where(mask, scores, -inf)`: tfjs's Select gradient multiplies by the mask, so -inf rows
 * give 0 * inf = NaN that spreads to every parameter. A finite additive bias (-1e9) keeps everything
 * finite; multiplying by "row has any key" zeroes the fully masked rows.
 */
export function maskedSoftmax(scores: tf.Tensor, keyMask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const bias = tf.mul(tf.sub(1, keyMask), -1e9);
    const p = tf.softmax(tf.add(scores, bias));
    const rowAny = tf.cast(tf.greater(tf.max(keyMask, -1, true), 0), 'float32');
    return tf.mul(p, rowAny);
  });
}

/** Inverted dropout with a seed drawn from the project's generator (deterministic per run; dropout-kernel.ts). */
export function dropout(x: tf.Tensor, rate: number, rng: Rng, training: boolean): tf.Tensor {
  if (!training || rate <= 0) return x;
  const attrs: DropoutAttrs = { rate, seed: rng.nextUint32() };
  return tf.engine().runKernel(DROPOUT, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * One masked LSTM step (engine/lstm-kernel.ts): z [B, 4H] gate pre-activations [i, f, g, o],
 * h, c [B, H] the state, m [B] 1 = step, 0 = carry the state -> [h' | c'] [B, 2H]. The kernel pair
 * when registered, else tfjs ops (the same function).
 */
export function lstmCell(z: tf.Tensor, h: tf.Tensor, c: tf.Tensor, m: tf.Tensor): tf.Tensor {
  if (tf.getKernel(LSTM_CELL, tf.getBackend())) return tf.engine().runKernel(LSTM_CELL, { z, h, c, m }) as tf.Tensor;
  return lstmCellOps(z, h, c, m);
}

/** `lstmCell` composed from tfjs ops. */
export function lstmCellOps(z: tf.Tensor, h: tf.Tensor, c: tf.Tensor, m: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [i, f, g, o] = tf.split(z, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const c2 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    const h2 = tf.mul(tf.sigmoid(o), tf.tanh(c2));
    const keep = tf.expandDims(m, -1);
    return tf.concat([tf.add(h, tf.mul(keep, tf.sub(h2, h))), tf.add(c, tf.mul(keep, tf.sub(c2, c)))], -1);
  });
}

/** x in the forward pass, no gradient in the backward pass (a regression target computed from the model itself). */
export function stopGradient(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args) => {
    const [t] = args as [tf.Tensor];
    return { value: tf.clone(t), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return f(x);
}

/**
 * PyTorch's nn.Linear default init drawn from `rng`: U(-l, l), l = 1 / sqrt(fanIn) (kaiming_uniform
 * with a = sqrt(5)). The published HARDY-MER code trains with it; Glorot's 3x larger variance for
 * square layers compounds through the residual expert stacks (first loss ~200 instead of ~2 at the
 * paper's size), which changes the training dynamics at the paper's learning rate.
 */
export function torchLinearInit(shape: [number, number], rng: Rng): tf.Tensor2D {
  const lim = 1 / Math.sqrt(shape[0]);
  const vals = new Float32Array(shape[0] * shape[1]);
  for (let i = 0; i < vals.length; i++) vals[i] = (rng.next() * 2 - 1) * lim;
  return tf.tensor2d(vals, shape);
}

/**
 * Row gather `x[rows]` ([M, D] -> [N, D]) whose gradient is `placeRows`, its adjoint. `rows` [N]
 * int32 are distinct row indices; `slots` [M] int32 give each of the M rows its index in `rows`,
 * or N when it is not picked. Written as a custom-gradient pair because tfjs's Gather gradient needs
 * UnsortedSegmentSum, a scatter-add that the wasm backend lacks; with distinct rows the adjoint is
 * itself a gather. The index tensors go through `save` so that backward still has them when the
 * forward ran inside a tf.tidy that has since ended.
 */
export function pickRows(x: tf.Tensor2D, rows: tf.Tensor1D, slots: tf.Tensor1D): tf.Tensor2D {
  return rowOp(x, rows, slots, 'pick');
}

/** The adjoint of `pickRows`: y [N, D] back to [M, D], row rows[n] = y[n], zeros in rows not picked. */
export function placeRows(y: tf.Tensor2D, rows: tf.Tensor1D, slots: tf.Tensor1D): tf.Tensor2D {
  return rowOp(y, rows, slots, 'place');
}

function rowOp(x: tf.Tensor2D, rows: tf.Tensor1D, slots: tf.Tensor1D, op: 'pick' | 'place'): tf.Tensor2D {
  const f = tf.customGrad((...args) => {
    const [t, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([rows, slots]);
    const value = op === 'pick' ? tf.gather(t, rows) : tf.scatterND(tf.reshape(rows, [-1, 1]), t, [slots.shape[0], t.shape[1]]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const [r, s] = saved as [tf.Tensor1D, tf.Tensor1D];
      return rowOp(dy as tf.Tensor2D, r, s, op === 'pick' ? 'place' : 'pick');
    };
    return { value, gradFunc };
  });
  return f(x) as tf.Tensor2D;
}

/**
 * Where the N real utterances of a [B, S] batch sit (model/tokens.ts implements it): rows in
 * dialogue order, dialogue b owning rows starts[b]..starts[b+1].
 */
export interface RowLayout {
  readonly B: number;
  readonly S: number;
  readonly N: number;
  /** [B + 1] */
  readonly starts: number[];
  /** [B, S, ...rest] -> [N, ...rest] */
  toRows(x: tf.Tensor): tf.Tensor;
  /** [N, ...rest] -> [B, S, ...rest], zeros at padding */
  toGrid(y: tf.Tensor): tf.Tensor;
}

/**
 * Scaled dot-product attention with `heads` heads across the utterances of each dialogue:
 * q, k, v [N, D] rows of L, keyMask [N] (1 = the key may be attended) -> [N, D], heads
 * concatenated. A query whose keys are all masked gets zeros. The native kernel pair when the engine
 * registered it (attention-kernel.ts), else tfjs ops on the padded grid.
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, keyMask: tf.Tensor, L: RowLayout, heads: number): tf.Tensor {
  const attrs: AttentionAttrs = { heads, scale: 1 / Math.sqrt(q.shape[1]! / heads), starts: L.starts };
  if (!tf.getKernel(ATTENTION, tf.getBackend())) return attentionOps(q, k, v, keyMask, L, attrs);
  const named = attrs as unknown as tf.NamedAttrMap;
  const f = tf.customGrad((...args) => {
    const [qt, kt, vt, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [out, p] = tf.engine().runKernel(ATTENTION, { q: qt, k: kt, v: vt, keyMask }, named) as tf.Tensor[];
    save([qt, kt, vt, p!]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sq, sk, sv, sp] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      return tf.engine().runKernel(ATTENTION_GRAD, { dy, q: sq, k: sk, v: sv, p: sp }, named) as tf.Tensor[];
    };
    return { value: out!, gradFunc };
  });
  return f(q, k, v);
}

/** `attention` through tfjs ops on the [B, H, S, S] grid (exported for the parity test). */
export function attentionOps(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, keyMask: tf.Tensor, L: RowLayout, attrs: AttentionAttrs): tf.Tensor {
  const { B, S } = L;
  const H = attrs.heads;
  const D = q.shape[1]!;
  const split = (x: tf.Tensor): tf.Tensor => tf.transpose(tf.reshape(L.toGrid(x), [B, S, H, D / H]), [0, 2, 1, 3]); // [B, H, S, dh]
  const scores = tf.mul(tf.matMul(split(q), split(k), false, true), attrs.scale); // [B, H, S, S]
  const p = maskedSoftmax(scores, tf.reshape(L.toGrid(keyMask), [B, 1, 1, S]));
  const out = tf.matMul(p, split(v)); // [B, H, S, dh]
  return L.toRows(tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B, S, D]));
}
