/**
 * LSTMs over the utterances of each dialogue, on the padded [B, S, ·] grid (a recurrence needs the
 * order, so rows would buy nothing here). Shapes: B dialogues, S steps, H hidden per direction.
 *
 *   [i, f, g, o] = x_t W_x + b + h_{t-1} W_h          [B, 4H]
 *   c = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g),  h = sigmoid(o) tanh(c)
 *   at padding (mask 0) the state is carried unchanged: (h_t, c_t) = (h_{t-1}, c_{t-1}).
 * One step is one engine kernel (engine/lstm-kernel.ts) after the product h W_h.
 *
 * The backward direction runs the forward recurrence from the last step of the grid to the first: a
 * dialogue shorter than S then starts with padding, where the carried state stays exactly zero, so its first
 * real step (its last utterance) starts from the zero state as with a packed sequence, and no
 * utterance ever sees another dialogue or the padding.
 */
import * as tf from '@tensorflow/tfjs';
import { lstmCell } from '../engine/ops.ts';
import { drop, Linear, type Ctx } from './layers.ts';
import type { ParamStore } from './params.ts';

export class Lstm {
  private readonly inProj: Linear; // W_x, b: [in, 4H]
  private readonly Wh: tf.Variable; // [H, 4H]

  constructor(params: ParamStore, name: string, inDim: number, readonly hidden: number) {
    this.inProj = new Linear(params, `${name}.x`, inDim, 4 * hidden);
    this.Wh = params.matrix(`${name}.h.W`, hidden, 4 * hidden);
  }

  /** x [B, S, in], mask [B, S] -> [B, S, H]; `reverse` runs from the last step to the first. */
  apply(x: tf.Tensor, mask: tf.Tensor, reverse = false): tf.Tensor {
    const [B, S] = mask.shape as [number, number];
    const H = this.hidden;
    const xw = tf.unstack(this.inProj.apply(x), 1); // S x [B, 4H], one product for all steps
    const keep = tf.unstack(mask, 1); // S x [B]
    let h: tf.Tensor = tf.zeros([B, H]);
    let c: tf.Tensor = tf.zeros([B, H]);
    // Visiting the steps backwards instead of reversing x and y: the same operations in the same
    // order, without two copies of the grid (and their two in the backward pass).
    const out = new Array<tf.Tensor>(S);
    for (let i = 0; i < S; i++) {
      const t = reverse ? S - 1 - i : i;
      const hc = lstmCell(tf.add(xw[t]!, tf.matMul(h, this.Wh)), h, c, keep[t]!);
      [h, c] = tf.split(hc, 2, -1) as [tf.Tensor, tf.Tensor];
      out[t] = h;
    }
    return tf.stack(out, 1);
  }
}

/** Stacked bidirectional LSTM: each layer's output is [forward; backward] [B, S, 2H]; dropout between layers. */
export class BiLstm {
  private readonly layers: { fwd: Lstm; bwd: Lstm }[] = [];

  constructor(params: ParamStore, name: string, inDim: number, readonly hidden: number, depth: number, private readonly p: number) {
    for (let l = 0; l < depth; l++) {
      const d = l === 0 ? inDim : 2 * hidden;
      this.layers.push({ fwd: new Lstm(params, `${name}.l${l}.fwd`, d, hidden), bwd: new Lstm(params, `${name}.l${l}.bwd`, d, hidden) });
    }
  }

  /** x [B, S, in], mask [B, S] -> [B, S, 2H] */
  apply(x: tf.Tensor, mask: tf.Tensor, ctx: Ctx): tf.Tensor {
    this.layers.forEach(({ fwd, bwd }, l) => {
      if (l > 0) x = drop(x, this.p, ctx);
      x = tf.concat([fwd.apply(x, mask), bwd.apply(x, mask, true)], -1);
    });
    return x;
  }
}
