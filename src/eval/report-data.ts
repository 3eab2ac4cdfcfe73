/**
 * Everything the HTML report can show for one run. Only `results` is required; every other
 * section renders "not available for this run" when absent. Plain JSON-serialisable data, so a run
 * folder can store it and `report` can re-render it without the models.
 */
import { HardyError } from '../util/errors.ts';
import type { DatasetName, Task } from '../data/types.ts';
import { DATASET_NAMES } from '../data/datasets.ts';
import type { EpochDiagnostics } from '../curriculum/diagnostics.ts';
import type { MetricRecord } from './metrics.ts';

export { CLASSIFICATION_METRICS, REGRESSION_METRICS } from './metrics.ts';
/** Metrics that are not fractions in [0, 1] (shown as plain numbers, not percentages). */
export const RAW_METRICS: readonly string[] = ['MAE', 'Corr'];

export type { Selection } from './selection.ts';
import type { Selection } from './selection.ts';

export interface FoldResult {
  fold: number;
  seed: number;
  metrics: MetricRecord;
}

export interface ConditionResult {
  folds: FoldResult[];
  /** Mean over folds (and seeds). */
  mean: MetricRecord;
  /** Standard deviation over seeds (or folds). */
  std: MetricRecord;
}

/** The results object: `train --json` stdout, `RUNDIR/results.json`, and the report's core. */
export interface RunResults {
  dataset: DatasetName;
  method: string;
  /** `fixed` or `random:<rate>`. */
  protocol: string;
  selection: Selection;
  /** Keyed by condition (`a`, `t`, `v`, `at`, `av`, `tv`, possibly `atv`). */
  conditions: Record<string, ConditionResult>;
  /** Mean over the six incomplete conditions. */
  average: MetricRecord;
}

/** One run's robustness curve for the report: `metric` mean (± std over seeds or folds) per missing rate. */
export interface RobustnessCurve {
  method: string;
  metric: string;
  points: Array<{ rate: number; mean: number; std: number }>;
}

/** Column name of a missing rate in eval.json and compare tables. */
export const rateColumn = (r: number): string => `r=${r}`;
export const isRateColumn = (column: string): boolean => column.startsWith('r=');

/** The curve of an eval.json's robustness section for one metric (undefined without one). */
export function robustnessCurve(r: EvalResults, metric: string, label = r.method): RobustnessCurve | undefined {
  if (!r.robustness) return undefined;
  const points = r.robustness.rates
    .map((rate) => ({ rate, c: r.robustness!.byRate[rateColumn(rate)] }))
    .filter((p) => p.c && typeof p.c.mean[metric] === 'number')
    .map((p) => ({ rate: p.rate, mean: p.c!.mean[metric]!, std: p.c!.std[metric] ?? 0 }));
  return points.length ? { method: label, metric, points } : undefined;
}

/** `RUNDIR/eval.json`: the results object of `eval`, with the robustness curve when rates were asked. */
export interface EvalResults extends RunResults {
  /** Per missing rate (`r=<rate>` keys), every model of a (seed, fold) scored on the same random masks. */
  robustness?: { rates: number[]; byRate: Record<string, ConditionResult> };
}

export type { ModelKind } from '../model/types.ts';
import type { ModelKind } from '../model/types.ts';

export interface CurvePoint {
  epoch: number;
  trainLoss: number;
  /** Validation (or, under test selection, test) metric used for model selection. */
  valMetric?: number;
  /** Training stage (1 or 2) for staged schedules. */
  stage?: number;
}

export interface TrainingCurve {
  kind: ModelKind;
  condition: string;
  fold: number;
  seed?: number;
  /** Name of `valMetric`, e.g. `UA`. */
  valMetricName?: string;
  points: CurvePoint[];
}

/** Either raw per-utterance values in [0, 1] or a ready histogram with `edges.length = counts.length + 1`. */
export type HardnessData = { values: number[] } | { edges: number[]; counts: number[] };

export interface KDistribution {
  epoch?: number;
  /** counts[k] = number of utterances keeping k neighbours. */
  counts: number[];
}

export interface NeighbourAgreement {
  epoch: number;
  /** Fraction of utterances with a same-label neighbour among the first 1 / 3 / 5. */
  top1: number;
  top3: number;
  top5: number;
  condition?: string;
  fold?: number;
}

export interface ConfusionMatrix {
  condition: string;
  classNames: string[];
  /** matrix[true][predicted] = count (summed over folds). */
  matrix: number[][];
}

export interface CaseNeighbour {
  id: string;
  label: string | number;
  distance?: number;
}

export interface CaseUtterance {
  id: string;
  label: string | number;
  hardness: number;
  /** Neighbours kept (K_i). */
  k?: number;
  neighbours: CaseNeighbour[];
}

export interface CaseStudy {
  /** Where it was taken from, e.g. `condition at, fold 1, epoch 50`. */
  context?: string;
  hardest: CaseUtterance[];
  easiest: CaseUtterance[];
}

