/**
 * Masked multi-head attention across the S utterances of a dialogue (docs/method.md §3).
 * Shapes: B dialogues, S utterances, D hidden, H heads, dh = D / H; N real utterances (rows, see
 * tokens.ts). The projections run on rows; the attention itself is engine/ops.attention.
 */
import * as tf from '@tensorflow/tfjs';
import { attention } from '../engine/ops.ts';
import { drop, GeluMlp, Linear, type Ctx } from './layers.ts';
import type { ParamStore } from './params.ts';
import type { TokenLayout } from './tokens.ts';

/**
 * Scaled dot-product attention with H heads; q from `xq`, k and v from `xkv`; `keyMask` [N]
 * (1 = the key may be attended). A query whose keys are all masked gets zeros. Heads concatenated,
 * no output projection.
 */
export class MultiHeadAttention {
  private readonly q: Linear;
  private readonly k: Linear;
  private readonly v: Linear;

  constructor(params: ParamStore, name: string, dim: number, private readonly heads: number) {
    if (dim % heads !== 0) throw new Error(`hidden size ${dim} is not divisible by ${heads} heads`);
    this.q = new Linear(params, `${name}.q`, dim, dim);
    this.k = new Linear(params, `${name}.k`, dim, dim);
    this.v = new Linear(params, `${name}.v`, dim, dim);
  }

  /** xq, xkv [N, D] rows of layout L, keyMask [N] -> [N, D] */
  apply(xq: tf.Tensor, xkv: tf.Tensor, keyMask: tf.Tensor, L: TokenLayout): tf.Tensor {
    return attention(this.q.apply(xq), this.k.apply(xkv), this.v.apply(xkv), keyMask, L, this.heads);
  }
}

/** A'(z) = A(z) + MLP(A(z)): masked self-attention followed by the GELU MLP (docs/method.md §3). */
export class AttentionBlock {
  private readonly attn: MultiHeadAttention;
  private readonly mlp: GeluMlp;

  constructor(params: ParamStore, name: string, dim: number, heads: number, dropout: number) {
    this.attn = new MultiHeadAttention(params, `${name}.attn`, dim, heads);
    this.mlp = new GeluMlp(params, `${name}.mlp`, dim, dropout);
  }

  /** z [N, D] rows of L, mask [N] -> [N, D] */
  apply(z: tf.Tensor, mask: tf.Tensor, L: TokenLayout, ctx: Ctx): tf.Tensor {
    const a = this.attn.apply(z, z, mask, L);
    return tf.add(a, this.mlp.apply(a, ctx));
  }
}

/**
 * CA(q_from -> kv_from): queries from one modality, keys/values from another, key mask = OR of
 * the two availabilities, output projection Linear + Dropout, then x + MLP(x) (docs/method.md §3).
 */
export class CrossAttention {
  private readonly attn: MultiHeadAttention;
  private readonly proj: Linear;
  private readonly mlp: GeluMlp;

  constructor(params: ParamStore, name: string, dim: number, heads: number, private readonly p: number) {
    this.attn = new MultiHeadAttention(params, `${name}.attn`, dim, heads);
    this.proj = new Linear(params, `${name}.proj`, dim, dim);
    this.mlp = new GeluMlp(params, `${name}.mlp`, dim, p);
  }

  /** qFrom, kvFrom [N, D] rows of L; maskQ, maskKv [N] -> [N, D] */
  apply(qFrom: tf.Tensor, kvFrom: tf.Tensor, maskQ: tf.Tensor, maskKv: tf.Tensor, L: TokenLayout, ctx: Ctx): tf.Tensor {
    const keyMask = tf.maximum(maskQ, maskKv);
    const x = drop(this.proj.apply(this.attn.apply(qFrom, kvFrom, keyMask, L)), this.p, ctx);
    return tf.add(x, this.mlp.apply(x, ctx));
  }
}
