/**
 * Batch (plain arrays, from the data layer) -> tensors, and the mask views the models use.
 */
import * as tf from '@tensorflow/tfjs';
import { MODALITIES, type Batch, type Modality } from '../data/types.ts';
import type { ModelInputs } from './types.ts';

/**
 * Tensors for `batch`. With `complete`, every real utterance has every modality (stage 1).
 * The caller owns the tensors (dispose, or call inside tf.tidy).
 */
export function batchInputs(batch: Batch, complete = false): ModelInputs {
  const { B, S } = batch;
  const x = {} as Record<Modality, tf.Tensor>;
  for (const m of MODALITIES) {
    const f = batch.features[m];
    x[m] = tf.tensor3d(f, [B, S, f.length / (B * S)]);
  }
  const umask = tf.tensor2d(batch.umask, [B, S]);
  const avail = complete ? tf.tile(tf.reshape(umask, [B, S, 1]), [1, 1, 3]) : tf.tensor3d(batch.avail, [B, S, 3]);
  return { x, umask, avail, speakers: tf.tensor2d(batch.speakers, [B, S]) };
}

/** [B, S] labels (class indices as floats, or regression scores). */
export function batchLabels(batch: Batch): tf.Tensor {
  return tf.tensor2d(batch.labels, [batch.B, batch.S]);
}

/** mask_m [B, S] = umask * avail[..., m]: where modality m takes part (attention keys, fusion). */
export function modalityMasks(inputs: ModelInputs): Record<Modality, tf.Tensor> {
  const cols = tf.unstack(tf.mul(inputs.avail, tf.expandDims(inputs.umask, -1)), 2);
  return { a: cols[0]!, t: cols[1]!, v: cols[2]! };
}

export function disposeInputs(inputs: ModelInputs): void {
  tf.dispose([inputs.x.a, inputs.x.t, inputs.x.v, inputs.umask, inputs.avail, inputs.speakers]);
}
