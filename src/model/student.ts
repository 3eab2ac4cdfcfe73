/**
 * The deployed model (docs/method.md §3): r_m = E_m(h_m), each modality through its own expert; fusion head;
 * decoder reconstructing all three modalities from the fused representation.
 */
import { MODALITIES, type Modality } from '../data/types.ts';
import type * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.ts';
import { Decoder, ExpertStack, FusionHead, Projections, UnimodalHeads } from './backbone.ts';
import { layoutOf, resultOnGrid } from './tokens.ts';
import { ParamStore } from './params.ts';
import type { ForwardOpts, ForwardResult, MerModel, ModelConfig, ModelInputs } from './types.ts';

export class Student implements MerModel {
  readonly kind = 'student' as const;
  readonly params: ParamStore;
  private readonly proj: Projections;
  private readonly experts: ExpertStack;
  private readonly uni: UnimodalHeads;
  private readonly fusion: FusionHead;
  private readonly decoder: Decoder;

  /** Weights are drawn from an Rng seeded with `seed`, so the same seed gives the same model. */
  constructor(readonly config: ModelConfig, seed = 1) {
    this.params = new ParamStore(new Rng(seed));
    this.proj = new Projections(this.params, config);
    this.experts = new ExpertStack(this.params, config);
    this.uni = new UnimodalHeads(this.params, config);
    this.fusion = new FusionHead(this.params, config);
    this.decoder = new Decoder(this.params, config);
  }

  forward(inputs: ModelInputs, opts: ForwardOpts): ForwardResult {
    const { L, masks } = layoutOf(inputs);
    const h = this.proj.apply(inputs.x, masks, L, opts);
    const reps = {} as Record<Modality, tf.Tensor>;
    for (const m of MODALITIES) reps[m] = this.experts.run(m, h[m], masks[m], L, opts);
    const { u, logits } = this.fusion.apply(reps, masks, opts);
    return resultOnGrid(L, {
      logits,
      reps,
      recon: this.decoder.apply(u),
      unimodal: opts.stage === 1 ? this.uni.apply(reps) : undefined,
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
