/**
 * HARDY-MER and its ablations as named presets over one pipeline (train/hardy.ts). Kept free of
 * tensor code so the CLI can list them without loading the engine.
 */
import type { RunConfig } from './config.ts';

export type HardyMethod = 'hardy' | 'no-curriculum' | 'direct-only' | 'indirect-only' | 'fixed-k' | 'random-k' | 'centred' | 'no-finetune' | 'momke';

export interface MethodSpec {
  describe: string;
  /** The deployed model. */
  model: 'student' | 'momke';
  /** Teacher + retrieval curriculum in the student's stage 2. */
  curriculum: boolean;
  apply(c: RunConfig): RunConfig;
}

const same = (c: RunConfig): RunConfig => c;
const curr = (c: RunConfig, over: Partial<RunConfig['curriculum']>): RunConfig => ({ ...c, curriculum: { ...c.curriculum, ...over } });

/** The method and its ablations, each a named preset. */
export const HARDY_METHODS: Record<HardyMethod, MethodSpec> = {
  hardy: { describe: 'HARDY-MER: teacher hardness + retrieval curriculum', model: 'student', curriculum: true, apply: same },
  'no-curriculum': { describe: 'the student alone (no teacher, no retrieval)', model: 'student', curriculum: false, apply: same },
  'direct-only': { describe: 'hardness from reconstruction error only (alpha2 = 0)', model: 'student', curriculum: true, apply: (c) => curr(c, { alpha2: 0 }) },
  'indirect-only': { describe: 'hardness from mutual information only (alpha1 = 0)', model: 'student', curriculum: true, apply: (c) => curr(c, { alpha1: 0 }) },
  'fixed-k': { describe: 'every utterance keeps K neighbours (no hardness)', model: 'student', curriculum: true, apply: (c) => curr(c, { kPolicy: 'fixed' }) },
  'random-k': { describe: 'K_i uniform in [K_min, K] (no hardness)', model: 'student', curriculum: true, apply: (c) => curr(c, { kPolicy: 'random' }) },
  centred: { describe: 'hardness sigmoid centred at 0.5 (centre = 0.5), so K_i spans K_min..K', model: 'student', curriculum: true, apply: (c) => curr(c, { centre: 0.5 }) },
  'no-finetune': { describe: 'HARDY-MER on the raw features (no stage 0)', model: 'student', curriculum: true, apply: (c) => ({ ...c, finetune: { ...c.finetune, enabled: false } }) },
  momke: { describe: 'MoMKE baseline on the same features', model: 'momke', curriculum: false, apply: same },
};

export function isHardyMethod(s: string): s is HardyMethod {
  return Object.hasOwn(HARDY_METHODS, s);
}

