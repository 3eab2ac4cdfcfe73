/**
 * Retrieval indexes for the curriculum (docs/method.md §6): one per fold and modality, over that
 * fold's TRAINING utterances only. The default is exact search as a batched matrix product:
 *   L2 (audio, video):  ||q - x||^2 = ||q||^2 - 2 q.x + ||x||^2
 *   cosine (text):      1 - q.x over L2-normalised vectors
 * followed by a top-k selection: in the native addon when it is built (sgemm + partial selection,
 * src/engine/knn.ts), else `tf.matMul` + `tf.topk`. At this project's scale (thousands of
 * utterances) that is as fast as faiss (bench/RESULTS.md, "Exact kNN"). An approximate index would implement `RetrievalIndex` and be chosen by the `kind` its saved file records.
 *
 * Ranking rule (defined here, relied on by the curriculum and its tests): smaller distance first;
 * equal distances go to the lower row, i.e. the utterance added to the index first.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Fold, Modality } from '../data/types.ts';
import { foldIdSets, type UtteranceTable } from './table.ts';
import { MODALITIES } from '../data/types.ts';
import { HardyError } from '../util/errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { nativeTopScores, type TopScores } from '../engine/knn.ts';
import { l2NormalizeRows } from '../data/batches.ts';

export type Metric = 'l2' | 'cosine';

/** The metrics of docs/method.md §6: L2 for audio and video, cosine for text. */
export const DEFAULT_METRICS: Record<Modality, Metric> = { a: 'l2', t: 'cosine', v: 'l2' };

/** Result of a search: row-major [nq, k]; a row with fewer than k neighbours is padded with -1 / Infinity. */
export interface Neighbours {
  k: number;
  /** [nq, k] rows of the index. */
  rows: Int32Array;
  /** [nq, k] distance, smaller = closer: squared L2, or 1 - cosine similarity. */
  dists: Float32Array;
}

export interface RetrievalIndex {
  readonly kind: string;
  readonly metric: Metric;
  readonly dim: number;
  /** Utterance id of each row, in insertion order. */
  readonly ids: readonly string[];
  /** Fold the index was built for (its training utterances). */
  readonly fold: number;
  rowOf(id: string): number | undefined;
  /**
   * Top-k neighbours of each query (`queries` is [nq, dim] row-major). `excludeRows[i]` (>= 0)
   * is a row never returned for query i (the query itself); -1 excludes nothing.
   */
  search(queries: Float32Array, k: number, excludeRows?: Int32Array): Neighbours;
  /** Writes `<dir>/<name>.json` (metadata) and `<dir>/<name>.f32` (vectors), atomically. */
  save(dir: string, name: string): void;
  dispose(): void;
}

export interface IndexSpec {
  metric: Metric;
  dim: number;
  fold: number;
  ids: string[];
  /** [n, dim] row-major. */
  vectors: Float32Array;
}

interface IndexMeta {
  kind: string;
  metric: Metric;
  dim: number;
  fold: number;
  size: number;
  ids: string[];
}

/** Score matrix entries per chunk of queries: bounds the [chunk, N] products to ~64 MB. */
const MAX_SCORE_ELEMS = 16 * 1024 * 1024;

/** Exact search by matrix product + topk. */
export class ExactIndex implements RetrievalIndex {
  readonly kind = 'exact';
  readonly metric: Metric;
  readonly dim: number;
  readonly fold: number;
  readonly ids: readonly string[];
  private readonly raw: Float32Array;
  private readonly rowById = new Map<string, number>();
  private readonly x: Float32Array; // [N, dim], L2-normalised for cosine
  private readonly xSq: Float32Array | null; // [N] squared norms (L2 only)
  private tensors?: { db: tf.Tensor2D; dbSq: tf.Tensor2D }; // the same on the tfjs path, made on first use
  /** Queries per matrix product; exposed so tests can force chunking. */
  chunkSize: number;

  constructor(spec: IndexSpec) {
    const { metric, dim, fold, ids, vectors } = spec;
    if (vectors.length !== ids.length * dim) {
      throw new HardyError(
        `retrieval index (fold ${fold}): expected ${ids.length} x ${dim} = ${ids.length * dim} values, got ${vectors.length}`,
      );
    }
    ids.forEach((id, r) => {
      if (this.rowById.has(id)) throw new HardyError(`retrieval index (fold ${fold}): utterance id '${id}' added twice`);
      this.rowById.set(id, r);
    });
    this.metric = metric;
    this.dim = dim;
    this.fold = fold;
    this.ids = ids.slice();
    this.raw = vectors;
    const n = Math.max(ids.length, 1);
    this.chunkSize = Math.max(1, Math.floor(MAX_SCORE_ELEMS / n));
    this.x = metric === 'cosine' ? l2NormalizeRows(vectors, dim) : vectors;
    this.xSq = metric === 'l2' ? rowSqNorms(this.x, dim) : null;
  }

