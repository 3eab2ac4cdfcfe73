/**
 * The training objective of each model and stage (docs/method.md §4, §7, §9):
 * - stage 1 (complete inputs): task loss of each unimodal head (the published code); the teacher
 *   adds the reconstruction of every modality and 0.001 * MI term; `fusedStage1` adds the task loss
 *   on the fused output (this project's earlier default).
 * - stage 2 (the condition's masks): task loss + L_rec against the batch's true features for the
 *   student, the teacher and GCNet; task loss alone for MoMKE (no decoder).
 * - a model without unimodal heads (MMIN's pre-training) has only the fused task loss in stage 1;
 *   a model's own terms (`aux`, MMIN's imagination losses) are added as they come.
 */
import * as tf from '@tensorflow/tfjs';
import { MODALITIES, type Batch } from '../data/types.ts';
import type { Rng } from '../util/rng.ts';
import { batchInputs, batchLabels } from './inputs.ts';
import { miLoss, recAllLoss, recLoss, taskLoss } from './losses.ts';
import type { MerModel, ModelInputs, Stage } from './types.ts';

export const MI_WEIGHT = 0.001;

export interface LossOpts {
  stage: Stage;
  /** Dropout on (default true); needs `rng` when on. */
  training?: boolean;
  rng?: Rng;
  /** Stage 1 also trains the fused head (default false: unimodal heads only). */
  fusedStage1?: boolean;
}

/** Loss of `model` on tensors already built (stage 1 callers pass complete availability). */
export function objective(model: MerModel, inputs: ModelInputs, labels: tf.Tensor, opts: LossOpts): tf.Scalar {
  return tf.tidy(() => {
    const training = opts.training ?? true;
    const out = model.forward(inputs, { stage: opts.stage, training, rng: opts.rng });
    const task = model.config.task;
    const terms: tf.Tensor[] = [];
    if (opts.stage === 1) {
      if (opts.fusedStage1 || !out.unimodal) terms.push(taskLoss(task, out.logits, labels, inputs.umask));
      if (out.unimodal) for (const m of MODALITIES) terms.push(taskLoss(task, out.unimodal[m], labels, inputs.umask));
      if (out.joint) {
        terms.push(tf.mul(miLoss(out.reps!, out.joint, inputs.umask), MI_WEIGHT));
        if (out.recon) terms.push(recAllLoss(out.recon, inputs));
      }
    } else {
      terms.push(taskLoss(task, out.logits, labels, inputs.umask));
      if (out.recon) terms.push(recLoss(out.recon, inputs));
    }
    if (out.aux) terms.push(out.aux);
    return tf.addN(terms) as tf.Scalar;
  });
}

/** The training loss of `model` on one batch: builds the tensors (complete in stage 1) and frees them. */
export function trainingLoss(model: MerModel, batch: Batch, opts: LossOpts): tf.Scalar {
  return tf.tidy(() => objective(model, batchInputs(batch, opts.stage === 1), batchLabels(batch), opts));
}
