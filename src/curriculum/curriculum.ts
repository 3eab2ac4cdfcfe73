/**
 * The stage-2 curriculum as the trainer sees it: for each training batch, the frozen teacher scores
 * every real utterance (hardness, recomputed every epoch because batches are re-shuffled), K_i
 * follows from the policy, the retriever gives the kept neighbours and the batch becomes K + 1
 * views. Each epoch ends with JSON-serialisable diagnostics and the time spent in each part.
 *
 * Controls (`cfg.hardness`): `shuffled` permutes the teacher's h among the batch's real utterances
 * (same K_i distribution, no information about which utterance is hard); `oracle` replaces both
 * scores by the synthetic corpus' true difficulty under the utterance's availability (`truth`).
 * `cfg.views: 'keep-dialogue'` swaps in neighbours only for the ceil(swapFraction n) hardest
 * utterances of each dialogue (n its length); the others stay themselves in every view.
 */
import type { Avail, Batch, Task } from '../data/types.ts';
import type { MerModel } from '../model/types.ts';
import type { CurriculumConfig } from './config.ts';
import { Rng } from '../util/rng.ts';
import { DiagnosticsCollector, type EpochDiagnostics } from './diagnostics.ts';
import { batchHardness, teacherScores, type UtteranceHardness } from './hardness.ts';
import { chooseK, type Retriever } from './retrieval.ts';
import { availAt, buildViews, planBatch } from './views.ts';

export interface CurriculumTiming {
  /** Teacher forward passes and hardness. */
  hardnessMs: number;
  /** Neighbour merge / re-rank (the per-modality searches ran once, when the retriever was built). */
  retrievalMs: number;
  viewsMs: number;
}

export interface CurriculumEpoch {
  diagnostics: EpochDiagnostics;
  timing: CurriculumTiming;
}

/**
 * Ids of the utterances that keep themselves in every view under `keep-dialogue`: in each dialogue
 * of the batch all but the ceil(fraction n) hardest (ties: the earlier position is harder).
 */
export function keptInDialogue(batch: Batch, hard: Map<string, UtteranceHardness>, fraction: number): string[] {
  const out: string[] = [];
  for (let b = 0; b < batch.B; b++) {
    const ids: string[] = [];
    for (let s = 0; s < batch.S; s++) if (batch.umask[b * batch.S + s]) ids.push(batch.uttIds[b]![s]!);
    const swap = Math.ceil(fraction * ids.length);
    const order = ids.map((id, i) => ({ id, i, h: hard.get(id)!.h })).sort((x, y) => y.h - x.h || x.i - y.i);
    for (const { id } of order.slice(swap)) out.push(id);
  }
  return out;
}

export class Curriculum {
  private collector: DiagnosticsCollector;
  private timing: CurriculumTiming = { hardnessMs: 0, retrievalMs: 0, viewsMs: 0 };
  private rng: Rng;

  constructor(
    private readonly teacher: MerModel | undefined,
    private readonly retriever: Retriever,
    private readonly cfg: CurriculumConfig,
    private readonly task: Task,
    seed: number,
    /** True difficulty of a training utterance under an availability (the `oracle` control). */
    private readonly truth?: (id: string, avail: Avail) => number,
    /** The batch as the teacher sees it when it trained on other features (`teacherFeatures: raw`); default the batch itself. */
    private readonly teacherInput: (batch: Batch) => Batch = (batch) => batch,
  ) {
    if (cfg.hardness === 'oracle' ? !truth : !teacher) {
      throw new Error(cfg.hardness === 'oracle' ? 'curriculum: the oracle hardness needs the corpus ground truth' : 'curriculum: hardness from the teacher needs a teacher');
    }
    this.rng = new Rng(seed);
    this.collector = new DiagnosticsCollector(retriever.table, task);
  }

  /**
   * Starts an epoch with its own random stream (the `random` K policy draws from it), so a run
   * resumed at epoch e draws what an uninterrupted run draws there.
   */
  beginEpoch(rng: Rng): void {
    this.rng = rng;
  }

  /** The K + 1 views of one stage-2 training batch (view 0 is the batch itself). */
  views(batch: Batch): Batch[] {
    let t = performance.now();
    const hard = this.hardness(batch);
    const K = new Map<string, number>();
    for (const [id, h] of hard) K.set(id, chooseK(h.h, this.cfg, this.rng));
    if (this.cfg.views === 'keep-dialogue') for (const id of keptInDialogue(batch, hard, this.cfg.swapFraction)) K.set(id, 0);
    this.timing.hardnessMs += performance.now() - t;

    t = performance.now();
    const plan = planBatch(batch, this.retriever, (id) => K.get(id)!);
    for (let b = 0; b < batch.B; b++) {
      for (let s = 0; s < batch.S; s++) {
        const i = b * batch.S + s;
        if (!batch.umask[i]) continue;
        const id = batch.uttIds[b]![s]!;
        const row = this.retriever.table.rowById.get(id)!;
        this.collector.add(id, hard.get(id)!, K.get(id)!, this.retriever.candidates(row, availAt(batch, i)));
      }
    }
    this.timing.retrievalMs += performance.now() - t;

    t = performance.now();
    const views = buildViews(batch, plan, this.retriever.table, this.cfg.K, this.cfg.neighbourLabel);
    this.timing.viewsMs += performance.now() - t;
    return views;
  }

  /** Hardness of every real utterance of the batch under `cfg.hardness`. */
  private hardness(batch: Batch): Map<string, UtteranceHardness> {
    if (this.cfg.hardness === 'oracle') {
      const D = new Float32Array(batch.B * batch.S);
      for (let i = 0; i < D.length; i++) if (batch.umask[i]) D[i] = this.truth!(batch.uttIds[Math.floor(i / batch.S)]![i % batch.S]!, availAt(batch, i));
      // Both scores are the truth and read as 'shared', so h = sigmoid(beta ((alpha1 + alpha2) D_norm - centre)).
      return batchHardness(batch, D, D, { ...this.cfg, miTerm: 'shared' });
    }
    const { D, I } = teacherScores(this.teacher!, this.teacherInput(batch));
    const hard = batchHardness(batch, D, I, this.cfg);
    if (this.cfg.hardness === 'shuffled') {
      const ids = [...hard.keys()];
      const perm = this.rng.shuffle(ids.slice());
      const values = perm.map((id) => hard.get(id)!);
      return new Map(ids.map((id, i) => [id, values[i]!]));
    }
    return hard;
  }

  /** Diagnostics and timing of the epoch since the last call; starts a new epoch. */
  endEpoch(epoch: number): CurriculumEpoch {
    const out = { diagnostics: this.collector.finish(epoch), timing: this.timing };
    this.collector = new DiagnosticsCollector(this.retriever.table, this.task);
    this.timing = { hardnessMs: 0, retrievalMs: 0, viewsMs: 0 };
    return out;
  }
}
