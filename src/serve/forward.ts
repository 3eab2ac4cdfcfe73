/**
 * One trained model on a few request dialogues: the fold's feature pipeline on the given
 * modalities, then the model's forward pass over the dialogues as one batch. Shared by the server
 * (run-predictor.ts, any engine path) and the web page's in-browser prediction (page/browser.ts,
 * the pure-wasm path), so the two differ only in the engine underneath.
 *
 * The pipeline runs dialogue by dialogue, never over several at once: a matrix product's last bits
 * depend on its row count (OpenBLAS picks its kernels by shape), so transforming a dialogue
 * together with others (another request merged into the same micro-batch, pool.ts) would change
 * its features in the last bits, and the nearest-neighbour choice behind the hardness estimate can
 * turn that into another neighbour at a near-tie. This way an utterance's features and neighbours
 * depend on its dialogue only. (The forward pass still runs dialogues together: its outputs can
 * differ in the last float32 bits with the batch, with no discrete choice to amplify them.)
 */
import * as tf from '@tensorflow/tfjs';
import { makeBatch } from '../data/batches.ts';
import type { MaskSet } from '../data/masks.ts';
import { MODALITIES, type Avail, type Dialogue, type Modality } from '../data/types.ts';
import { batchInputs } from '../model/inputs.ts';
import type { MerModel } from '../model/types.ts';
import type { FeaturePipeline } from '../train/features.ts';
import type { RequestDialogue, RequestUtterance } from './predictor.ts';

/** Per modality: the utterances of one dialogue that give it, and their transformed rows [n, d_m]. */
export type TransformedRows = Record<Modality, { given: RequestUtterance[]; rows: Float32Array }>;

/** The pipeline on one dialogue's given rows, one pass per modality. */
export function transformDialogue(pipeline: FeaturePipeline, dialogue: RequestDialogue): TransformedRows {
  const dims = pipeline.inputDims;
  const out = {} as TransformedRows;
  for (const m of MODALITIES) {
    const given = dialogue.utterances.filter((u) => u.features[m]);
    const rows = new Float32Array(given.length * dims[m]);
    given.forEach((u, i) => rows.set(u.features[m]!, i * dims[m]));
    out[m] = { given, rows: given.length ? pipeline.apply(m, rows, given.length) : rows };
  }
  return out;
}

/**
 * Class probabilities (softmax of the logits) or the regression score of every utterance of
 * `dialogues`: [utterance id, values [C]] in batch order. `rows` holds each dialogue's transformed
 * features (transformDialogue, by dialogue id); missing modalities stay zero and masked.
 */
export function modelOutputs(model: MerModel, dialogues: RequestDialogue[], rows: Map<string, TransformedRows>, dims: Record<Modality, number>, C: number): Array<[string, Float32Array]> {
  const utts = dialogues.flatMap((d) => d.utterances);
  const feats = new Map(utts.map((u) => [u.id, Object.fromEntries(MODALITIES.map((m) => [m, new Float32Array(dims[m])])) as Record<Modality, Float32Array>]));
  for (const d of dialogues) {
    const r = rows.get(d.id)!;
    for (const m of MODALITIES) r[m].given.forEach((u, i) => feats.get(u.id)![m].set(r[m].rows.subarray(i * dims[m], (i + 1) * dims[m])));
  }
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