export interface ReportData {
  title: string;
  dataset: DatasetName;
  method: string;
  protocol: string;
  selection: Selection;
  task: Task;
  results: RunResults;
  /** The runs compared against (e.g. MoMKE, MMIN, GCNet), same shape, shown beside `results`. */
  baselines?: RunResults[];
  /** The resolved run configuration. */
  config?: unknown;
  curves?: TrainingCurve[];
  hardness?: HardnessData;
  kDistribution?: KDistribution[];
  agreement?: NeighbourAgreement[];
  confusion?: ConfusionMatrix[];
  caseStudy?: CaseStudy;
  /** Metric against the random missing rate, one curve per run (this run, then the baseline). */
  robustness?: RobustnessCurve[];
  /** What produced the run (run.json `provenance`): shown as a nested list. */
  provenance?: Record<string, unknown>;
  /** Free text shown under the title (e.g. when and where the run was made). */
  subtitle?: string;
}

/**
 * The curriculum sections from the per-epoch diagnostics of one (condition, fold) run: hardness
 * histogram and case study from the last epoch, K_i counts and neighbour agreement per epoch.
 * `classNames` turns class indices into names (omit for regression).
 */
export function curriculumSections(
  diags: EpochDiagnostics[],
  where: { condition?: string; fold?: number } = {},
  classNames?: string[],
): Pick<ReportData, 'hardness' | 'kDistribution' | 'agreement' | 'caseStudy'> {
  if (diags.length === 0) return {};
  const last = diags[diags.length - 1];
  const name = (label: number): string | number => classNames?.[label] ?? label;
  const bins = last.hardnessHistogram.length;
  const toCase = (u: EpochDiagnostics['hardest'][number]): CaseUtterance => ({
    id: u.id,
    label: name(u.label),
    hardness: u.h,
    k: u.K,
    neighbours: u.neighbours.map((n) => ({ id: n.id, label: name(n.label), distance: n.dist })),
  });
  const context = [where.condition && `condition ${where.condition}`, where.fold !== undefined && `fold ${where.fold}`, `epoch ${last.epoch}`]
    .filter(Boolean)
    .join(', ');
  return {
    hardness: { edges: Array.from({ length: bins + 1 }, (_, i) => i / bins), counts: last.hardnessHistogram },
    kDistribution: diags.map((d) => ({ epoch: d.epoch, counts: d.kCounts })),
    agreement: diags.map((d) => ({ epoch: d.epoch, top1: d.hitAt['1'], top3: d.hitAt['3'], top5: d.hitAt['5'], ...where })),
    caseStudy: { context, hardest: last.hardest.map(toCase), easiest: last.easiest.map(toCase) },
  };
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function checkMetrics(x: unknown, where: string): MetricRecord {
  if (!isRecord(x)) throw new HardyError(`${where}: expected an object of metric values`);
  for (const [k, v] of Object.entries(x)) {
    if (typeof v !== 'number' && v !== null) throw new HardyError(`${where}.${k}: expected a number, got ${typeof v}`);
  }
  // JSON has no NaN: a metric that was NaN (e.g. Corr of a constant prediction) is stored as null.
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v === null ? NaN : (v as number)]));
}

/**
 * Checks a parsed `results.json` (or `train --json` output) and returns it typed; throws a
 * HardyError naming `source` and the offending field.
 */
export function parseRunResults(json: unknown, source: string): RunResults {
  if (!isRecord(json)) throw new HardyError(`${source}: expected a results object`);
  for (const k of ['dataset', 'method', 'protocol'] as const) {
    if (typeof json[k] !== 'string') throw new HardyError(`${source}: '${k}' must be a string`);
  }
  if (!DATASET_NAMES.includes(json.dataset as DatasetName)) throw new HardyError(`${source}: unknown dataset '${String(json.dataset)}' (expected ${DATASET_NAMES.join(', ')})`);
  if (json.selection !== 'val' && json.selection !== 'test') throw new HardyError(`${source}: 'selection' must be "val" or "test"`);
  if (!isRecord(json.conditions)) throw new HardyError(`${source}: 'conditions' must be an object keyed by condition`);
  const conditions: Record<string, ConditionResult> = {};
  for (const [c, r] of Object.entries(json.conditions)) {
    const where = `${source}: conditions.${c}`;
    if (!isRecord(r) || !Array.isArray(r.folds)) throw new HardyError(`${where}: expected {folds: [...], mean, std}`);
    conditions[c] = {
      folds: r.folds.map((f: unknown, i: number) => {
        if (!isRecord(f) || typeof f.fold !== 'number' || typeof f.seed !== 'number') throw new HardyError(`${where}.folds[${i}]: expected {fold, seed, metrics}`);
        return { fold: f.fold, seed: f.seed, metrics: checkMetrics(f.metrics, `${where}.folds[${i}].metrics`) };
      }),
      mean: checkMetrics(r.mean, `${where}.mean`),
      std: checkMetrics(r.std, `${where}.std`),
    };
  }
  return {
    dataset: json.dataset as DatasetName,
    method: json.method as string,
    protocol: json.protocol as string,
    selection: json.selection,
    conditions,
    average: checkMetrics(json.average, `${source}: average`),
  };
}
