/**
 * MMIN, the Missing Modality Imagination Network (Zhao, Li and Jin, ACL 2021; docs/baselines.md).
 * Utterance-level: every layer acts on one utterance, so everything runs on the N real rows.
 * Sizes from the hidden size D (D = 256 gives the paper's: embeddings 128, autoencoders
 * 384-256-128-64, classifiers 128-128):
 *
 *   e_m = ReLU(W_m x_m + b_m) * mask_m                      [N, D/2]   modality encoders
 *   e   = [e_a; e_t; e_v]                                    [N, 3D/2]
 * stage 1 (pre-training on complete inputs): logits = MLP_pre(Dropout(e)); the best epoch is kept
 *   and its encoders are frozen as the imagination targets (`beginStage2`).
 * stage 2 (the condition):
 *   (h', z_1..z_K) = CRA_f(e)      forward imagination; z_k [N, D/4] the k-th block's latent
 *   e''            = CRA_b(h')     backward imagination (cycle)
 *   logits = MLP_cls(Dropout([z_1; ...; z_K]))                     joint latent [N, K D/4]
 *   aux    = 4 MSE(h', [ē_a; ē_t; ē_v]) + 2 MSE(e'', sg(e))        ē_m: frozen pre-trained encoders
 *                                                                   on the TRUE features
 * CRA (cascade residual autoencoder), K = 5 blocks: s_1 = e, o_k = AE_k(s_k), s_{k+1} = s_k + o_k;
 * the output is o_K. AE_k: 3D/2 -> D -> D/2 -> D/4 (latent) -> D/2 -> D -> 3D/2, ReLU between.
 */
