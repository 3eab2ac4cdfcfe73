/**
 * The files training reads and writes, as train/ is handed them: where they sit in a run folder is
 * decided by `src/run/layout.ts`, never here. Folders are given whole where their content is one
 * format owned by a module below (a checkpoint, a saved model, a feature pipeline, the indexes).
 */
import type { ModelKind } from '../model/types.ts';

/** One model's training (trainer.ts). */
export interface ModelFiles {
  /** One JSON line per finished epoch (the history; rewritten on resume). */
  metrics: string;
  /** Checkpoint folder: the last finished epoch, for resume (train/checkpoint.ts). */
  checkpoint: string;
  /** The selected epoch's model folder (model.json + weights.bin). */
  model: string;
  /** Selected epoch, its metrics, the stage-1 epoch each expert was restored from. */
  result: string;
  /** Random protocol: the test masks, saved so every method is scored on the same ones. */
  testMasks: string;
  /**
   * Checkpoint folder shared by the units of one fold, seed and model kind: the end of stage 1 is
   * saved there once and the other units start from it. Omitted = every unit trains its own stage 1.
   */
  stage1Checkpoint?: string;
}

/** One unit of the HARDY-MER pipeline (hardy.ts). */
export interface UnitFiles {
  /** What the unit ran: method, condition, fold, config, fine-tuning reports. */
  record: string;
  /** The frozen teacher's hardness of every training utterance (read by predict). */
  hardness: string;
  /** Per stage-2 epoch curriculum diagnostics, JSON lines. */
  curriculumLog: string;
  /** Fold-shared: the fitted feature pipeline's folder, and its fine-tuning curves. */
  features: string;
  finetuneReport: string;
  /** Fold-shared: the retrieval indexes' folder. */
  indexes: string;
  /** Each model kind's files (`<unit>/<kind>/`). */
  models: Record<ModelKind, ModelFiles>;
}