  get size(): number {
    return this.ids.length;
  }

  rowOf(id: string): number | undefined {
    return this.rowById.get(id);
  }

  search(queries: Float32Array, k: number, excludeRows?: Int32Array): Neighbours {
    const { dim } = this;
    if (queries.length % dim !== 0) {
      throw new HardyError(`retrieval index (fold ${this.fold}): query length ${queries.length} is not a multiple of dim ${dim}`);
    }
    const nq = queries.length / dim;
    if (excludeRows && excludeRows.length !== nq) {
      throw new HardyError(`retrieval index (fold ${this.fold}): ${excludeRows.length} exclusions for ${nq} queries`);
    }
    const rows = new Int32Array(nq * k).fill(-1);
    const dists = new Float32Array(nq * k).fill(Infinity);
    // One extra candidate so that dropping the excluded row still leaves k.
    const kk = Math.min(k + (excludeRows ? 1 : 0), this.size);
    if (kk === 0 || nq === 0) return { k, rows, dists };
    // Queries are used as given: scaling a query does not change its ranking, so for cosine only the
    // kept scores are divided by ||q|| (instead of normalising every query first).
    for (let start = 0; start < nq; start += this.chunkSize) {
      const n = Math.min(this.chunkSize, nq - start);
      const qs = queries.subarray(start * dim, (start + n) * dim);
      const { values, indices } = this.topScores(qs, n, kk);
      for (let i = 0; i < n; i++) {
        const qi = start + i;
        const qSq = sqNorm(qs, i * dim, dim);
        const qNorm = Math.sqrt(qSq);
        const excl = excludeRows ? excludeRows[qi]! : -1;
        const cand: { row: number; dist: number }[] = [];
        for (let j = 0; j < kk; j++) {
          const row = indices[i * kk + j]!;
          if (row === excl) continue;
          const s = values[i * kk + j]!;
          // Rounding can make a squared distance slightly negative; it is at least 0.
          const dist = this.metric === 'l2' ? Math.max(0, qSq - s) : 1 - (qNorm > 0 ? s / qNorm : 0);
          cand.push({ row, dist });
        }
        cand.sort((x, y) => x.dist - y.dist || x.row - y.row);
        for (let j = 0; j < Math.min(k, cand.length); j++) {
          rows[qi * k + j] = cand[j]!.row;
          dists[qi * k + j] = cand[j]!.dist;
        }
      }
    }
    return { k, rows, dists };
  }

  /** Top-kk scores (larger = closer) for n queries: L2 gives 2 q.x - ||x||^2, cosine gives q.x. */
  private topScores(qs: Float32Array, n: number, kk: number): TopScores {
    // Native: sgemm + selection in the addon, straight on these arrays; else tfjs matMul + topk.
    const native = nativeTopScores(this.x, this.xSq, qs, this.dim, kk);
    if (native) return native;
    const size = this.size;
    this.tensors ??= { db: tf.tensor2d(this.x, [size, this.dim]), dbSq: tf.tensor2d(this.xSq ?? new Float32Array(size), [1, size]) };
    const { db, dbSq } = this.tensors;
    const [values, indices] = tf.tidy(() => {
      const qt = tf.tensor2d(qs, [n, this.dim]);
      const dot = tf.matMul(qt, db, false, true); // [n, N]
      const score = this.metric === 'l2' ? tf.sub(tf.mul(dot, 2), dbSq) : dot;
      const top = tf.topk(score, kk, true);
      return [top.values, top.indices];
    });
    const out = { values: values.dataSync() as Float32Array, indices: indices.dataSync() as Int32Array };
    values.dispose();
    indices.dispose();
    return out;
  }

  save(dir: string, name: string): void {
    const meta: IndexMeta = {
      kind: this.kind,
      metric: this.metric,
      dim: this.dim,
      fold: this.fold,
      size: this.size,
      ids: [...this.ids],
    };
    // Vectors first: a reader only trusts the pair once the metadata (written last) exists.
    writeFileAtomic(join(dir, `${name}.f32`), new Uint8Array(this.raw.buffer, this.raw.byteOffset, this.raw.byteLength));
    writeJsonAtomic(join(dir, `${name}.json`), meta);
  }

