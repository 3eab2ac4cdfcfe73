/**
 * Batches of whole dialogues padded to the longest in the batch (docs/method.md §1), seeded
 * shuffling, and feature transforms (text L2 normalisation, per-modality standardisation).
 * Features in a batch are always the true complete ones; `avail` says what the model may see.
 */
import { Rng } from '../util/rng.ts';
import { HardyError, quoteId } from '../util/errors.ts';
import { conditionAvail, type MaskSet } from './masks.ts';
import { MODALITIES, type Avail, type Batch, type Condition, type Corpus, type Dialogue, type Modality, type Utterance } from './types.ts';

export interface BatchOptions {
  /** Dialogues per batch. */
  batchSize: number;
  /** Shuffle dialogue order with `seed` (training); default false keeps the given order. */
  shuffle?: boolean;
  seed?: number;
  /** Fixed condition for every utterance (default `atv`). */
  condition?: Condition;
  /** Per-utterance availability (random-missing protocol); overrides `condition`. */
  masks?: MaskSet;
}

/** Availability of one utterance under the options. */
function availFor(options: Pick<BatchOptions, 'condition' | 'masks'>): (u: Utterance) => Avail {
  if (options.masks) {
    const masks = options.masks;
    return (u) => {
      const a = masks.avail.get(u.id);
      if (!a) throw new HardyError(`mask set (rate ${masks.rate}, seed ${masks.seed}) has no entry for utterance ${quoteId(u.id)}`);
      return a;
    };
  }
  const fixed = conditionAvail(options.condition ?? 'atv');
  return () => fixed;
}

/** Packs dialogues into one padded batch. */
export function makeBatch(dialogues: readonly Dialogue[], options: Pick<BatchOptions, 'condition' | 'masks'> = {}): Batch {
  if (dialogues.length === 0) throw new HardyError('cannot make a batch of zero dialogues');
  const first = dialogues[0]!.utterances[0];
  if (!first) throw new HardyError(`dialogue ${quoteId(dialogues[0]!.id)} has no utterances`);
  const dims = Object.fromEntries(MODALITIES.map((m) => [m, first.features[m].length])) as Record<Modality, number>;
  const B = dialogues.length;
  const S = Math.max(...dialogues.map((d) => d.utterances.length));
  const features = Object.fromEntries(MODALITIES.map((m) => [m, new Float32Array(B * S * dims[m])])) as Record<Modality, Float32Array>;
  const umask = new Float32Array(B * S);
  const avail = new Float32Array(B * S * 3);
  const labels = new Float32Array(B * S);
  const speakers = new Float32Array(B * S);
  const uttIds: string[][] = [];
  const availOf = availFor(options);
  dialogues.forEach((d, b) => {
    const ids = new Array<string>(S).fill('');
    d.utterances.forEach((u, s) => {
      const i = b * S + s;
      for (const m of MODALITIES) {
        if (u.features[m].length !== dims[m]) throw new HardyError(`utterance ${quoteId(u.id)} has a ${m} vector of length ${u.features[m].length}, expected ${dims[m]}`);
        features[m].set(u.features[m], i * dims[m]); // [B, S, d_m]
      }
      umask[i] = 1;
      avail.set(availOf(u), i * 3); // [B, S, 3]
      labels[i] = u.label;
      speakers[i] = u.speaker === 'M' ? 1 : 0;
      ids[s] = u.id;
    });
    uttIds.push(ids);
  });
  return { B, S, dialogueIds: dialogues.map((d) => d.id), uttIds, features, umask, avail, labels, speakers };
}

/**
 * The same batch (positions, availability, labels) with every real utterance's features taken from
 * `features` (id -> that utterance's vectors in another view of the corpus, e.g. before stage 0).
 */
