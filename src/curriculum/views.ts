/**
 * The K + 1 views of a stage-2 batch (docs/method.md §6). View 0 is the batch. View j >= 1 puts,
 * at every real position, the utterance's j-th kept neighbour: its complete features, the query's
 * own availability mask (the condition), and the query's label (or the neighbour's own with
 * `neighbourLabel: 'own'`). An utterance with fewer than j kept neighbours keeps itself, so easy
 * utterances repeat and hard ones diversify. Padding stays padding. Views are plain `Batch`es.
 */
import type { Avail, Batch, Modality } from '../data/types.ts';
import { MODALITIES } from '../data/types.ts';
import type { CurriculumConfig } from './config.ts';
import { HardyError } from '../util/errors.ts';
import type { Candidate, Retriever } from './retrieval.ts';
import type { UtteranceTable } from './table.ts';

/** Kept neighbours of every real utterance of a batch, keyed by utterance id. */
export type BatchPlan = Map<string, Candidate[]>;

/** Availability of position i of a batch. */
export function availAt(batch: Batch, i: number): Avail {
  return [batch.avail[i * 3]!, batch.avail[i * 3 + 1]!, batch.avail[i * 3 + 2]!];
}

/**
 * The kept neighbours of each real utterance: `kOf(id)` gives K_i; the query's availability in the
 * batch chooses which indexes it searches. Every real utterance must be a training utterance.
 */
export function planBatch(batch: Batch, retriever: Retriever, kOf: (id: string) => number): BatchPlan {
  const plan: BatchPlan = new Map();
  for (let b = 0; b < batch.B; b++) {
    for (let s = 0; s < batch.S; s++) {
      const i = b * batch.S + s;
      if (!batch.umask[i]) continue;
      const id = batch.uttIds[b]![s]!;
      const row = retriever.table.rowById.get(id);
      if (row === undefined) {
        throw new HardyError(`curriculum (fold ${retriever.table.fold}): utterance '${id}' of dialogue '${batch.dialogueIds[b]}' is not a training utterance of the fold`);
      }
      plan.set(id, retriever.kept(row, availAt(batch, i), kOf(id)));
    }
  }
  return plan;
}

export function buildViews(
  batch: Batch,
  plan: BatchPlan,
  table: UtteranceTable,
  K: number,
  neighbourLabel: CurriculumConfig['neighbourLabel'],
): Batch[] {
  const { B, S } = batch;
  for (const m of MODALITIES) {
    if (batch.features[m].length !== B * S * table.dims[m]) {
      throw new HardyError(`curriculum: batch ${m} features have ${batch.features[m].length / (B * S)} dims, the fold's table ${table.dims[m]}`);
    }
  }
  const views: Batch[] = [batch];
  for (let j = 1; j <= K; j++) {
    const features = {} as Record<Modality, Float32Array>;
    for (const m of MODALITIES) features[m] = batch.features[m].slice();
    const labels = batch.labels.slice();
    const uttIds = batch.uttIds.map((row) => row.slice());
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const i = b * S + s;
        if (!batch.umask[i]) continue;
        const nb = plan.get(batch.uttIds[b]![s]!)?.[j - 1];
        if (!nb) continue; // fewer than j neighbours: the utterance keeps itself
        for (const m of MODALITIES) {
          const d = table.dims[m];
          features[m].set(table.features[m].subarray(nb.row * d, (nb.row + 1) * d), i * d);
        }
        uttIds[b]![s] = table.ids[nb.row]!;
        if (neighbourLabel === 'own') labels[i] = table.labels[nb.row]!;
      }
    }
    // umask, avail (the query's condition) and speakers are shared: views never change them.
    views.push({ ...batch, uttIds, features, labels });
  }
  return views;
}
