/** Build a model by kind from the run's hyper-parameters and the corpus' shape. */
import type { Modality, Task } from '../data/types.ts';
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

export function createModel(kind: ModelKind, config: ModelConfig, seed: number): MerModel {
  switch (kind) {
    case 'student':
      return new Student(config, seed);
    case 'teacher':
      return new Teacher(config, seed);
    case 'momke':
      return new MoMKE(config, seed);
  }
}
