/**
 * Inference over dialogues: one forward pass per batch in eval mode (no dropout), predictions for
 * the real utterances only, in dialogue order.
 */
import * as tf from '@tensorflow/tfjs';
import { makeBatches, type MaskSet } from '../data/index.ts';
import { MODALITIES, type Batch, type Condition, type Dialogue, type Modality } from '../data/types.ts';
import { batchInputs } from '../model/inputs.ts';
import type { MerModel, Stage } from '../model/types.ts';

export interface Predictions {
  ids: string[];
  labels: number[];
  /** Class index (classification) or score (regression). */
  preds: number[];
  /** Stage 1 of a model with unimodal heads only: per-modality unimodal predictions. */
  unimodal?: Record<Modality, number[]>;
}

export interface PredictOptions {
  stage: Stage;
  batchSize: number;
  /** Availability: a fixed condition or per-utterance masks; `complete` forces all modalities. */
  condition?: Condition;
  masks?: MaskSet;
  complete?: boolean;
}

/** Row-major [n, C] outputs -> class index per row (argmax), or the single value for regression. */
export function decodeRows(values: ArrayLike<number>, C: number): number[] {
  if (C === 1) return Array.from(values);
  const out: number[] = [];
  for (let off = 0; off < values.length; off += C) {
    let best = 0;
    for (let c = 1; c < C; c++) if (values[off + c]! > values[off + best]!) best = c;
    out.push(best);
  }
  return out;
}

/** Rows of `t` [B, S, C] at the real utterances of `batch`, decoded. */
function realRows(t: tf.Tensor, batch: Batch, C: number): number[] {
  const vals = t.dataSync() as Float32Array;
  const all = decodeRows(vals, C);
  return all.filter((_, i) => batch.umask[i]! > 0);
}

export function predict(model: MerModel, dialogues: readonly Dialogue[], opts: PredictOptions): Predictions {
  const C = model.config.numClasses;
  const out: Predictions = { ids: [], labels: [], preds: [] };
  const batches = makeBatches(dialogues, { batchSize: opts.batchSize, condition: opts.condition, masks: opts.masks });
  for (const batch of batches) {
    const res = tf.tidy(() => {
      const r = model.forward(batchInputs(batch, opts.complete), { stage: opts.stage, training: false });
      return { logits: r.logits, uni: r.unimodal };
    });
    out.preds.push(...realRows(res.logits, batch, C));
    if (res.uni) for (const m of MODALITIES) (out.unimodal ??= { a: [], t: [], v: [] })[m].push(...realRows(res.uni[m], batch, C));
    tf.dispose([res.logits, ...(res.uni ? Object.values(res.uni) : [])]);
    batch.uttIds.forEach((row, b) =>
      row.forEach((id, s) => {
        if (batch.umask[b * batch.S + s]! > 0) {
          out.ids.push(id);
          out.labels.push(batch.labels[b * batch.S + s]!);
        }
      }),
    );
  }
  return out;
}

/**
 * Reconstruction error of the missing modalities: per modality, the mean over real utterances where
 * it is missing of the per-dimension squared error between the decoder output and the true features.
 * Also returns the same error for a constant prediction `baseline[m]` (e.g. the training mean), so
 * callers can report the ratio. Models without a decoder are refused.
 */
export function reconstructionMse(
  model: MerModel,
  dialogues: readonly Dialogue[],
  opts: Omit<PredictOptions, 'complete' | 'stage'> & { baseline: Record<Modality, Float32Array> },
): Record<Modality, { model: number; baseline: number; count: number }> {
  const dims = model.config.dims;
  const acc = {} as Record<Modality, { model: number; baseline: number; count: number }>;
  for (const m of MODALITIES) acc[m] = { model: 0, baseline: 0, count: 0 };
  const batches = makeBatches(dialogues, { batchSize: opts.batchSize, condition: opts.condition, masks: opts.masks });
  for (const batch of batches) {
    const recon = tf.tidy(() => {
      const r = model.forward(batchInputs(batch), { stage: 2, training: false }).recon;
      if (!r) throw new Error(`${model.kind} has no decoder`);
      return r;
    });
    const x = recon.dataSync() as Float32Array; // [B, S, d_a + d_t + d_v]
    recon.dispose();
    const total = dims.a + dims.t + dims.v;
    for (let i = 0; i < batch.B * batch.S; i++) {
      if (!batch.umask[i]) continue;
      let off = 0;
      MODALITIES.forEach((m, k) => {
        const d = dims[m];
        if (!batch.avail[i * 3 + k]) {
          let se = 0;
          let sb = 0;
          for (let j = 0; j < d; j++) {
            const t = batch.features[m][i * d + j]!;
            se += (x[i * total + off + j]! - t) ** 2;
            sb += (opts.baseline[m][j]! - t) ** 2;
          }
          acc[m].model += se / d;
          acc[m].baseline += sb / d;
          acc[m].count++;
        }
        off += d;
      });
    }
  }
  for (const m of MODALITIES) {
    if (acc[m].count) {
      acc[m].model /= acc[m].count;
      acc[m].baseline /= acc[m].count;
    }
  }
  return acc;
}
