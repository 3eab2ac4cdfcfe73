/**
 * One trained model on a few request dialogues: the fold's feature pipeline on the given
 * modalities, then the model's forward pass over the dialogues as one batch. Shared by the server
 * (run-predictor.ts, any engine path) and the web page's in-browser prediction (page/browser.ts,
 * the pure-wasm path), so the two differ only in the engine underneath.
 */
import * as tf from '@tensorflow/tfjs';
import { makeBatch } from '../data/batches.ts';
import type { MaskSet } from '../data/masks.ts';
import { MODALITIES, type Avail, type Dialogue, type Modality } from '../data/types.ts';
import { batchInputs } from '../model/inputs.ts';
import type { MerModel } from '../model/types.ts';
import type { FeaturePipeline } from '../train/features.ts';
import type { RequestDialogue, RequestUtterance } from './predictor.ts';

/** Per modality: the utterances that give it, and their transformed rows [n, d_m]. */
export type TransformedRows = Record<Modality, { given: RequestUtterance[]; rows: Float32Array }>;

/** The pipeline on each modality's given rows in one pass. */
export function transformRows(pipeline: FeaturePipeline, utts: RequestUtterance[]): TransformedRows {
  const dims = pipeline.inputDims;
  const out = {} as TransformedRows;
  for (const m of MODALITIES) {
    const given = utts.filter((u) => u.features[m]);
    const rows = new Float32Array(given.length * dims[m]);
    given.forEach((u, i) => rows.set(u.features[m]!, i * dims[m]));
    out[m] = { given, rows: given.length ? pipeline.apply(m, rows, given.length) : rows };
  }
  return out;
}

/**
 * Class probabilities (softmax of the logits) or the regression score of every utterance of
 * `dialogues`: [utterance id, values [C]] in batch order. Missing modalities stay zero and masked.
 */
export function modelOutputs(model: MerModel, dialogues: RequestDialogue[], rows: TransformedRows, dims: Record<Modality, number>, C: number): Array<[string, Float32Array]> {
  const utts = dialogues.flatMap((d) => d.utterances);
  const feats = new Map(utts.map((u) => [u.id, Object.fromEntries(MODALITIES.map((m) => [m, new Float32Array(dims[m])])) as Record<Modality, Float32Array>]));
  for (const m of MODALITIES) rows[m].given.forEach((u, i) => feats.get(u.id)![m].set(rows[m].rows.subarray(i * dims[m], (i + 1) * dims[m])));
  const avail = new Map(utts.map((u) => [u.id, MODALITIES.map((m) => (u.condition.includes(m) ? 1 : 0)) as Avail]));
  const masks: MaskSet = { rate: 0, seed: 0, avail };
  const ds: Dialogue[] = dialogues.map((d) => ({
    id: d.id,
    utterances: d.utterances.map((u) => ({ id: u.id, speaker: u.speaker ?? '', label: 0, features: feats.get(u.id)! })),
  }));
  const batch = makeBatch(ds, { masks });
  const values = tf.tidy(() => {
    const logits = model.forward(batchInputs(batch), { stage: 2, training: false }).logits; // [B, S, C]
    return (C === 1 ? logits : tf.softmax(logits)).dataSync() as Float32Array;
  });
  const out: Array<[string, Float32Array]> = [];
  batch.uttIds.forEach((row, b) =>
    row.forEach((id, s) => {
      const at = b * batch.S + s;
      if (batch.umask[at]! > 0) out.push([id, values.slice(at * C, (at + 1) * C)]);
    }),
  );
  return out;
}
