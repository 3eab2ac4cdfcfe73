/**
 * GCNet, the Graph Completion Network (Lian et al., TPAMI 2023; docs/baselines.md). On the padded
 * [B, S, ·] grid (the recurrences need the order); H = hidden size (the paper's 200), d = d_a+d_t+d_v.
 *
 *   u = [x_a mask_a; x_t mask_t; x_v mask_v]                       [B, S, d]   missing zero-filled
 *   c = BiLSTM_2(u)                                                 [B, S, 2H]  context encoder
 *   for G in (temporal graph, speaker graph), window 2 past / 2 future:
 *     g   = GraphConv_G(RGCN_G(c))                                  [B, S, H]
 *     f_G = ReLU(W_G BiLSTM_2([c; g]))                              [B, S, 3H]
 *   h = f_temporal + f_speaker
 *   logits = W_c h [B, S, C];  recon = W_r h [B, S, d]  (completion of the missing features)
 * Loss (objective.ts): task loss + L_rec on the missing modalities of real utterances. One stage.
 */
import * as tf from '@tensorflow/tfjs';
import { MODALITIES } from '../data/types.ts';
import { Rng } from '../util/rng.ts';
import { DialogueGraph, GraphConv, RELATIONS, RelationalGraphConv, type GraphKind } from './graph.ts';
import { modalityMasks } from './inputs.ts';
import { Linear, type Ctx } from './layers.ts';
import { ParamStore } from './params.ts';
import { BiLstm } from './recurrent.ts';
import type { ForwardOpts, ForwardResult, MerModel, ModelConfig, ModelInputs } from './types.ts';

/** Past and future window of both graphs, and the depth of every BiLSTM (the paper's). */
export const GCNET_WINDOW = { past: 2, future: 2 };
const LSTM_DEPTH = 2;

/** One graph branch: RGCN -> GraphConv over the graph, then a BiLSTM over [c; g] and a ReLU projection. */
class Branch {
  private readonly rgcn: RelationalGraphConv;
  private readonly conv: GraphConv;
  private readonly lstm: BiLstm;
  private readonly out: Linear;

  constructor(params: ParamStore, readonly kind: GraphKind, H: number, p: number) {
    this.rgcn = new RelationalGraphConv(params, `${kind}.rgcn`, 2 * H, H, RELATIONS[kind]);
    this.conv = new GraphConv(params, `${kind}.conv`, H, H);
    const z = 3 * H;
    this.lstm = new BiLstm(params, `${kind}.lstm`, z, z, LSTM_DEPTH, p);
    this.out = new Linear(params, `${kind}.out`, 2 * z, z);
  }

  apply(c: tf.Tensor, graph: DialogueGraph, umask: tf.Tensor, ctx: Ctx): tf.Tensor {
    const g = this.conv.apply(this.rgcn.apply(c, graph, graph.meanWeights()), graph, graph.sumWeights());
    return this.out.apply(this.lstm.apply(tf.concat([c, g], -1), umask, ctx), 'relu');
  }
}

export class GCNet implements MerModel {
  readonly kind = 'gcnet' as const;
  readonly params: ParamStore;
  private readonly context: BiLstm;
  private readonly branches: Branch[];
  private readonly cls: Linear;
  private readonly rec: Linear;

  constructor(readonly config: ModelConfig, seed = 1) {
    const H = config.hidden;
    const d = config.dims.a + config.dims.t + config.dims.v;
    this.params = new ParamStore(new Rng(seed));
    this.context = new BiLstm(this.params, 'context', d, H, LSTM_DEPTH, config.dropout);
    this.branches = (['temporal', 'speaker'] as const).map((k) => new Branch(this.params, k, H, config.dropout));
    this.cls = new Linear(this.params, 'cls', 3 * H, config.numClasses);
    this.rec = new Linear(this.params, 'rec', 3 * H, d);
  }

  forward(inputs: ModelInputs, opts: ForwardOpts): ForwardResult {
    const [B, S] = inputs.umask.shape as [number, number];
    const masks = modalityMasks(inputs); // [B, S] each, 0 at padding
    const u = tf.concat(MODALITIES.map((m) => tf.mul(inputs.x[m], tf.expandDims(masks[m], -1))), -1);
    const c = this.context.apply(u, inputs.umask, opts);
    const umask = inputs.umask.dataSync();
    const speakers = inputs.speakers.dataSync();
    const h = tf.addN(
      this.branches.map((br) => br.apply(c, new DialogueGraph(br.kind, B, S, umask, speakers, GCNET_WINDOW.past, GCNET_WINDOW.future), inputs.umask, opts)),
    );
    return { logits: this.cls.apply(h), recon: this.rec.apply(h) };
  }

  dispose(): void {
    this.params.dispose();
  }
}
