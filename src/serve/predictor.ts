/**
 * The contract between the transport (HTTP server, CLI `predict`) and a trained run. The server
 * and the CLI only validate input and format output; everything model-specific sits behind
 * `Predictor`, so the same validated request gives the same answer on both paths.
 */
import type { Condition, Modality, Task } from '../data/types.ts';

/** One trained model a predictor can use (the fixed-condition protocol: one model per condition). */
export interface ModelInfo {
  condition: Condition;
  /** Free-form extras shown by `GET /models` (method, fold, seed, checkpoint epoch, teacher...). */
  [key: string]: unknown;
}

export interface PredictorInfo {
  task: Task;
  /** Class names in label order; empty for regression. */
  classNames: string[];
  /** Feature length per modality the models expect. */
  dims: Record<Modality, number>;
  /** Largest |value| accepted per modality (see validate.ts `featureLimits`); absent = any finite float32. */
  featureLimits?: Record<Modality, number>;
  models: ModelInfo[];
}

/** One validated utterance. Features hold only the modalities the chosen model uses. */
export interface RequestUtterance {
  id: string;
  speaker?: string;
  /** The model to use: the modalities given, or the request's explicit `condition`. */
  condition: Condition;
  /** Keys are exactly the modalities of `condition`; each has length dims[m], all finite. */
  features: Partial<Record<Modality, Float32Array>>;
}

export interface RequestDialogue {
  id: string;
  /** In conversation order (the models use the dialogue context). */
  utterances: RequestUtterance[];
}

/** A request after `validatePredictRequest`: ids unique, shapes checked, values finite. */
export interface PredictRequest {
  dialogues: RequestDialogue[];
  /** Only the models of this fold (e.g. for an utterance of its test split, which they never saw). */
  fold?: number;
  /** Also return each utterance's nearest training utterances (`neighbours`). */
  explain?: boolean;
}

/** A training utterance near a predicted one, in one model's fold retrieval index. */
export interface Neighbour {
  id: string;
  /** The modality whose index found it. */
  modality: Modality;
  fold: number;
  seed: number;
  /** The frozen teacher's hardness of it, in [0, 1]. */
  hardness: number;
  /** Squared L2 (audio, video) or 1 - cosine similarity (text), on the fold's transformed features. */
  distance: number;
  /** Its true label, when the server can read the run's corpus. */
  label?: string | number;
}

export interface UtterancePrediction {
  id: string;
  dialogue: string;
  /** Class probabilities in `classNames` order (classification only). */
  probs?: number[];
  /** Class name (classification) or the score (regression). */
  label: string | number;
  /** Regression score. */
  score?: number;
  /** Modalities the model used, in canonical a, t, v order. */
  used: Modality[];
  condition: Condition;
  /** The teacher's hardness estimate in [0, 1], when the run has a teacher. */
  hardness?: number;
  /** With `explain`: the training utterances `hardness` averages. */
  neighbours?: Neighbour[];
}

export interface PredictResponse {
  task: Task;
  /** One entry per request utterance, in request order (dialogue by dialogue). */
  utterances: UtterancePrediction[];
}

export interface Predictor {
  /** Throws ServiceUnavailableError while the models are still loading. */
  info(): PredictorInfo;
  /** Must not mutate `req`. May reject with a HardyError for a request it cannot serve. */
  predict(req: PredictRequest): Promise<PredictResponse>;
  /** Whether the models are loaded (`GET /ready`); a predictor without it is ready once built. */
  ready?(): boolean;
  /** Queue and worker figures for `GET /health`. */
  stats?(): Record<string, unknown>;
}

/**
 * The service cannot take the request now (models loading, queue full, deadline passed): HTTP 503
 * with `Retry-After`. Not the client's fault, so not a HardyError.
 */
export class ServiceUnavailableError extends Error {
  constructor(
    readonly code: 'not_ready' | 'overloaded' | 'timeout',
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'ServiceUnavailableError';
  }
}

/**
 * How a worker thread builds a predictor: `module` (a file URL) exports
 * `createPredictor(options): Promise<Predictor>`; options must be structured-cloneable.
 */
export interface PredictorSpec {
  module: string;
  options: unknown;
}
