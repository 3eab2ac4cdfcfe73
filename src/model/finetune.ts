/**
 * The optional stage-0 feature fine-tuning MLP (docs/method.md §3), one per modality:
 *   d -> d -> d -> d/2 -> d/4 -> C, ReLU between layers.
 * Trained as a unimodal classifier (C classes) or regressor (C = 1); the output of the second
 * layer (d-dim, before its ReLU, as the published code's `feature = fc2(out)`) becomes the new
 * feature of every utterance.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.ts';
import { Linear } from './layers.ts';
import { ParamStore } from './params.ts';

export class FinetuneMlp {
  readonly params: ParamStore;
  private readonly layers: Linear[];

  constructor(
    readonly dim: number,
    readonly outDim: number,
    seed: number,
    name = 'ft',
  ) {
    this.params = new ParamStore(new Rng(seed));
    const widths = [dim, dim, dim, Math.max(1, Math.floor(dim / 2)), Math.max(1, Math.floor(dim / 4)), outDim];
    this.layers = widths.slice(1).map((w, i) => new Linear(this.params, `${name}.fc${i + 1}`, widths[i]!, w));
  }

  /** x [N, d] -> output [N, C] and the second layer's output [N, d]. */
  forward(x: tf.Tensor): { out: tf.Tensor; feature: tf.Tensor } {
    const feature = this.layers[1]!.apply(tf.relu(this.layers[0]!.apply(x)));
    let h = feature;
    for (const layer of this.layers.slice(2)) h = layer.apply(tf.relu(h));
    return { out: h, feature };
  }

  dispose(): void {
    this.params.dispose();
  }
}
