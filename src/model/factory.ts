/**
 * Build a model by kind from the run's hyper-parameters and the corpus' shape. Adding a model is
 * its file plus one entry in `MODELS` (and its name in `MODEL_KINDS`, types.ts).
 */
import type { Modality, Task } from '../data/types.ts';
import { GCNet } from './gcnet.ts';
import { HardyError } from '../util/errors.ts';
import { MMIN, mminConfigError } from './mmin.ts';
import { MoMKE } from './momke.ts';
import { Student } from './student.ts';
import { Teacher } from './teacher.ts';
import type { MerModel, ModelConfig, ModelHyper, ModelKind } from './types.ts';

export interface CorpusShape {
  dims: Record<Modality, number>;
  task: Task;
  /** Classes, or 1 for regression. */
  numClasses: number;
}

export function modelConfig(hyper: ModelHyper, corpus: CorpusShape, decoderHidden = 1024): ModelConfig {
  return {
    hidden: hyper.hidden,
    depth: hyper.depth,
    heads: hyper.heads,
    dropout: hyper.dropout,
    dims: { ...corpus.dims },
    task: corpus.task,
    numClasses: corpus.task === 'regression' ? 1 : corpus.numClasses,
    decoderHidden,
  };
}

const MODELS: Record<ModelKind, new (config: ModelConfig, seed: number) => MerModel> = {
  student: Student,
  teacher: Teacher,
  momke: MoMKE,
  mmin: MMIN,
  gcnet: GCNet,
};

/** What a model kind requires of the shared hyper-parameters beyond the schema (a message when violated). */
const REQUIREMENTS: Partial<Record<ModelKind, (hyper: ModelHyper) => string | undefined>> = {
  mmin: (h) => mminConfigError(h.hidden),
};

/** Throws a HardyError naming the setting when `kind` cannot be built with `hyper`; runs check it before claiming a folder. */
export function checkModelHyper(kind: ModelKind, hyper: ModelHyper): void {
  const error = REQUIREMENTS[kind]?.(hyper);
  if (error) throw new HardyError(`config: ${error}`);
}

export function createModel(kind: ModelKind, config: ModelConfig, seed: number): MerModel {
  return new MODELS[kind](config, seed);
}
