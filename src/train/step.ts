/**
 * One optimiser step: fresh gradients of a scalar loss w.r.t. the model's parameters, then Adam.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types.ts';
import { trainingLoss, type LossOpts } from '../model/objective.ts';
import type { MerModel } from '../model/types.ts';
import type { Adam } from './adam.ts';

/** Gradients of `f` keyed by parameter name (parameters `f` does not touch, and frozen ones, are absent). */
export function paramGrads(model: Pick<MerModel, 'params'>, f: () => tf.Scalar): { value: tf.Scalar; grads: Map<string, tf.Tensor> } {
  const byVar = new Map<string, string>();
  for (const [name, v] of model.params.vars) byVar.set(v.name, name);
  const { value, grads } = tf.variableGrads(f, [...model.params.vars.values()].filter((v) => v.trainable));
  const out = new Map<string, tf.Tensor>();
  for (const [vname, g] of Object.entries(grads)) if (g) out.set(byVar.get(vname)!, g);
  return { value, grads: out };
}

/** Minimise `f` by one Adam step; returns the loss before the step. */
export function stepOn(model: Pick<MerModel, 'params'>, adam: Adam, f: () => tf.Scalar): number {
  const { value, grads } = paramGrads(model, f);
  adam.apply(grads);
  tf.dispose([...grads.values()]);
  const loss = value.dataSync()[0]!;
  value.dispose();
  return loss;
}

/** One training step of `model` on `batch` (stage 1: complete inputs + unimodal heads). */
export function trainStep(model: MerModel, adam: Adam, batch: Batch, opts: LossOpts): number {
  return stepOn(model, adam, () => trainingLoss(model, batch, opts));
}
