/**
 * Pieces the three models share (docs/method.md §3): input projections, the expert stack, the fusion head
 * with its stage-1 unimodal heads, and the reconstruction decoder.
 *
 * Weight names are grouped by modality (`proj.a.`, `expert.a.`, `uni.a.`) so the stage switch can
 * restore one modality's expert by prefix (see `modalityWeights`).
 *
 * Per-utterance tensors, masks included, are rows [N, ·] of a TokenLayout (padding skipped, see
 * tokens.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { MODALITIES, type Modality } from '../data/types.ts';
import { AttentionBlock } from './attention.ts';
import { drop, Linear, ReluMlp, type Ctx } from './layers.ts';
import type { ParamStore } from './params.ts';
import type { TokenLayout } from './tokens.ts';
import type { ModelConfig } from './types.ts';

/** h_m = Dropout(W_m (x_m * mask_m) + b_m): missing modalities are zero-filled before projection. */
export class Projections {
  private readonly lin: Record<Modality, Linear>;

  constructor(params: ParamStore, private readonly cfg: ModelConfig) {
    this.lin = {} as Record<Modality, Linear>;
    for (const m of MODALITIES) this.lin[m] = new Linear(params, `proj.${m}`, cfg.dims[m], cfg.hidden);
  }

  /** x_m [B, S, d_m] (grid), masks [N] -> h_m [N, D] */
  apply(x: Record<Modality, tf.Tensor>, masks: Record<Modality, tf.Tensor>, L: TokenLayout, ctx: Ctx): Record<Modality, tf.Tensor> {
    const h = {} as Record<Modality, tf.Tensor>;
    for (const m of MODALITIES) {
      h[m] = drop(this.lin[m].apply(tf.mul(L.toRows(x[m]), tf.expandDims(masks[m], -1))), this.cfg.dropout, ctx);
    }
    return h;
  }
}

/**
 * L layers; layer l owns one attention block per modality. Expert k is the chain of modality k's
 * blocks: E_k(z) applies z <- z + A'_{l,k}(z; mask) for l = 0..L-1.
 */
export class ExpertStack {
  private readonly blocks: Record<Modality, AttentionBlock[]>;

  constructor(params: ParamStore, cfg: ModelConfig) {
    this.blocks = { a: [], t: [], v: [] };
    for (let l = 0; l < cfg.depth; l++) {
      for (const m of MODALITIES) {
        this.blocks[m].push(new AttentionBlock(params, `expert.${m}.l${l}`, cfg.hidden, cfg.heads, cfg.dropout));
      }
    }
  }

  /** Run expert `k` on z [N, D] with key mask [N]. */
  run(k: Modality, z: tf.Tensor, mask: tf.Tensor, L: TokenLayout, ctx: Ctx): tf.Tensor {
    for (const block of this.blocks[k]) z = tf.add(z, block.apply(z, mask, L, ctx));
    return z;
  }

  /**
   * Experts mixing: run all three experts on the same z and sum, each weighted by `w` [N, 3]
   * (order a, t, v) when given (MoMKE's router), unweighted otherwise (the teacher).
   */
  mix(z: tf.Tensor, mask: tf.Tensor, L: TokenLayout, ctx: Ctx, w?: tf.Tensor): tf.Tensor {
    const ws = w ? tf.unstack(w, 1) : undefined;
    const outs = MODALITIES.map((k, i) => {
      const e = this.run(k, z, mask, L, ctx);
      return ws ? tf.mul(e, tf.expandDims(ws[i]!, -1)) : e;
    });
    return tf.addN(outs);
  }
}

/** Stage-1 heads Linear(D, C) on each r_m. */
export class UnimodalHeads {
  private readonly lin: Record<Modality, Linear>;

  constructor(params: ParamStore, cfg: ModelConfig) {
    this.lin = {} as Record<Modality, Linear>;
    for (const m of MODALITIES) this.lin[m] = new Linear(params, `uni.${m}`, cfg.hidden, cfg.numClasses);
  }

  apply(reps: Record<Modality, tf.Tensor>): Record<Modality, tf.Tensor> {
    return { a: this.lin.a.apply(reps.a), t: this.lin.t.apply(reps.t), v: this.lin.v.apply(reps.v) };
  }
}

/** z = [r_a; r_t; r_v] with unavailable ones zeroed; u = z + Dropout(ReLU(W_1 z)); logits = W_o u. */
export class FusionHead {
  private readonly w1: Linear;
  private readonly wo: Linear;

  constructor(params: ParamStore, private readonly cfg: ModelConfig) {
    const d3 = 3 * cfg.hidden;
    this.w1 = new Linear(params, 'fusion.W1', d3, d3);
    this.wo = new Linear(params, 'fusion.out', d3, cfg.numClasses);
  }

  /** reps [N, D] each, masks [N] -> u [N, 3D], logits [N, C] */
  apply(reps: Record<Modality, tf.Tensor>, masks: Record<Modality, tf.Tensor>, ctx: Ctx): { u: tf.Tensor; logits: tf.Tensor } {
    const z = tf.concat(MODALITIES.map((m) => tf.mul(reps[m], tf.expandDims(masks[m], -1))), -1);
    const u = tf.add(z, drop(this.w1.apply(z, 'relu'), this.cfg.dropout, ctx));
    return { u, logits: this.wo.apply(u) };
  }
}

/** x_hat = W_3 ReLU(W_2 u): 3D -> decoderHidden -> d_a + d_t + d_v. */
export class Decoder {
  private readonly mlp: ReluMlp;

  constructor(params: ParamStore, cfg: ModelConfig) {
    const out = cfg.dims.a + cfg.dims.t + cfg.dims.v;
    this.mlp = new ReluMlp(params, 'decoder', 3 * cfg.hidden, cfg.decoderHidden, out);
  }

  apply(u: tf.Tensor): tf.Tensor {
    return this.mlp.apply(u);
  }
}

/** Name filter for one modality's stage-1 expert: its projection, expert blocks and unimodal head. */
export function modalityWeights(m: Modality): (name: string) => boolean {
  return (name) => name.startsWith(`proj.${m}.`) || name.startsWith(`expert.${m}.`) || name.startsWith(`uni.${m}.`);
}
