/** One small, fast training run on the tiny synthetic corpus, shared by the training tests. */
import { getFold } from '../../src/data/index.ts';
import type { Condition } from '../../src/data/types.ts';
import { scorerFor } from '../../src/eval/metrics.ts';
import type { ModelKind } from '../../src/model/types.ts';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/train/config.ts';
import { train, type TrainHooks, type TrainResult } from '../../src/train/trainer.ts';
import type { SynthPreset } from '../../src/data/index.ts';
import { synthCorpus } from './corpus.ts';
import { modelFiles } from '../../src/run/layout.ts';

export const TINY_CONFIG: RunConfig = {
  ...DEFAULT_CONFIG,
  seed: 3,
  model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 },
  optim: { ...DEFAULT_CONFIG.optim, lr: 3e-3, batchSize: 2 },
};

export async function runTiny(
  runDir: string | undefined,
  hooks?: TrainHooks,
  { kind = 'student' as ModelKind, condition = 'at' as Condition, epochs = 5, stage1Epochs = 2, config = TINY_CONFIG, preset = 'tiny' as SynthPreset } = {},
): Promise<TrainResult> {
  const corpus = synthCorpus(preset);
  const fold = getFold(corpus, 1, { seed: 1, validFraction: 0.2 });
  return train({
    kind,
    config,
    corpus,
    fold,
    condition,
    score: scorerFor(corpus.task, corpus.numClasses),
    primary: 'WA',
    schedule: { epochs, stage1Epochs },
    decoderHidden: 32,
    files: runDir ? modelFiles(runDir) : undefined,
    hooks,
    progress: { quiet: true },
  });
}

/** Share of the most frequent class in fold 1's test split of the `small` preset (what runTiny tests on). */
export function smallMajority(): number {
  const fold = getFold(synthCorpus('small'), 1, { seed: 1, validFraction: 0.2 });
  const counts = [0, 0, 0, 0];
  for (const d of fold.test) for (const u of d.utterances) counts[u.label]!++;
  return Math.max(...counts) / counts.reduce((a, b) => a + b, 0);
}
