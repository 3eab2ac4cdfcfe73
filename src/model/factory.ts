/**
 * Build a model by kind from the run's hyper-parameters and the corpus' shape. Adding a model is
 * its file plus one entry in `MODELS` (and its name in `MODEL_KINDS`, types.ts).
 */
import type { Modality, Task } from '../data/types.ts';
import { GCNet } from './gcnet.ts';
import { MMIN } from './mmin.ts';
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

export function createModel(kind: ModelKind, config: ModelConfig, seed: number): MerModel {
  return new MODELS[kind](config, seed);
}
