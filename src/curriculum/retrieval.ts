/**
 * Neighbour lists of the retrieval-based curriculum (docs/method.md §6 and §9).
 *
 * For a training utterance with availability (a, t, v): each available modality's index gives its
 * top K (the utterance itself excluded; under `neighbours: 'same-label'` only among the training
 * utterances of its label, or of its polarity for regression); the lists are concatenated in the
 * order a, v, t and de-duplicated keeping the first occurrence; then, by `rerank`:
 *   normalised  sorted by the mean over a, t, v of ||x_m(i) - x_m(j)|| / scale_m, scale_m the median
 *               pairwise L2 distance of modality m over the training table (so no modality's feature
 *               scale decides alone: raw medians are about a 11, t 1.4, v 17 on the synthetic data);
 *   raw         sorted by the mean of the raw L2 distances (the original spec: follows video);
 *   none        kept in the merged order (the published code's effective behaviour).
 * Tie rule of the re-ranking: the sort is stable, so equal distances keep the merged order.
 *
 * The per-modality searches depend only on the (fixed) features, so they run once per fold; the
 * merge depends on the utterance's availability and is cached per (utterance, availability).
 */
import type { Avail, Modality } from '../data/types.ts';
import { MODALITIES } from '../data/types.ts';
import type { CurriculumConfig } from './config.ts';
import { HardyError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { ExactIndex, DEFAULT_METRICS, type FoldIndexes } from './retrieval-index.ts';
import type { UtteranceTable } from './table.ts';
import { rowFeature } from './table.ts';

/** Merge order of the per-modality lists. */
export const MERGE_ORDER: readonly Modality[] = ['a', 'v', 't'];
const AVAIL_POS: Record<Modality, number> = { a: 0, t: 1, v: 2 };

export interface Candidate {
  row: number;
  /** Re-rank distance: mean over a, t, v of the (normalised or raw) L2 distance between complete features. */
  dist: number;
}

export type RetrieverOptions = Pick<CurriculumConfig, 'rerank' | 'neighbours'>;

export class Retriever {
  /** Per modality [n, K] rows, -1 padded (from the index, self excluded). */
  private readonly lists: Record<Modality, Int32Array>;
  private readonly cache = new Map<string, Candidate[]>();
  /** Per modality: the divisor of its distances in the re-rank (1 under `raw`). */
  readonly scales: Record<Modality, number>;

  constructor(
    readonly table: UtteranceTable,
    indexes: FoldIndexes,
    readonly K: number,
    readonly options: RetrieverOptions = { rerank: 'normalised', neighbours: 'any' },
    readonly labelGroup: (label: number) => number = (l) => l,
  ) {
    const n = table.ids.length;
    const self = Int32Array.from({ length: n }, (_, r) => r);
    this.lists = {} as Record<Modality, Int32Array>;
    for (const m of MODALITIES) {
      const idx = indexes[m];
      // Row r of the index must be row r of the table (same training utterances, same order).
      if (idx.ids.length !== n || idx.ids.some((id, r) => id !== table.ids[r])) {
        throw new HardyError(`retrieval: the ${m} index (fold ${idx.fold}) does not hold the fold's training table in order`);
      }
      this.lists[m] = options.neighbours === 'same-label' ? this.sameLabelLists(m, idx.metric) : idx.search(table.features[m], K, self).rows;
    }
    this.scales = { a: 1, t: 1, v: 1 };
    if (options.rerank === 'normalised') for (const m of MODALITIES) this.scales[m] = medianPairwiseDistance(table, m);
  }

  /**
   * Top K of every row among the rows of its own label group, self excluded: one exact index per
   * group (what a search of the whole index filtered by label would give, without a k large enough
   * to be sure of K survivors).
   */
  private sameLabelLists(m: Modality, metric: (typeof DEFAULT_METRICS)[Modality]): Int32Array {
    const { table, K } = this;
    const n = table.ids.length;
    const d = table.dims[m];
    const out = new Int32Array(n * K).fill(-1);
    const groups = new Map<number, number[]>();
    for (let r = 0; r < n; r++) {
      const g = this.labelGroup(table.labels[r]!);
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push(r);
    }
    for (const rows of groups.values()) {
      const vectors = new Float32Array(rows.length * d);
      rows.forEach((r, i) => vectors.set(rowFeature(table, m, r), i * d));
      const idx = new ExactIndex({ metric, dim: d, fold: table.fold, ids: rows.map((r) => table.ids[r]!), vectors });
      const found = idx.search(vectors, K, Int32Array.from(rows, (_, i) => i)).rows;
      idx.dispose();
      rows.forEach((r, i) => {
        for (let j = 0; j < K; j++) {
          const local = found[i * K + j]!;
          out[r * K + j] = local < 0 ? -1 : rows[local]!;
        }
      });
    }
    return out;
  }

  /** The merged, de-duplicated, re-ranked neighbours of training row `row` under `avail`. */
  candidates(row: number, avail: Avail): Candidate[] {
    const key = `${row}:${avail.join('')}`;
    let out = this.cache.get(key);
    if (!out) {
      out = this.merge(row, avail);
      this.cache.set(key, out);
    }
    return out;
  }

  /** The first K_i candidates (the neighbours the curriculum keeps). */
  kept(row: number, avail: Avail, Ki: number): Candidate[] {
    return this.candidates(row, avail).slice(0, Ki);
  }

  private merge(row: number, avail: Avail): Candidate[] {
    const seen = new Set<number>();
    const merged: number[] = [];
    for (const m of MERGE_ORDER) {
      if (!avail[AVAIL_POS[m]]) continue;
      const list = this.lists[m];
      for (let j = 0; j < this.K; j++) {
        const r = list[row * this.K + j]!;
        if (r < 0 || seen.has(r)) continue;
        seen.add(r);
        merged.push(r);
      }
    }
    const ranked = merged.map((r) => ({ row: r, dist: meanCompleteDistance(this.table, row, r, this.scales) }));
    // Array.prototype.sort is stable (ES2019): ties keep the merged order.
    return this.options.rerank === 'none' ? ranked : ranked.sort((x, y) => x.dist - y.dist);
  }
}

/** Mean over a, t, v of ||x_m(i) - x_m(j)||_2 / scale_m (scale 1: the raw distances). */
export function meanCompleteDistance(table: UtteranceTable, i: number, j: number, scales: Record<Modality, number> = { a: 1, t: 1, v: 1 }): number {
  let s = 0;
  for (const m of MODALITIES) s += l2(rowFeature(table, m, i), rowFeature(table, m, j)) / scales[m];
  return s / MODALITIES.length;
}

function l2(x: Float32Array, y: Float32Array): number {
  let d = 0;
  for (let k = 0; k < x.length; k++) {
    const e = x[k]! - y[k]!;
    d += e * e;
  }
  return Math.sqrt(d);
}

/** Pairs sampled for the median: all pairs up to this many rows, else an evenly spaced subset of rows. */
const MEDIAN_ROWS = 600;

/**
 * Median L2 distance between distinct training rows of modality m (over all pairs of at most
 * MEDIAN_ROWS evenly spaced rows): the scale of m's distances in the normalised re-rank. At least
 * 1e-12 so a constant modality does not divide by zero.
 */
export function medianPairwiseDistance(table: UtteranceTable, m: Modality): number {
  const n = table.ids.length;
  const step = Math.max(1, n / MEDIAN_ROWS);
  const rows: number[] = [];
  for (let x = 0; Math.floor(x) < n && rows.length < MEDIAN_ROWS; x += step) rows.push(Math.floor(x));
  const ds: number[] = [];
  for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) ds.push(l2(rowFeature(table, m, rows[i]!), rowFeature(table, m, rows[j]!)));
  if (!ds.length) return 1;
  ds.sort((a, b) => a - b);
  const mid = ds.length >> 1;
  const med = ds.length % 2 ? ds[mid]! : (ds[mid - 1]! + ds[mid]!) / 2;
  return Math.max(med, 1e-12);
}

/** The dynamic K (docs/method.md §6): K_i = min(K, floor(h (K + 1 - K_min) + K_min)). */
export function dynamicK(h: number, K: number, Kmin: number): number {
  return Math.min(K, Math.floor(h * (K + 1 - Kmin) + Kmin));
}

/**
 * K_i under the configured policy: from hardness (the method), always K (`fixed`), or uniform in
 * [K_min, K] (`random`, drawn from `rng`).
 */
export function chooseK(h: number, cfg: Pick<CurriculumConfig, 'K' | 'Kmin' | 'kPolicy'>, rng: Rng): number {
  switch (cfg.kPolicy) {
    case 'hardness':
      return dynamicK(h, cfg.K, cfg.Kmin);
    case 'fixed':
      return cfg.K;
    case 'random':
      return cfg.Kmin + rng.int(cfg.K - cfg.Kmin + 1);
  }
}
