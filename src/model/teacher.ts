/**
 * The hardness scorer (docs/method.md §3): shared expert stack; stage 1 each modality through its own
 * expert, stage 2 through all three experts summed; six cross-attentions give the joint
 * representations c_mn = CA(r_m -> r_n) + CA(r_n -> r_m) that the MI terms read.
 */
import type * as tf from '@tensorflow/tfjs';
import { MODALITIES, type Modality } from '../data/types.ts';
import { Rng } from '../util/rng.ts';
import { CrossAttention } from './attention.ts';
import { Decoder, ExpertStack, FusionHead, Projections, UnimodalHeads } from './backbone.ts';
import { layoutOf, resultOnGrid } from './tokens.ts';
import { ParamStore } from './params.ts';
import { PAIRS, type ForwardOpts, type ForwardResult, type MerModel, type ModelConfig, type ModelInputs, type Pair } from './types.ts';

export class Teacher implements MerModel {
  readonly kind = 'teacher' as const;
  readonly params: ParamStore;
  private readonly proj: Projections;
  private readonly experts: ExpertStack;
  private readonly uni: UnimodalHeads;
  private readonly fusion: FusionHead;
  private readonly decoder: Decoder;
  /** Keyed by direction, e.g. `at` = CA(r_a -> r_t) and `ta` = CA(r_t -> r_a). */
  private readonly ca = new Map<string, CrossAttention>();

  constructor(readonly config: ModelConfig, seed = 1) {
    this.params = new ParamStore(new Rng(seed));
    this.proj = new Projections(this.params, config);
    this.experts = new ExpertStack(this.params, config);
    this.uni = new UnimodalHeads(this.params, config);
    this.fusion = new FusionHead(this.params, config);
    this.decoder = new Decoder(this.params, config);
    for (const pair of PAIRS) {
      for (const dir of [pair, pair[1]! + pair[0]!]) {
        this.ca.set(dir, new CrossAttention(this.params, `ca.${dir}`, config.hidden, config.heads, config.dropout));
      }
    }
  }

  forward(inputs: ModelInputs, opts: ForwardOpts): ForwardResult {
    const { L, masks } = layoutOf(inputs);
    const h = this.proj.apply(inputs.x, masks, L, opts);
    const reps = {} as Record<Modality, tf.Tensor>;
    for (const m of MODALITIES) {
      reps[m] = opts.stage === 1 ? this.experts.run(m, h[m], masks[m], L, opts) : this.experts.mix(h[m], masks[m], L, opts);
    }
    const joint = {} as Record<Pair, tf.Tensor>;
    for (const pair of PAIRS) {
      const m = pair[0] as Modality;
      const n = pair[1] as Modality;
      const mn = this.ca.get(m + n)!.apply(reps[m], reps[n], masks[m], masks[n], L, opts);
      const nm = this.ca.get(n + m)!.apply(reps[n], reps[m], masks[n], masks[m], L, opts);
      joint[pair] = mn.add(nm);
    }
    const { u, logits } = this.fusion.apply(reps, masks, opts);
    return resultOnGrid(L, {
      logits,
      reps,
      joint,
      recon: this.decoder.apply(u),
      unimodal: opts.stage === 1 ? this.uni.apply(reps) : undefined,
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
