/**
 * Basic layers: linear, dropout in a forward context, and the two-layer MLPs the blocks use.
 * All work on any leading shape [..., in] by flattening to one matrix product (the fast path).
 */
import * as tf from '@tensorflow/tfjs';
import { dropout, gelu } from '../engine/ops.ts';
import type { Rng } from '../util/rng.ts';
import type { ParamStore } from './params.ts';

/** What a forward pass needs besides its inputs: dropout on/off and where dropout seeds come from. */
export interface Ctx {
  training: boolean;
  /** Required when `training` (dropout seeds); ignored otherwise. */
  rng?: Rng;
}

export function drop(x: tf.Tensor, rate: number, ctx: Ctx): tf.Tensor {
  if (!ctx.training || rate <= 0) return x;
  if (!ctx.rng) throw new Error('training forward pass needs an rng for dropout');
  return dropout(x, rate, ctx.rng, true);
}

export class Linear {
  readonly W: tf.Variable; // [in, out]
  readonly b: tf.Variable; // [out]

  constructor(params: ParamStore, name: string, readonly inDim: number, readonly outDim: number) {
    this.W = params.matrix(`${name}.W`, inDim, outDim);
    this.b = params.zeros(`${name}.b`, outDim);
  }

  /**
   * [..., in] -> [..., out]. One fused product + bias (+ ReLU) kernel: under autograd that keeps one
   * output alive for backward instead of one per op.
   */
  apply(x: tf.Tensor, activation: 'linear' | 'relu' = 'linear'): tf.Tensor {
    const flat = x.rank === 2; // the models' rows: no reshape kernels around the product
    const a = (flat ? x : tf.reshape(x, [-1, this.inDim])) as tf.Tensor2D;
    const y = tf.fused.matMul({ a, b: this.W as tf.Tensor2D, bias: this.b, activation });
    return flat ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.outDim]);
  }
}

/** The block MLP of docs/method.md §3: Linear(D, D) -> GELU -> Dropout -> Linear(D, D) -> Dropout. */
export class GeluMlp {
  private readonly l1: Linear;
  private readonly l2: Linear;

  constructor(params: ParamStore, name: string, dim: number, private readonly p: number) {
    this.l1 = new Linear(params, `${name}.fc1`, dim, dim);
    this.l2 = new Linear(params, `${name}.fc2`, dim, dim);
  }

  apply(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return drop(this.l2.apply(drop(gelu(this.l1.apply(x)), this.p, ctx)), this.p, ctx);
  }
}

/** Linear -> ReLU -> Linear, no dropout (the MoMKE router and the decoder). */
export class ReluMlp {
  private readonly l1: Linear;
  private readonly l2: Linear;

  constructor(params: ParamStore, name: string, inDim: number, hidden: number, outDim: number) {
    this.l1 = new Linear(params, `${name}.fc1`, inDim, hidden);
    this.l2 = new Linear(params, `${name}.fc2`, hidden, outDim);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return this.l2.apply(this.l1.apply(x, 'relu'));
  }
}
