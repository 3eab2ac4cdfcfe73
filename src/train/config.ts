/**
 * The resolved run configuration (spec: method.md §3, §5-§8). Defaults here; the CLI validates a
 * user's JSON/YAML file against a schema and merges defaults < file < flags. Every run writes the
 * resolved object next to its results.
 */
import type { CurriculumConfig } from '../curriculum/config.ts';
import type { Condition } from '../data/types.ts';
import type { ModelHyper } from '../model/types.ts';

export interface StageSchedule {
  /** Total epochs (stage 1 + stage 2). */
  epochs: number;
  /** Epochs of stage 1 (complete inputs); the rest are stage 2. */
  stage1Epochs: number;
}

export interface OptimConfig {
  lr: number;
  /** L2 penalty added to the loss (Adam with L2, as in the published code's weight_decay). */
  weightDecay: number;
  /** Dialogues per batch (utterances for the fine-tune MLP). */
  batchSize: number;
}

export interface RunConfig {
  seed: number;
  model: ModelHyper;
  teacher: StageSchedule;
  student: StageSchedule;
  momke: StageSchedule;
  finetune: { enabled: boolean; epochs: number; batchSize: number };
  optim: OptimConfig;
  curriculum: CurriculumConfig;
  /** `val`: select the best epoch on a validation split (default); `test`: the paper's optimistic test-fold selection. */
  selection: 'val' | 'test';
  /** Fraction of each IEMOCAP training fold's dialogues held out for validation. */
  validFraction: number;
  /** `fixed`: one model per condition; `random`: each utterance drops modalities at `missingRate`. */
  protocol: { kind: 'fixed' } | { kind: 'random'; missingRate: number };
  conditions: Condition[];
  /** 1-based folds to run (IEMOCAP: test session). */
  folds: number[];
  /** Stop when the selection metric has not improved for this many epochs (0 = never). */
  earlyStopPatience: number;
}

export const DEFAULT_CONFIG: RunConfig = {
  seed: 1,
  model: { hidden: 256, depth: 4, heads: 2, dropout: 0.5 },
  teacher: { epochs: 200, stage1Epochs: 100 },
  student: { epochs: 50, stage1Epochs: 25 },
  momke: { epochs: 200, stage1Epochs: 100 },
  finetune: { enabled: true, epochs: 30, batchSize: 16 },
  optim: { lr: 1e-4, weightDecay: 1e-5, batchSize: 16 },
  curriculum: {
    K: 3,
    Kmin: 1,
    beta: 4,
    centre: 0,
    alpha1: 0.6,
    alpha2: 0.4,
    miTerm: 'shared',
    kPolicy: 'hardness',
    neighbourLabel: 'query',
  },
  selection: 'val',
  validFraction: 0.1,
  protocol: { kind: 'fixed' },
  conditions: ['a', 't', 'v', 'at', 'av', 'tv'],
  folds: [1, 2, 3, 4, 5],
  earlyStopPatience: 0,
};
