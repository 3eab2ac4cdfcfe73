/**
 * The fold's training utterances as flat arrays: the rows of the retrieval indexes and the source
 * of the neighbours' features and labels in the curriculum's views. Built from `fold.train` only,
 * so nothing held out can ever be retrieved.
 */
import type { Fold, Modality, Utterance } from '../data/types.ts';
import { MODALITIES } from '../data/types.ts';
import { HardyError } from '../util/errors.ts';

export interface UtteranceTable {
  fold: number;
  ids: string[];
  rowById: Map<string, number>;
  /** [n] class index or regression score. */
  labels: Float32Array;
  dims: Record<Modality, number>;
  /** Per modality [n, d_m], row-major: the complete features as the student sees them. */
  features: Record<Modality, Float32Array>;
}

/** Utterance ids of the fold's training dialogues and of its held-out (validation + test) ones. */
export function foldIdSets(fold: Fold): { train: Set<string>; heldOut: Set<string> } {
  const ids = (ds: Fold['train']) => ds.flatMap((d) => d.utterances.map((u) => u.id));
  return { train: new Set(ids(fold.train)), heldOut: new Set(ids([...fold.valid, ...fold.test])) };
}

/** Throws if a training utterance is also a validation or test utterance of the fold. */
export function assertDisjointFold(fold: Fold): void {
  const { train, heldOut } = foldIdSets(fold);
  for (const id of train) {
    if (heldOut.has(id)) throw new HardyError(`fold ${fold.index}: utterance '${id}' is both a training and a validation/test utterance`);
  }
}

export type FeatureSource = (u: Utterance) => Record<Modality, Float32Array>;

export function trainingTable(fold: Fold, featuresOf: FeatureSource = (u) => u.features): UtteranceTable {
  assertDisjointFold(fold);
  const utts = fold.train.flatMap((d) => d.utterances);
  const first = utts[0];
  const dims = {} as Record<Modality, number>;
  const features = {} as Record<Modality, Float32Array>;
  for (const m of MODALITIES) {
    dims[m] = first ? featuresOf(first)[m].length : 0;
    features[m] = new Float32Array(utts.length * dims[m]);
  }
  const rowById = new Map<string, number>();
  const labels = new Float32Array(utts.length);
  utts.forEach((u, r) => {
    if (rowById.has(u.id)) throw new HardyError(`fold ${fold.index}: utterance id '${u.id}' appears twice in the training dialogues`);
    rowById.set(u.id, r);
    labels[r] = u.label;
    const f = featuresOf(u);
    for (const m of MODALITIES) {
      if (f[m].length !== dims[m]) {
        throw new HardyError(`utterance '${u.id}': ${m} feature has ${f[m].length} dims, expected ${dims[m]}`);
      }
      features[m].set(f[m], r * dims[m]);
    }
  });
  return { fold: fold.index, ids: utts.map((u) => u.id), rowById, labels, dims, features };
}

/** Row `r`'s feature of modality `m` (a view into the table, not a copy). */
export function rowFeature(table: UtteranceTable, m: Modality, r: number): Float32Array {
  const d = table.dims[m];
  return table.features[m].subarray(r * d, (r + 1) * d);
}
