/**
 * The MoMKE baseline (Xu et al., ACM MM 2024; docs/method.md §3): the teacher without cross-attention and
 * decoder; in stage 2 the three expert outputs for modality m are weighted by a soft router
 * softmax(MLP_m(h_m)), MLP D -> D -> 3.
 */
import * as tf from '@tensorflow/tfjs';
import { MODALITIES, type Modality } from '../data/types.ts';
import { Rng } from '../util/rng.ts';
import { ExpertStack, FusionHead, Projections, UnimodalHeads } from './backbone.ts';
import { layoutOf, resultOnGrid } from './tokens.ts';
import { ReluMlp } from './layers.ts';
import { ParamStore } from './params.ts';
import type { ForwardOpts, ForwardResult, MerModel, ModelConfig, ModelInputs } from './types.ts';

export class MoMKE implements MerModel {
  readonly kind = 'momke' as const;
  readonly params: ParamStore;
  private readonly proj: Projections;
  private readonly experts: ExpertStack;
  private readonly uni: UnimodalHeads;
  private readonly fusion: FusionHead;
  private readonly routers: Record<Modality, ReluMlp>;

  constructor(readonly config: ModelConfig, seed = 1) {
    this.params = new ParamStore(new Rng(seed));
    this.proj = new Projections(this.params, config);
    this.experts = new ExpertStack(this.params, config);
    this.uni = new UnimodalHeads(this.params, config);
    this.fusion = new FusionHead(this.params, config);
    this.routers = {} as Record<Modality, ReluMlp>;
    for (const m of MODALITIES) this.routers[m] = new ReluMlp(this.params, `router.${m}`, config.hidden, config.hidden, 3);
  }

  forward(inputs: ModelInputs, opts: ForwardOpts): ForwardResult {
    const { L, masks } = layoutOf(inputs);
    const h = this.proj.apply(inputs.x, masks, L, opts);
    const reps = {} as Record<Modality, tf.Tensor>;
    for (const m of MODALITIES) {
      reps[m] =
        opts.stage === 1
          ? this.experts.run(m, h[m], masks[m], L, opts)
          : this.experts.mix(h[m], masks[m], L, opts, tf.softmax(this.routers[m].apply(h[m]))); // router [N, 3]
    }
    const { logits } = this.fusion.apply(reps, masks, opts);
    return resultOnGrid(L, { logits, reps, unimodal: opts.stage === 1 ? this.uni.apply(reps) : undefined });
  }

  dispose(): void {
    this.params.dispose();
  }
}
