/**
 * The contract every model (student, teacher, MoMKE) honours: a config, named parameters, and one
 * forward pass whose result carries everything the losses and the curriculum read.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Modality, Task } from '../data/types.ts';
import type { ModelHyper } from './config.ts';
import type { Ctx } from './layers.ts';
import type { ParamStore } from './params.ts';

export type { ModelHyper };
/** Every model the pipeline can train; each is one file plus its entry in factory.ts. */
export const MODEL_KINDS = ['student', 'teacher', 'momke', 'mmin', 'gcnet'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export type Stage = 1 | 2;
export type Pair = 'at' | 'av' | 'tv';
export const PAIRS: readonly Pair[] = ['at', 'av', 'tv'];

export interface ModelConfig extends ModelHyper {
  /** Input feature size per modality. */
  dims: Record<Modality, number>;
  /** Classes (classification) or 1 (regression). */
  numClasses: number;
  task: Task;
  /** Hidden width of the reconstruction decoder (docs/method.md §3: 1024). */
  decoderHidden: number;
}

/** Tensors of one batch. `x` holds the TRUE features; models zero the unavailable ones themselves. */
export interface ModelInputs {
  x: Record<Modality, tf.Tensor>; // [B, S, d_m]
  umask: tf.Tensor; // [B, S]
  avail: tf.Tensor; // [B, S, 3]
  /** Speaker index of each utterance (0 = F / unknown, 1 = M), [B, S]; read by GCNet's speaker graph. */
  speakers: tf.Tensor;
}

export interface ForwardOpts extends Ctx {
  stage: Stage;
}

export interface ForwardResult {
  /** [B, S, C] class logits, or [B, S, 1] regression values. */
  logits: tf.Tensor;
  /** Stage 1 only: per-modality heads on r_m, [B, S, C]. */
  unimodal?: Record<Modality, tf.Tensor>;
  /**
   * Per-modality representations r_m [B, S, D] (before the fusion head zeroes missing ones); absent
   * for models that fuse before they represent (GCNet).
   */
  reps?: Record<Modality, tf.Tensor>;
  /** Teacher only: joint representations c_mn [B, S, D]. */
  joint?: Record<Pair, tf.Tensor>;
  /** Student/teacher: reconstruction [B, S, d_a + d_t + d_v] in the order a, t, v. */
  recon?: tf.Tensor;
  /**
   * The model's own extra training terms, already weighted (MMIN's imagination losses): added to
   * the objective as they are. Only computed by training forward passes.
   */
  aux?: tf.Scalar;
}

export interface MerModel {
  readonly kind: ModelKind;
  readonly config: ModelConfig;
  readonly params: ParamStore;
  forward(inputs: ModelInputs, opts: ForwardOpts): ForwardResult;
  /**
   * Called by the trainer once at the switch to stage 2, after the stage-1 weights it keeps are
   * restored (MMIN freezes its pre-trained encoders there as imagination targets).
   */
  beginStage2?(): void;
  dispose(): void;
}
