/**
 * The data model shared by every layer (docs/method.md §1-2). Plain typed arrays only: the data
 * layer knows nothing about tensors, so it stays fast to test and free of the engine.
 */

export type Modality = 'a' | 't' | 'v';
/** Canonical modality order everywhere: availability masks, concatenations, decoders. */
export const MODALITIES: readonly Modality[] = ['a', 't', 'v'];

/** Names the *available* modalities. `atv` is complete. */
export type Condition = 'a' | 't' | 'v' | 'at' | 'av' | 'tv' | 'atv';
export const CONDITIONS: readonly Condition[] = ['a', 't', 'v', 'at', 'av', 'tv', 'atv'];
/** The six incomplete conditions the paper reports, in the paper's column order. */
export const INCOMPLETE_CONDITIONS: readonly Condition[] = ['a', 't', 'v', 'at', 'av', 'tv'];

export type DatasetName = 'iemocap4' | 'iemocap6' | 'mosi' | 'mosei' | 'mmsa' | 'generic';
export type Task = 'classification' | 'regression';

export interface Utterance {
  id: string;
  /** IEMOCAP: 'F' | 'M'; CMU: '' */
  speaker: string;
  /** Class index (classification) or real score in [-3, 3] (regression). */
  label: number;
  /** One utterance-level vector per modality, length = corpus.dims[m]. */
  features: Record<Modality, Float32Array>;
}

export interface Dialogue {
  /** IEMOCAP vid such as `Ses01F_impro01`, or a CMU video id. */
  id: string;
  /** IEMOCAP session 1-5 (vid[4]); undefined for CMU. */
  session?: number;
  /** CMU / MMSA / generic: the corpus' own split; undefined for IEMOCAP (folds come from sessions). */
  split?: 'train' | 'valid' | 'test';
  /** Generic layout with a `group` column: folds are leave-one-group-out. */
  group?: string;
  utterances: Utterance[];
}

export interface Corpus {
  dataset: DatasetName;
  task: Task;
  /** Number of classes (classification) or 1 (regression). */
  numClasses: number;
  classNames: string[];
  dims: Record<Modality, number>;
  /** The modalities the corpus has features for; undefined = all three. */
  modalities?: Modality[];
  dialogues: Dialogue[];
  /** Where it was read from (for error messages and reports). */
  source: string;
  /** The file holding the labels (label pickle, MMSA pickle, labels.csv/jsonl); its hash fingerprints the run's data. */
  labelFile?: string;
  /**
   * Ground-truth per-utterance difficulty in [0, 1], only for synthetic corpora (side file
   * `difficulty.json`). Used to validate the hardness scorer, never for training.
   */
  difficulty?: Map<string, number>;
  /**
   * Synthetic corpora that record it (`scripted`): per utterance, how hard each modality is to
   * recover from the others, in [0, 1]. Under a condition the true difficulty is the mean over the
   * missing modalities (`conditionDifficulty`). Validation and the oracle control only.
   */
  modalityDifficulty?: Map<string, Record<Modality, number>>;
  /** Things the loader noticed that are not errors (e.g. utterances with no face track -> zero video). */
  notes?: string[];
}

/** Availability of (a, t, v) for one utterance: 1 = available. */
export type Avail = [number, number, number];

/** One fold of a corpus: which dialogues train, validate (model selection) and test. */
export interface Fold {
  /** 1-based fold number (IEMOCAP: the test session); 1 for CMU. */
  index: number;
  /** The held-out group's name (generic layout with groups). */
  name?: string;
  train: Dialogue[];
  valid: Dialogue[];
  test: Dialogue[];
}

/**
 * B dialogues padded to S utterances. Row-major flat arrays; shapes in comments.
 * Padding positions have umask 0, avail 0, zero features and label 0.
 */
export interface Batch {
  B: number;
  S: number;
  dialogueIds: string[];
  /** [B][S]; '' for padding. */
  uttIds: string[][];
  /** Per modality [B, S, d_m]: the *true* (complete) features. Models zero the missing ones. */
  features: Record<Modality, Float32Array>;
  /** [B, S] 1 = real utterance. */
  umask: Float32Array;
  /** [B, S, 3] 1 = modality available (always 0 on padding). */
  avail: Float32Array;
  /** [B, S] class index or regression score. */
  labels: Float32Array;
  /** [B, S] speaker index: 0 = F / unknown, 1 = M. */
  speakers: Float32Array;
}