export function withFeatures(batch: Batch, features: ReadonlyMap<string, Record<Modality, Float32Array>>): Batch {
  const first = features.values().next().value;
  if (!first) throw new HardyError('withFeatures: no features given');
  const dims = Object.fromEntries(MODALITIES.map((m) => [m, first[m].length])) as Record<Modality, number>;
  const out = Object.fromEntries(MODALITIES.map((m) => [m, new Float32Array(batch.B * batch.S * dims[m])])) as Record<Modality, Float32Array>;
  batch.uttIds.forEach((row, b) =>
    row.forEach((id, s) => {
      if (!batch.umask[b * batch.S + s]) return;
      const f = features.get(id);
      if (!f) throw new HardyError(`withFeatures: no features for utterance ${quoteId(id)}`);
      for (const m of MODALITIES) out[m].set(f[m], (b * batch.S + s) * dims[m]); // [B, S, d_m]
    }),
  );
  return { ...batch, features: out };
}

/** All batches of one pass (epoch) over `dialogues`. */
export function makeBatches(dialogues: readonly Dialogue[], options: BatchOptions): Batch[] {
  if (!(options.batchSize >= 1)) throw new HardyError(`batch size must be at least 1, got ${options.batchSize}`);
  const order = [...dialogues];
  if (options.shuffle) new Rng(options.seed ?? 0).shuffle(order);
  const out: Batch[] = [];
  for (let i = 0; i < order.length; i += options.batchSize) out.push(makeBatch(order.slice(i, i + options.batchSize), options));
  return out;
}

/** Rows of x [n, d] scaled to unit L2 norm, as a new array (zero rows stay zero). */
export function l2NormalizeRows(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let off = 0; off < x.length; off += d) {
    let s = 0;
    for (let i = off; i < off + d; i++) s += x[i]! * x[i]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = off; i < off + d; i++) out[i] = x[i]! * inv;
  }
  return out;
}

/** Returns a copy of the corpus with each utterance's vectors of `modalities` scaled to unit L2 norm (zero stays zero). */
export function l2Normalize(corpus: Corpus, modalities: readonly Modality[] = ['t']): Corpus {
  return mapFeatures(corpus, (m, x) => (modalities.includes(m) ? l2NormalizeRows(x, x.length) : x));
}

export interface ModalityStats {
  mean: Float32Array;
  std: Float32Array;
}

/** Per-dimension mean and std of each modality over the given dialogues (e.g. a fold's training set). */
export function modalityStats(dialogues: readonly Dialogue[]): Record<Modality, ModalityStats> {
  const out = {} as Record<Modality, ModalityStats>;
  const utts = dialogues.flatMap((d) => d.utterances);
  if (utts.length === 0) throw new HardyError('cannot compute feature statistics of zero utterances');
  for (const m of MODALITIES) {
    const d = utts[0]!.features[m].length;
    const sum = new Float64Array(d);
    const sq = new Float64Array(d);
    for (const u of utts) for (let j = 0; j < d; j++) { const x = u.features[m][j]!; sum[j]! += x; sq[j]! += x * x; }
    const mean = new Float32Array(d);
    const std = new Float32Array(d);
    for (let j = 0; j < d; j++) {
      mean[j] = sum[j]! / utts.length;
      std[j] = Math.sqrt(Math.max(0, sq[j]! / utts.length - mean[j]! ** 2));
    }
    out[m] = { mean, std };
  }
  return out;
}

/** Returns a copy of the corpus with (x - mean) / (std + eps) per modality. */
export function standardize(corpus: Corpus, stats: Record<Modality, ModalityStats>, eps = 1e-6): Corpus {
  return mapFeatures(corpus, (m, x) => x.map((v, j) => (v - stats[m].mean[j]!) / (stats[m].std[j]! + eps)));
}

/** A copy of the corpus with every feature vector replaced by f(modality, vector). */
export function mapFeatures(corpus: Corpus, f: (m: Modality, x: Float32Array, u: Utterance) => Float32Array): Corpus {
  return {
    ...corpus,
    dialogues: corpus.dialogues.map((d) => ({
      ...d,
      utterances: d.utterances.map((u) => ({ ...u, features: { a: f('a', u.features.a, u), t: f('t', u.features.t, u), v: f('v', u.features.v, u) } })),
    })),
  };
}

/** All utterances of the dialogues, in order. */
export function utterancesOf(dialogues: readonly Dialogue[]): Utterance[] {
  return dialogues.flatMap((d) => d.utterances);
}
