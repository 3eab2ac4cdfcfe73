/**
 * Aggregation of per-run metrics (docs/method.md §8): per condition the mean over folds, the average over
 * the six incomplete conditions, then mean +- std over seeds (sample std, n - 1; 0 for one seed).
 */
import { INCOMPLETE_CONDITIONS, type Condition } from '../data/types.ts';
import type { MetricRecord } from './metrics.ts';

export interface RunMetrics {
  seed: number;
  condition: Condition;
  fold: number;
  metrics: MetricRecord;
}

export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

export interface Aggregate {
  /** Condition -> metric -> mean +- std over seeds of the fold mean. */
  perCondition: Partial<Record<Condition, Record<string, MeanStd>>>;
  /** Mean over the six incomplete conditions (only when all six are present), then over seeds. */
  average?: Record<string, MeanStd>;
  seeds: number[];
  folds: number[];
}

/** Element-wise mean of records (over the metric names they share). */
export function meanRecord(records: MetricRecord[]): MetricRecord {
  if (records.length === 0) throw new Error('meanRecord: no records');
  const names = Object.keys(records[0]!).filter((k) => records.every((r) => typeof r[k] === 'number'));
  return Object.fromEntries(names.map((k) => [k, records.reduce((s, r) => s + r[k]!, 0) / records.length]));
}

export function meanStd(records: MetricRecord[]): Record<string, MeanStd> {
  const mean = meanRecord(records);
  const n = records.length;
  return Object.fromEntries(
    Object.entries(mean).map(([k, m]) => {
      const v = n > 1 ? records.reduce((s, r) => s + (r[k]! - m) ** 2, 0) / (n - 1) : 0;
      return [k, { mean: m, std: Math.sqrt(v), n }];
    }),
  );
}

export function aggregate(runs: RunMetrics[], conditions: readonly Condition[] = INCOMPLETE_CONDITIONS): Aggregate {
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const folds = [...new Set(runs.map((r) => r.fold))].sort((a, b) => a - b);
  const present = [...new Set(runs.map((r) => r.condition))];
  // seed -> condition -> fold mean
  const foldMean = new Map<number, Map<Condition, MetricRecord>>();
  for (const seed of seeds) {
    const byCond = new Map<Condition, MetricRecord>();
    for (const c of present) {
      const rs = runs.filter((r) => r.seed === seed && r.condition === c).map((r) => r.metrics);
      if (rs.length) byCond.set(c, meanRecord(rs));
    }
    foldMean.set(seed, byCond);
  }
  const perCondition: Aggregate['perCondition'] = {};
  for (const c of present) {
    const recs = seeds.map((s) => foldMean.get(s)!.get(c)).filter((r): r is MetricRecord => r !== undefined);
    perCondition[c] = meanStd(recs);
  }
  const complete = seeds.filter((s) => conditions.every((c) => foldMean.get(s)!.has(c)));
  const average = complete.length
    ? meanStd(complete.map((s) => meanRecord(conditions.map((c) => foldMean.get(s)!.get(c)!))))
    : undefined;
  return { perCondition, average, seeds, folds };
}
