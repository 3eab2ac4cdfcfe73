/**
 * HARDY-MER, its ablations and the baselines as named presets over one pipeline (train/hardy.ts).
 * A new method is a model file (registered in model/factory.ts) plus one entry here. Kept free of
 * tensor code so the CLI can list them without loading the engine.
 */
import type { ModelKind } from '../model/types.ts';
import type { RunConfig } from './config.ts';

export type HardyMethod =
  | 'hardy'
  | 'no-curriculum'
  | 'self-views'
  | 'shuffled-hardness'
  | 'same-label'
  | 'keep-dialogue'
  | 'oracle'
  | 'direct-only'
  | 'indirect-only'
  | 'fixed-k'
  | 'random-k'
  | 'centred'
  | 'no-finetune'
  | 'momke'
  | 'mmin'
  | 'gcnet';

export interface MethodSpec {
  describe: string;
  /** The deployed model (its schedule is `config[model]`). */
  model: Exclude<ModelKind, 'teacher'>;
  /** Teacher + retrieval curriculum in the student's stage 2. */
  curriculum: boolean;
  /** Stage 2 takes K + 1 steps on the batch itself (no teacher, no retrieval): the step-matched control. */
  selfViews?: boolean;
  apply(c: RunConfig): RunConfig;
}

const same = (c: RunConfig): RunConfig => c;
const curr = (c: RunConfig, over: Partial<RunConfig['curriculum']>): RunConfig => ({ ...c, curriculum: { ...c.curriculum, ...over } });

/** The method and its ablations, each a named preset. */
export const HARDY_METHODS: Record<HardyMethod, MethodSpec> = {
  hardy: { describe: 'HARDY-MER: teacher hardness + retrieval curriculum', model: 'student', curriculum: true, apply: same },
  'no-curriculum': { describe: 'the student alone (no teacher, no retrieval)', model: 'student', curriculum: false, apply: same },
  'self-views': {
    describe: 'K + 1 copies of every stage-2 batch (the same steps and selection points as HARDY-MER, no retrieval)',
    model: 'student',
    curriculum: false,
    selfViews: true,
    apply: same,
  },
  'shuffled-hardness': { describe: "the teacher's hardness permuted within each batch (same K_i distribution, no information)", model: 'student', curriculum: true, apply: (c) => curr(c, { hardness: 'shuffled' }) },
  'same-label': { describe: "neighbours retrieved among training utterances of the query's label", model: 'student', curriculum: true, apply: (c) => curr(c, { neighbours: 'same-label' }) },
  'keep-dialogue': { describe: 'views swap in neighbours only for the hardest utterances of each dialogue (swapFraction)', model: 'student', curriculum: true, apply: (c) => curr(c, { views: 'keep-dialogue' }) },
  oracle: { describe: "synthetic corpora: the generator's true difficulty instead of the teacher's hardness", model: 'student', curriculum: true, apply: (c) => curr(c, { hardness: 'oracle' }) },
  'direct-only': { describe: 'hardness from reconstruction error only (alpha2 = 0)', model: 'student', curriculum: true, apply: (c) => curr(c, { alpha2: 0 }) },
  'indirect-only': { describe: 'hardness from mutual information only (alpha1 = 0)', model: 'student', curriculum: true, apply: (c) => curr(c, { alpha1: 0 }) },
  'fixed-k': { describe: 'every utterance keeps K neighbours (no hardness)', model: 'student', curriculum: true, apply: (c) => curr(c, { kPolicy: 'fixed' }) },
  'random-k': { describe: 'K_i uniform in [K_min, K] (no hardness)', model: 'student', curriculum: true, apply: (c) => curr(c, { kPolicy: 'random' }) },
  centred: { describe: 'hardness sigmoid centred at 0.5 (centre = 0.5), so K_i spans K_min..K', model: 'student', curriculum: true, apply: (c) => curr(c, { centre: 0.5 }) },
  'no-finetune': { describe: 'HARDY-MER on the raw features (no stage 0)', model: 'student', curriculum: true, apply: (c) => ({ ...c, finetune: { ...c.finetune, enabled: false } }) },
  momke: { describe: 'MoMKE baseline on the same features', model: 'momke', curriculum: false, apply: same },
  mmin: { describe: 'MMIN baseline: pre-trained encoders, cascade residual imagination with a cycle', model: 'mmin', curriculum: false, apply: same },
  gcnet: { describe: 'GCNet baseline: speaker and temporal graphs over the dialogue, completion loss', model: 'gcnet', curriculum: false, apply: same },
};

export function isHardyMethod(s: string): s is HardyMethod {
  return Object.hasOwn(HARDY_METHODS, s);
}

