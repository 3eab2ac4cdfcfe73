/**
 * Multi-view hardness (docs/method.md §5) from per-utterance scores of the frozen teacher:
 *   direct   D = D_rec[b, s]  (reconstruction error of the missing modalities vs the TRUE features)
 *   indirect I = I_at + I_av + I_tv  (entropy surrogate of mutual information, tau = 1)
 * each min-max normalised over the REAL utterances of the batch (a range below 1e-5 gives 0), then
 *   h = sigmoid(beta (alpha_1 D_norm + alpha_2 I_term - centre)),  I_term = I_norm ('shared') or 1 - I_norm ('complement').
 *
 * Alignment (fixes defect 3 of the published code): the teacher's outputs are [B, S] tensors read
 * back row-major, so position b * S + s is utterance `batch.uttIds[b][s]`; hardness leaves this
 * module keyed by utterance id, never by position.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types.ts';
import { batchInputs } from '../model/inputs.ts';
import { mutualInfo, recPerUtterance } from '../model/losses.ts';
import type { MerModel } from '../model/types.ts';
import type { CurriculumConfig } from './config.ts';

/** Below this range a batch's scores are treated as constant and normalise to 0. */
export const MIN_RANGE = 1e-5;

/** Min-max over the positions where `umask` is 1; padding positions get 0. */
export function minMaxNormalise(x: Float32Array, umask: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (!umask[i]) continue;
    lo = Math.min(lo, x[i]!);
    hi = Math.max(hi, x[i]!);
  }
  const out = new Float32Array(x.length);
  const range = hi - lo;
  if (!(range >= MIN_RANGE)) return out;
  for (let i = 0; i < x.length; i++) if (umask[i]) out[i] = (x[i]! - lo) / range;
  return out;
}

export type HardnessWeights = Pick<CurriculumConfig, 'beta' | 'centre' | 'alpha1' | 'alpha2' | 'miTerm'>;

/** h at every position ([B * S]); padding positions get 0. */
export function combineHardness(D: Float32Array, I: Float32Array, umask: Float32Array, w: HardnessWeights): Float32Array {
  const dn = minMaxNormalise(D, umask);
  const iNorm = minMaxNormalise(I, umask);
  const h = new Float32Array(D.length);
  for (let i = 0; i < D.length; i++) {
    if (!umask[i]) continue;
    const iTerm = w.miTerm === 'shared' ? iNorm[i]! : 1 - iNorm[i]!;
    h[i] = 1 / (1 + Math.exp(-w.beta * (w.alpha1 * dn[i]! + w.alpha2 * iTerm - w.centre)));
  }
  return h;
}

export interface UtteranceHardness {
  h: number;
  /** Raw scores, kept for diagnostics. */
  direct: number;
  indirect: number;
}

/**
 * Hardness of every real utterance of `batch` keyed by utterance id, from the teacher's per-position
 * scores D, I ([B, S] row-major, as read back from [B, S] tensors).
 */
export function batchHardness(batch: Batch, D: Float32Array, I: Float32Array, w: HardnessWeights): Map<string, UtteranceHardness> {
  const { B, S, umask, uttIds } = batch;
  if (D.length !== B * S || I.length !== B * S) {
    throw new Error(`batchHardness: scores of length ${D.length}/${I.length}, expected B*S = ${B * S}`);
  }
  const h = combineHardness(D, I, umask, w);
  const out = new Map<string, UtteranceHardness>();
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const i = b * S + s;
      if (!umask[i]) continue;
      out.set(uttIds[b]![s]!, { h: h[i]!, direct: D[i]!, indirect: I[i]! });
    }
  }
  return out;
}

/** Temperature of the entropy surrogate (docs/method.md §5). */
export const MI_TAU = 1;

/**
 * The frozen teacher's raw scores on `batch` under the batch's own availability (the condition):
 * D = D_rec [B, S] against the true features, I = I_at + I_av + I_tv [B, S]. Eval mode (no dropout),
 * stage 2 (experts mixing, the teacher's final form).
 */
export function teacherScores(teacher: MerModel, batch: Batch): { D: Float32Array; I: Float32Array } {
  const [d, i] = tf.tidy(() => {
    const inputs = batchInputs(batch);
    const out = teacher.forward(inputs, { stage: 2, training: false });
    if (!out.recon || !out.joint) throw new Error(`hardness needs a model with a decoder and joint representations, got '${teacher.kind}'`);
    const mi = mutualInfo(out.reps!, out.joint, MI_TAU);
    return [recPerUtterance(out.recon, inputs), tf.addN([mi.at, mi.av, mi.tv])];
  });
  const D = d.dataSync() as Float32Array;
  const I = i.dataSync() as Float32Array;
  tf.dispose([d, i]);
  return { D, I };
}

/** Hardness of every real utterance of `batches` (one epoch's batches), each normalised within its batch. */
export function epochHardness(teacher: MerModel, batches: Batch[], w: HardnessWeights): Map<string, UtteranceHardness> {
  const out = new Map<string, UtteranceHardness>();
  for (const batch of batches) {
    const { D, I } = teacherScores(teacher, batch);
    for (const [id, h] of batchHardness(batch, D, I, w)) out.set(id, h);
  }
  return out;
}

/**
 * Hardness of every real utterance of `batches` normalised over the whole set (min-max of D and I
 * over all utterances, then combined): comparable across batches, unlike the curriculum's
 * per-batch normalisation. What `hardness.json` saves and `predict` reports.
 */
export function setHardness(teacher: MerModel, batches: Batch[], w: HardnessWeights): Map<string, UtteranceHardness> {
  const ids: string[] = [];
  const Ds: number[] = [];
  const Is: number[] = [];
  for (const batch of batches) {
    const { D, I } = teacherScores(teacher, batch);
    batch.uttIds.forEach((row, b) =>
      row.forEach((id, s) => {
        const i = b * batch.S + s;
        if (!batch.umask[i]) return;
        ids.push(id);
        Ds.push(D[i]!);
        Is.push(I[i]!);
      }),
    );
  }
  const h = combineHardness(Float32Array.from(Ds), Float32Array.from(Is), new Float32Array(ids.length).fill(1), w);
  return new Map(ids.map((id, i) => [id, { h: h[i]!, direct: Ds[i]!, indirect: Is[i]! }]));
}
