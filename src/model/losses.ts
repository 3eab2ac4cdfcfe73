/**
 * Losses (docs/method.md §4) and the entropy surrogate of mutual information (docs/method.md §5), all masked to real
 * utterances. The curriculum's hardness reuses `recPerUtterance` and `mutualInfo` from here.
 */
import * as tf from '@tensorflow/tfjs';
import { MODALITIES, type Modality, type Task } from '../data/types.ts';
import { modalityMasks } from './inputs.ts';
import { PAIRS, type ModelInputs, type Pair } from './types.ts';

/** Number of real utterances, at least 1 so an empty batch gives 0 rather than NaN. */
function realCount(umask: tf.Tensor): tf.Tensor {
  return tf.maximum(tf.sum(umask), 1);
}

/** Mean over real utterances of -log softmax(logits)[label]. logits [B, S, C], labels/umask [B, S]. */
export function maskedCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, umask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const C = logits.shape[logits.rank - 1]!;
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), C); // [B, S, C]
    const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1)); // [B, S]
    return tf.div(tf.sum(tf.mul(nll, umask)), realCount(umask)) as tf.Scalar;
  });
}

/** Mean over real utterances of (pred - target)^2. pred [B, S, 1] or [B, S]; target/umask [B, S]. */
export function maskedMse(pred: tf.Tensor, target: tf.Tensor, umask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.reshape(pred, target.shape);
    return tf.div(tf.sum(tf.mul(tf.square(tf.sub(p, target)), umask)), realCount(umask)) as tf.Scalar;
  });
}

/** Cross-entropy for classification, MSE for regression. */
export function taskLoss(task: Task, out: tf.Tensor, labels: tf.Tensor, umask: tf.Tensor): tf.Scalar {
  return task === 'classification' ? maskedCrossEntropy(out, labels, umask) : maskedMse(out, labels, umask);
}

/**
 * Per-utterance direct hardness D_rec [B, S]: mean over the three modalities of the per-modality
 * mean squared error between the reconstruction and the TRUE features, counted only where the
 * modality is missing for a real utterance (0 for available ones and for padding).
 * recon [B, S, d_a + d_t + d_v] in the order a, t, v.
 */
export function recPerUtterance(recon: tf.Tensor, inputs: ModelInputs): tf.Tensor {
  return tf.tidy(() => {
    const dims = MODALITIES.map((m) => inputs.x[m].shape[2]!);
    const parts = tf.split(recon, dims, -1);
    const masks = modalityMasks(inputs);
    const terms = MODALITIES.map((m: Modality, i) => {
      const se = tf.mean(tf.square(tf.sub(parts[i]!, inputs.x[m])), -1); // [B, S]
      const missing = tf.sub(inputs.umask, masks[m]); // 1 where real and unavailable
      return tf.mul(se, missing);
    });
    return tf.div(tf.addN(terms), 3);
  });
}

/** L_rec: summed over missing modalities of the per-modality MSE, divided by the real utterances. */
export function recLoss(recon: tf.Tensor, inputs: ModelInputs): tf.Scalar {
  return tf.tidy(() => tf.div(tf.mul(tf.sum(recPerUtterance(recon, inputs)), 3), realCount(inputs.umask)) as tf.Scalar);
}

/**
 * Reconstruction of every modality (stage 1 of the teacher, complete inputs): per-modality mean
 * squared error against the true features, summed over a, t, v, averaged over real utterances.
 */
export function recAllLoss(recon: tf.Tensor, inputs: ModelInputs): tf.Scalar {
  return tf.tidy(() => {
    const dims = MODALITIES.map((m) => inputs.x[m].shape[2]!);
    const parts = tf.split(recon, dims, -1);
    const se = tf.addN(MODALITIES.map((m, i) => tf.mean(tf.square(tf.sub(parts[i]!, inputs.x[m])), -1))); // [B, S]
    return tf.div(tf.sum(tf.mul(se, inputs.umask)), realCount(inputs.umask)) as tf.Scalar;
  });
}

/** H(z) = -sum_j p_j log(p_j + 1e-7), p = clamp(softmax(z / tau), 1e-6, 1) over the last axis. [..., D] -> [...] */
export function entropy(z: tf.Tensor, tau = 1): tf.Tensor {
  return tf.tidy(() => {
    const p = tf.clipByValue(tf.softmax(tf.div(z, tau)), 1e-6, 1);
    return tf.neg(tf.sum(tf.mul(p, tf.log(tf.add(p, 1e-7))), -1));
  });
}

/** I_mn = H(r_m) + H(r_n) - H(c_mn) for the pairs at, av, tv; each [B, S]. */
export function mutualInfo(reps: Record<Modality, tf.Tensor>, joint: Record<Pair, tf.Tensor>, tau = 1): Record<Pair, tf.Tensor> {
  const H = { a: entropy(reps.a, tau), t: entropy(reps.t, tau), v: entropy(reps.v, tau) };
  const out = {} as Record<Pair, tf.Tensor>;
  for (const pair of PAIRS) {
    const m = pair[0] as Modality;
    const n = pair[1] as Modality;
    out[pair] = tf.tidy(() => tf.sub(tf.add(H[m], H[n]), entropy(joint[pair], tau)));
  }
  tf.dispose([H.a, H.t, H.v]);
  return out;
}

/** Teacher MI term: -(I_at + I_av + I_tv) summed over real utterances, / 3 (weight applied by the caller). */
export function miLoss(reps: Record<Modality, tf.Tensor>, joint: Record<Pair, tf.Tensor>, umask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const I = mutualInfo(reps, joint);
    return tf.div(tf.neg(tf.sum(tf.mul(tf.addN([I.at, I.av, I.tv]), umask))), 3) as tf.Scalar;
  });
}
