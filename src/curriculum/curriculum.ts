/**
 * The stage-2 curriculum as the trainer sees it: for each training batch, the frozen teacher scores
 * every real utterance (hardness, recomputed every epoch because batches are re-shuffled), K_i
 * follows from the policy, the retriever gives the kept neighbours and the batch becomes K + 1
 * views. Each epoch ends with JSON-serialisable diagnostics and the time spent in each part.
 */
import type { Batch, Task } from '../data/types.ts';
import type { MerModel } from '../model/types.ts';
import type { CurriculumConfig } from './config.ts';
import { Rng } from '../util/rng.ts';
import { DiagnosticsCollector, type EpochDiagnostics } from './diagnostics.ts';
import { batchHardness, teacherScores } from './hardness.ts';
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

export class Curriculum {
  private collector: DiagnosticsCollector;
  private timing: CurriculumTiming = { hardnessMs: 0, retrievalMs: 0, viewsMs: 0 };
  private rng: Rng;

  constructor(
    private readonly teacher: MerModel,
    private readonly retriever: Retriever,
    private readonly cfg: CurriculumConfig,
    private readonly task: Task,
    seed: number,
  ) {
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
    const { D, I } = teacherScores(this.teacher, batch);
    const hard = batchHardness(batch, D, I, this.cfg);
    const K = new Map<string, number>();
    for (const [id, h] of hard) K.set(id, chooseK(h.h, this.cfg, this.rng));
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

  /** Diagnostics and timing of the epoch since the last call; starts a new epoch. */
  endEpoch(epoch: number): CurriculumEpoch {
    const out = { diagnostics: this.collector.finish(epoch), timing: this.timing };
    this.collector = new DiagnosticsCollector(this.retriever.table, this.task);
    this.timing = { hardnessMs: 0, retrievalMs: 0, viewsMs: 0 };
    return out;
  }
}