import * as tf from '@tensorflow/tfjs';
import { MODALITIES, type Modality } from '../data/types.ts';
import { stopGradient } from '../engine/ops.ts';
import { HardyError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { drop, Linear, type Ctx } from './layers.ts';
import { ParamStore } from './params.ts';
import { layoutOf, resultOnGrid } from './tokens.ts';
import type { ForwardOpts, ForwardResult, MerModel, ModelConfig, ModelInputs } from './types.ts';

/** Autoencoder blocks in each cascade, and the loss weights of the two imaginations (the paper's). */
export const MMIN_BLOCKS = 5;
export const MMIN_FORWARD_WEIGHT = 4;
export const MMIN_CYCLE_WEIGHT = 2;

/** Linear layers with ReLU between them (not after the last); dropout after each ReLU when `p` > 0. */
class Chain {
  private readonly layers: Linear[] = [];

  constructor(params: ParamStore, name: string, sizes: number[], private readonly p = 0) {
    for (let i = 0; i + 1 < sizes.length; i++) this.layers.push(new Linear(params, `${name}.l${i}`, sizes[i]!, sizes[i + 1]!));
  }

  apply(x: tf.Tensor, ctx: Ctx, lastRelu = false): tf.Tensor {
    this.layers.forEach((l, i) => {
      const relu = i + 1 < this.layers.length || lastRelu;
      x = l.apply(x, relu ? 'relu' : 'linear');
      if (relu && i + 1 < this.layers.length) x = drop(x, this.p, ctx);
    });
    return x;
  }
}

/** One residual autoencoder of a cascade: x [N, 3D/2] -> (output [N, 3D/2], latent [N, D/4]). */
class AutoEncoder {
  private readonly enc: Chain;
  private readonly dec: Chain;

  constructor(params: ParamStore, name: string, sizes: number[]) {
    this.enc = new Chain(params, `${name}.enc`, sizes);
    this.dec = new Chain(params, `${name}.dec`, [...sizes].reverse());
  }

  apply(x: tf.Tensor, ctx: Ctx): { out: tf.Tensor; latent: tf.Tensor } {
    const latent = this.enc.apply(x, ctx, true);
    return { out: this.dec.apply(latent, ctx), latent };
  }
}

/** s_1 = x, o_k = AE_k(s_k), s_{k+1} = s_k + o_k; returns o_K and the K latents. */
class Cascade {
  private readonly blocks: AutoEncoder[] = [];

  constructor(params: ParamStore, name: string, sizes: number[], n: number) {
    for (let k = 0; k < n; k++) this.blocks.push(new AutoEncoder(params, `${name}.ae${k}`, sizes));
  }

  apply(x: tf.Tensor, ctx: Ctx): { out: tf.Tensor; latents: tf.Tensor[] } {
    let s = x;
    let out = x;
    const latents: tf.Tensor[] = [];
    this.blocks.forEach((ae, k) => {
      if (k > 0) s = tf.add(s, out);
      const r = ae.apply(s, ctx);
      out = r.out;
      latents.push(r.latent);
    });
    return { out, latents };
  }
}

/** MMIN's constraint on the shared hyper-parameters (embeddings are hidden/2 wide, latents hidden/4). */
export function mminConfigError(hidden: number): string | undefined {
  return hidden % 4 === 0 ? undefined : `MMIN needs model.hidden divisible by 4 (embeddings hidden/2, latents hidden/4), got ${hidden}`;
}

/** Mean over rows and columns of (a - b)^2: the rows are the real utterances. */
const mse = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.mean(tf.square(tf.sub(a, b)));

export class MMIN implements MerModel {
  readonly kind = 'mmin' as const;
  readonly params: ParamStore;
  private readonly enc: Record<Modality, Linear>;
  /** Frozen copies of the pre-trained encoders (non-trainable), set at the switch to stage 2. */
  private readonly target: Record<Modality, { W: tf.Variable; b: tf.Variable }>;
  private readonly pre: Chain;
  private readonly forwardCra: Cascade;
  private readonly backwardCra: Cascade;
  private readonly cls: Chain;

  constructor(readonly config: ModelConfig, seed = 1) {
    const D = config.hidden;
    const bad = mminConfigError(D);
    if (bad) throw new HardyError(bad);
    const e = D / 2;
    this.params = new ParamStore(new Rng(seed));
    this.enc = {} as Record<Modality, Linear>;
    this.target = {} as Record<Modality, { W: tf.Variable; b: tf.Variable }>;
    for (const m of MODALITIES) {
      this.enc[m] = new Linear(this.params, `proj.${m}`, config.dims[m], e);
      this.target[m] = { W: this.params.frozen(`target.${m}.W`, [config.dims[m], e]), b: this.params.frozen(`target.${m}.b`, [e]) };
    }
    const C = config.numClasses;
    const p = config.dropout;
    this.pre = new Chain(this.params, 'pre.cls', [3 * e, e, e, C], p);
    const ae = [3 * e, D, D / 2, D / 4];
    this.forwardCra = new Cascade(this.params, 'cra.forward', ae, MMIN_BLOCKS);
    this.backwardCra = new Cascade(this.params, 'cra.backward', ae, MMIN_BLOCKS);
    this.cls = new Chain(this.params, 'cls', [MMIN_BLOCKS * (D / 4), e, e, C], p);
  }

  /** The pre-trained encoders (the best stage-1 epoch, restored by the trainer) become the frozen targets. */
  beginStage2(): void {
    for (const m of MODALITIES) {
      this.target[m].W.assign(this.enc[m].W);
      this.target[m].b.assign(this.enc[m].b);
    }
  }

  forward(inputs: ModelInputs, opts: ForwardOpts): ForwardResult {
    const { L, masks } = layoutOf(inputs);
    const x = {} as Record<Modality, tf.Tensor>;
    for (const m of MODALITIES) x[m] = L.toRows(inputs.x[m]); // [N, d_m]
    const mask = (m: Modality): tf.Tensor => tf.expandDims(masks[m], -1);
    // Missing inputs are zeroed, and so are their embeddings: nothing of a missing modality gets in.
    const reps = {} as Record<Modality, tf.Tensor>;
    for (const m of MODALITIES) reps[m] = tf.mul(this.enc[m].apply(tf.mul(x[m], mask(m)), 'relu'), mask(m));
    const e = tf.concat(MODALITIES.map((m) => reps[m]), -1); // [N, 3D/2]
    if (opts.stage === 1) {
      return resultOnGrid(L, { logits: this.pre.apply(drop(e, this.config.dropout, opts), opts), reps });
    }
    const fwd = this.forwardCra.apply(e, opts);
    const logits = this.cls.apply(drop(tf.concat(fwd.latents, -1), this.config.dropout, opts), opts);
    let aux: tf.Scalar | undefined;
    if (opts.training) {
      const targets = tf.concat(
        MODALITIES.map((m) => tf.relu(tf.add(tf.matMul(x[m], this.target[m].W), this.target[m].b))),
        -1,
      );
      const cycle = this.backwardCra.apply(fwd.out, opts).out;
      aux = tf.add(tf.mul(mse(fwd.out, targets), MMIN_FORWARD_WEIGHT), tf.mul(mse(cycle, stopGradient(e)), MMIN_CYCLE_WEIGHT)) as tf.Scalar;
    }
    return resultOnGrid(L, { logits, reps, aux });
  }

  dispose(): void {
    this.params.dispose();
  }
}
