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
  /** Stage 1 only: per-modality unimodal predictions. */
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

/** [n, C] rows -> class index, or the single value for regression. */
function decode(values: Float32Array, C: number): number[] {
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
  const all = decode(vals, C);
  return all.filter((_, i) => batch.umask[i]! > 0);
}

export function predict(model: MerModel, dialogues: readonly Dialogue[], opts: PredictOptions): Predictions {
  const C = model.config.numClasses;
  const out: Predictions = { ids: [], labels: [], preds: [] };
  if (opts.stage === 1) out.unimodal = { a: [], t: [], v: [] };
  const batches = makeBatches(dialogues, { batchSize: opts.batchSize, condition: opts.condition, masks: opts.masks });
  for (const batch of batches) {
    const res = tf.tidy(() => {
      const r = model.forward(batchInputs(batch, opts.complete), { stage: opts.stage, training: false });
      return { logits: r.logits, uni: r.unimodal };
    });
    out.preds.push(...realRows(res.logits, batch, C));
    if (res.uni) for (const m of MODALITIES) out.unimodal![m].push(...realRows(res.uni[m], batch, C));
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
