/**
 * Per-epoch diagnostics of the curriculum (docs/method.md §6), JSON-serialisable: hardness
 * histogram, mean K_i, neighbour label agreement at 1/3/5 over the re-ranked neighbour list, and
 * the hardest and easiest utterances with their kept neighbours' ids and labels.
 *
 * Label agreement: classification compares class indices; regression compares polarity
 * (sign of the score), the ACC-2 reading of a sentiment label.
 */
import type { Task } from '../data/types.ts';
import type { UtteranceHardness } from './hardness.ts';
import type { Candidate } from './retrieval.ts';
import type { UtteranceTable } from './table.ts';

export const HIST_BINS = 10;
export const AGREEMENT_AT = [1, 3, 5] as const;
export const EXTREMES = 5;

export interface NeighbourInfo {
  id: string;
  label: number;
  dist: number;
}

export interface UtteranceReport {
  id: string;
  label: number;
  h: number;
  direct: number;
  indirect: number;
  K: number;
  neighbours: NeighbourInfo[];
}

export interface EpochDiagnostics {
  epoch: number;
  utterances: number;
  /** Counts of h in HIST_BINS equal bins over [0, 1]. */
  hardnessHistogram: number[];
  hardnessMean: number;
  meanK: number;
  /** Count of utterances per K_i (index = K_i). */
  kCounts: number[];
  /** Fraction of utterances with at least one same-label neighbour among the first n (n = 1, 3, 5). */
  hitAt: Record<string, number>;
  /** Mean fraction of same-label neighbours among the first n. */
  precisionAt: Record<string, number>;
  /** Mean length of the re-ranked candidate lists (agreement at n uses the first min(n, length)). */
  meanCandidates: number;
  hardest: UtteranceReport[];
  easiest: UtteranceReport[];
}

interface Entry {
  row: number;
  hard: UtteranceHardness;
  K: number;
  candidates: Candidate[];
}

export class DiagnosticsCollector {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly table: UtteranceTable,
    private readonly task: Task,
  ) {}

  /** Records one training utterance of the epoch (the last record of an id wins). */
  add(id: string, hard: UtteranceHardness, K: number, candidates: Candidate[]): void {
    const row = this.table.rowById.get(id);
    if (row === undefined) throw new Error(`diagnostics: '${id}' is not in the fold's training table`);
    this.entries.set(id, { row, hard, K, candidates });
  }

  private agree(a: number, b: number): boolean {
    return this.task === 'classification' ? a === b : Math.sign(a) === Math.sign(b);
  }

  finish(epoch: number): EpochDiagnostics {
    const { table } = this;
    const es = [...this.entries.entries()];
    const n = es.length;
    const hist = new Array<number>(HIST_BINS).fill(0);
    const kCounts: number[] = [];
    const hits: Record<string, number> = {};
    const prec: Record<string, number> = {};
    for (const at of AGREEMENT_AT) hits[at] = prec[at] = 0;
    let hSum = 0;
    let kSum = 0;
    let cSum = 0;
    for (const [, e] of es) {
      hist[Math.min(HIST_BINS - 1, Math.floor(e.hard.h * HIST_BINS))]!++;
      hSum += e.hard.h;
      kSum += e.K;
      kCounts[e.K] = (kCounts[e.K] ?? 0) + 1;
      cSum += e.candidates.length;
      const own = table.labels[e.row]!;
      for (const at of AGREEMENT_AT) {
        const top = e.candidates.slice(0, at);
        const same = top.filter((c) => this.agree(table.labels[c.row]!, own)).length;
        if (same > 0) hits[at]!++;
        if (top.length) prec[at]! += same / top.length;
      }
    }
    for (const at of AGREEMENT_AT) {
      hits[at] = n ? hits[at]! / n : 0;
      prec[at] = n ? prec[at]! / n : 0;
    }
    // Sort by hardness, ties by id, so the report is deterministic.
    const sorted = es.sort(([ia, a], [ib, b]) => b.hard.h - a.hard.h || (ia < ib ? -1 : ia > ib ? 1 : 0));
    const report = ([id, e]: [string, Entry]): UtteranceReport => ({
      id,
      label: table.labels[e.row]!,
      h: e.hard.h,
      direct: e.hard.direct,
      indirect: e.hard.indirect,
      K: e.K,
      neighbours: e.candidates.slice(0, e.K).map((c) => ({ id: table.ids[c.row]!, label: table.labels[c.row]!, dist: c.dist })),
    });
    return {
      epoch,
      utterances: n,
      hardnessHistogram: hist,
      hardnessMean: n ? hSum / n : 0,
      meanK: n ? kSum / n : 0,
      kCounts: Array.from(kCounts, (c) => c ?? 0),
      hitAt: hits,
      precisionAt: prec,
      meanCandidates: n ? cSum / n : 0,
      hardest: sorted.slice(0, EXTREMES).map(report),
      easiest: sorted.slice(-EXTREMES).reverse().map(report),
    };
  }
}