  dispose(): void {
    if (this.tensors) tf.dispose([this.tensors.db, this.tensors.dbSq]);
    this.tensors = undefined;
  }
}

/** Reloads an index written by `save`. */
export function loadIndex(dir: string, name: string): RetrievalIndex {
  const metaPath = join(dir, `${name}.json`);
  const binPath = join(dir, `${name}.f32`);
  if (!existsSync(metaPath) || !existsSync(binPath)) {
    throw new HardyError(`retrieval index '${name}': expected ${metaPath} and ${binPath}`);
  }
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as IndexMeta;
  if (meta.kind !== 'exact') throw new HardyError(`${metaPath}: unknown index kind '${meta.kind}' (known: exact)`);
  const buf = readFileSync(binPath);
  if (buf.byteLength !== meta.size * meta.dim * 4 || meta.ids.length !== meta.size) {
    throw new HardyError(
      `${binPath}: expected ${meta.size} x ${meta.dim} float32 (${meta.size * meta.dim * 4} bytes) and ${meta.size} ids, got ${buf.byteLength} bytes and ${meta.ids.length} ids`,
    );
  }
  // Copy: a Buffer may sit at an offset not aligned to 4 bytes.
  const vectors = new Float32Array(new Uint8Array(buf).buffer);
  return new ExactIndex({ metric: meta.metric, dim: meta.dim, fold: meta.fold, ids: meta.ids, vectors });
}

/** Throws unless every id of the index belongs to the fold's training dialogues. */
export function assertTrainingOnly(index: RetrievalIndex, fold: Fold): void {
  const { train, heldOut } = foldIdSets(fold);
  if (index.fold !== fold.index) {
    throw new HardyError(`retrieval index: built for fold ${index.fold}, used with fold ${fold.index}`);
  }
  for (const id of index.ids) {
    if (heldOut.has(id)) throw new HardyError(`retrieval index (fold ${fold.index}): utterance '${id}' is a validation/test utterance`);
    if (!train.has(id)) throw new HardyError(`retrieval index (fold ${fold.index}): utterance '${id}' is not a training utterance`);
  }
}

export type FoldIndexes = Record<Modality, RetrievalIndex>;

/**
 * One index per modality over the fold's training utterances (the table's rows, in its order, so
 * row r of every index is row r of the table).
 */
export function buildFoldIndexes(
  table: UtteranceTable,
  fold: Fold,
  metrics: Record<Modality, Metric> = DEFAULT_METRICS,
): FoldIndexes {
  const out = {} as FoldIndexes;
  for (const m of MODALITIES) {
    out[m] = new ExactIndex({ metric: metrics[m], dim: table.dims[m], fold: fold.index, ids: table.ids, vectors: table.features[m] });
    assertTrainingOnly(out[m], fold);
  }
  return out;
}

const indexName = (m: Modality): string => `index-${m}`;

export function saveFoldIndexes(indexes: FoldIndexes, dir: string): void {
  for (const m of MODALITIES) indexes[m].save(dir, indexName(m));
}

/** Whether `dir` holds all three saved indexes (each index writes its vectors, then its `.json`). */
export function foldIndexesSaved(dir: string): boolean {
  return MODALITIES.every((m) => existsSync(join(dir, `${indexName(m)}.json`)));
}

/** The three saved indexes, as they are (predict and serve search them for new utterances). */
export function readFoldIndexes(dir: string): FoldIndexes {
  const out = {} as FoldIndexes;
  for (const m of MODALITIES) out[m] = loadIndex(dir, indexName(m));
  return out;
}

/** Reloads the three indexes and checks again that they hold only the fold's training utterances. */
export function loadFoldIndexes(dir: string, fold: Fold): FoldIndexes {
  const out = readFoldIndexes(dir);
  for (const m of MODALITIES) assertTrainingOnly(out[m], fold);
  return out;
}

export function disposeFoldIndexes(indexes: FoldIndexes): void {
  for (const m of MODALITIES) indexes[m].dispose();
}

/** [n] squared norm of each row of x [n, dim]. */
function rowSqNorms(x: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(x.length / dim);
  for (let r = 0; r < out.length; r++) out[r] = sqNorm(x, r * dim, dim);
  return out;
}

function sqNorm(x: Float32Array, off: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += x[off + j]! * x[off + j]!;
  return s;
}

