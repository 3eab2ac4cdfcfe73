/**
 * Neighbour lists of the retrieval-based curriculum (docs/method.md §6).
 *
 * For a training utterance with availability (a, t, v): each available modality's index gives its
 * top K (the utterance itself excluded); the lists are concatenated in the order a, v, t and
 * de-duplicated keeping the first occurrence; the merged list is re-ranked by the mean over a, t, v
 * of the L2 distance between the neighbour's and the query's complete features.
 * Tie rule of the re-ranking: the sort is stable, so equal mean distances keep the merged order
 * (a's list before v's before t's, each in its index's order).
 *
 * The per-modality searches depend only on the (fixed) features, so they run once per fold; the
 * merge depends on the utterance's availability and is cached per (utterance, availability).
 */
import type { Avail, Modality } from '../data/types.ts';
import { MODALITIES } from '../data/types.ts';
import type { CurriculumConfig } from './config.ts';
import { HardyError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import type { FoldIndexes } from './retrieval-index.ts';
import type { UtteranceTable } from './table.ts';
import { rowFeature } from './table.ts';

/** Merge order of the per-modality lists. */
export const MERGE_ORDER: readonly Modality[] = ['a', 'v', 't'];
const AVAIL_POS: Record<Modality, number> = { a: 0, t: 1, v: 2 };

export interface Candidate {
  row: number;
  /** Mean over a, t, v of the L2 distance between complete features. */
  dist: number;
}

export class Retriever {
  /** Per modality [n, K] rows, -1 padded (from the index, self excluded). */
  private readonly lists: Record<Modality, Int32Array>;
  private readonly cache = new Map<string, Candidate[]>();

  constructor(
    readonly table: UtteranceTable,
    indexes: FoldIndexes,
    readonly K: number,
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
      this.lists[m] = idx.search(table.features[m], K, self).rows;
    }
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
    const ranked = merged.map((r) => ({ row: r, dist: meanCompleteDistance(this.table, row, r) }));
    // Array.prototype.sort is stable (ES2019): ties keep the merged order.
    return ranked.sort((x, y) => x.dist - y.dist);
  }
}

/** Mean over a, t, v of ||x_m(i) - x_m(j)||_2. */
export function meanCompleteDistance(table: UtteranceTable, i: number, j: number): number {
  let s = 0;
  for (const m of MODALITIES) {
    const x = rowFeature(table, m, i);
    const y = rowFeature(table, m, j);
    let d = 0;
    for (let k = 0; k < x.length; k++) {
      const e = x[k]! - y[k]!;
      d += e * e;
    }
    s += Math.sqrt(d);
  }
  return s / MODALITIES.length;
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
