/**
 * Adam with L2 penalty, PyTorch semantics (torch.optim.Adam with weight_decay): the gradient gets
 * weightDecay * w added, moments are bias-corrected, eps is added outside the square root.
 * Hand-written (rather than tf.train.adam) so its whole state is named, plain and checkpointable.
 */
import * as tf from '@tensorflow/tfjs';
import { adamUpdate } from '../engine/native-kernels.ts';
import type { ParamStore, WeightData } from '../model/params.ts';

export interface AdamOptions {
  lr: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export interface AdamState {
  step: number;
  m: Map<string, WeightData>;
  v: Map<string, WeightData>;
}

export class Adam {
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;

  constructor(private readonly params: ParamStore, readonly opts: AdamOptions) {
    this.b1 = opts.beta1 ?? 0.9;
    this.b2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  /** One update from gradients keyed by parameter name; parameters without a gradient are left alone. */
  apply(grads: Map<string, tf.Tensor>): void {
    this.step++;
    const bc1 = 1 - this.b1 ** this.step;
    const bc2 = 1 - this.b2 ** this.step;
    const { lr, weightDecay } = this.opts;
    const hyper = { lr, beta1: this.b1, beta2: this.b2, eps: this.eps, weightDecay, bc1, bc2 };
    tf.tidy(() => {
      for (const [name, g0] of grads) {
        const w = this.params.vars.get(name)!;
        const m = this.moment(this.m, name, w);
        const v = this.moment(this.v, name, w);
        // One native pass when the engine registered it (same update, float32), else tfjs ops.
        const fused = adamUpdate(w, g0, m, v, hyper);
        if (fused) {
          [w, m, v].forEach((t, i) => t.assign(fused[i]!));
          continue;
        }
        const g = weightDecay > 0 ? tf.add(g0, tf.mul(w, weightDecay)) : g0;
        m.assign(tf.add(tf.mul(m, this.b1), tf.mul(g, 1 - this.b1)));
        v.assign(tf.add(tf.mul(v, this.b2), tf.mul(tf.square(g), 1 - this.b2)));
        const denom = tf.add(tf.sqrt(tf.div(v, bc2)), this.eps);
        w.assign(tf.sub(w, tf.mul(tf.div(m, denom), lr / bc1)));
      }
    });
  }

  private moment(store: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let t = store.get(name);
    if (!t) {
      t = tf.variable(tf.zerosLike(like), false);
      store.set(name, t);
    }
    return t;
  }

  getState(): AdamState {
    const copy = (store: Map<string, tf.Variable>): Map<string, WeightData> =>
      new Map([...store].map(([k, t]) => [k, { shape: [...t.shape], values: t.dataSync() as Float32Array }]));
    return { step: this.step, m: copy(this.m), v: copy(this.v) };
  }

  setState(state: AdamState): void {
    this.disposeMoments();
    this.step = state.step;
    for (const [src, dst] of [
      [state.m, this.m],
      [state.v, this.v],
    ] as const) {
      for (const [k, w] of src) dst.set(k, tf.variable(tf.tensor(w.values, w.shape), false));
    }
  }

  private disposeMoments(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }

  dispose(): void {
    this.disposeMoments();
  }
}
