/**
 * Per-unit test metrics -> the results object (`RUNDIR/results.json`, `train --json`): per unit
 * its folds, mean and std; the average over units.
 */
import type { Condition, DatasetName } from '../data/types.ts';
import { aggregate, meanStd, type RunMetrics } from './aggregate.ts';
import type { MetricRecord } from './metrics.ts';
import type { ConditionResult, RunResults, Selection } from './report-data.ts';

/** One unit's test metrics; `unit` is a condition under the fixed protocol, `rate-<r>` under the random one. */
export interface UnitScore {
  seed: number;
  fold: number;
  unit: string;
  test: MetricRecord;
}

export interface ResultsOf {
  dataset: DatasetName;
  method: string;
  /** `fixed` or `random:<rate>`. */
  protocol: string;
  selection: Selection;
}

export function buildResults(of: ResultsOf, records: UnitScore[]): RunResults {
  const units = [...new Set(records.map((r) => r.unit))];
  // `aggregate` speaks of conditions; a random-protocol unit stands in as 'atv'.
  const asCond = (u: string): Condition => (of.protocol === 'fixed' ? (u as Condition) : 'atv');
  const runs: RunMetrics[] = records.map((r) => ({ seed: r.seed, fold: r.fold, condition: asCond(r.unit), metrics: r.test }));
  const incomplete = units.map(asCond).filter((c) => c !== 'atv');
  const agg = aggregate(runs, incomplete.length ? incomplete : units.map(asCond));
  const conditions: Record<string, ConditionResult> = {};
  for (const u of units) {
    const ms = agg.perCondition[asCond(u)]!;
    const folds = records.filter((r) => r.unit === u);
    // std over seeds; with a single seed, over folds (a spread of 0 would say nothing).
    const spread = agg.seeds.length > 1 ? ms : meanStd(folds.map((r) => r.test));
    conditions[u] = {
      folds: folds.map((r) => ({ fold: r.fold, seed: r.seed, metrics: r.test })),
      mean: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, v.mean])),
      std: Object.fromEntries(Object.entries(spread).map(([k, v]) => [k, v.std])),
    };
  }
  const average = Object.fromEntries(Object.entries(agg.average ?? {}).map(([k, v]) => [k, v.mean]));
  return { dataset: of.dataset, method: of.method, protocol: of.protocol, selection: of.selection, conditions, average };
}
