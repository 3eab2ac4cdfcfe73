/**
 * A deterministic, fully populated ReportData for the report tests and scripts/check-report.mjs
 * (layout and browser checks). Numbers are seeded draws near the paper's, not results.
 */
import { Rng } from '../../src/util/rng.ts';
import { INCOMPLETE_CONDITIONS, type DatasetName } from '../../src/data/types.ts';
import { CLASSIFICATION_METRICS, REGRESSION_METRICS, type ReportData, type RunResults, type Selection, type TrainingCurve } from '../../src/eval/report-data.ts';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

export function sampleResults(method: string, dataset: DatasetName, selection: Selection, seed: number, level: number): RunResults {
  const rng = new Rng(seed);
  const regression = dataset === 'mosi' || dataset === 'mosei' || dataset === 'mmsa';
  const metrics = regression ? REGRESSION_METRICS : CLASSIFICATION_METRICS;
  const conditions: RunResults['conditions'] = {};
  for (const c of INCOMPLETE_CONDITIONS) {
    const base = level + (c.includes('t') ? 0.1 : 0) - (c === 'v' ? 0.08 : 0);
    const folds = [1, 2, 3, 4, 5].map((fold) => ({
      fold,
      seed: 1,
      metrics: Object.fromEntries(
        metrics.map((m) => [m, m === 'MAE' ? 0.6 + 0.1 * rng.next() : m === 'Corr' ? 0.5 + 0.2 * rng.next() : Math.min(1, base + 0.04 * rng.normal())]),
      ),
    }));
    conditions[c] = {
      folds,
      mean: Object.fromEntries(metrics.map((m) => [m, mean(folds.map((f) => f.metrics[m]))])),
      std: Object.fromEntries(metrics.map((m) => [m, std(folds.map((f) => f.metrics[m]))])),
    };
  }
  const average = Object.fromEntries(metrics.map((m) => [m, mean(INCOMPLETE_CONDITIONS.map((c) => conditions[c].mean[m]))]));
  return { dataset, method, protocol: 'fixed', selection, conditions, average };
}

export function sampleReportData(o: { selection?: Selection; dataset?: DatasetName; full?: boolean } = {}): ReportData {
  const selection = o.selection ?? 'val';
  const dataset = o.dataset ?? 'iemocap4';
  const task = dataset.startsWith('iemocap') ? 'classification' : 'regression';
  const results = sampleResults('hardy', dataset, selection, 1, 0.68);
  const base: ReportData = {
    title: `HARDY-MER on ${dataset}`,
    dataset,
    method: 'hardy',
    protocol: 'fixed',
    selection,
    task,
    results,
  };
  if (o.full === false) return base;
  const rng = new Rng(2);
  const classNames = dataset === 'iemocap6' ? ['hap', 'sad', 'neu', 'ang', 'exc', 'fru'] : ['happy', 'sad', 'neutral', '<angry>'];
  const curves: TrainingCurve[] = [];
  for (const kind of ['teacher', 'student', 'momke'] as const) {
    for (const condition of ['a', 'at', 'tv']) {
      for (const fold of [1, 2]) {
        const n = kind === 'student' ? 30 : 40;
        curves.push({
          kind,
          condition,
          fold,
          valMetricName: 'UA',
          points: Array.from({ length: n }, (_, e) => ({
            epoch: e + 1,
            trainLoss: 1.4 * Math.exp(-e / 12) + 0.2 + 0.03 * rng.next(),
            valMetric: 0.4 + 0.3 * (1 - Math.exp(-e / 8)) + 0.02 * rng.normal(),
            stage: e < n / 2 ? 1 : 2,
          })),
        });
      }
    }
  }
  const uid = (i: number) => `Ses0${1 + (i % 5)}F_impro0${i % 7}_F00${i % 10}`;
  const caseItem = (i: number, h: number) => ({
    id: uid(i),
    label: classNames[i % classNames.length],
    hardness: h,
    k: Math.max(1, Math.floor(h * 3 + 1)),
    neighbours: [1, 2, 3].slice(0, Math.max(1, Math.floor(h * 3 + 1))).map((j) => ({ id: uid(i * 7 + j), label: classNames[(i + j * (i % 2)) % classNames.length], distance: 0.1 * j })),
  });
  return {
    ...base,
    subtitle: 'Sample data for layout checks',
    baselines: [sampleResults('momke', dataset, selection, 3, 0.64), sampleResults('gcnet', dataset, selection, 3, 0.62)],
    config: { seed: 1, teacher: { epochs: 200, lr: 1e-4 }, curriculum: { K: 3, Kmin: 1, beta: 4 }, note: '<b>not html</b>' },
    curves,
    hardness: { values: Array.from({ length: 600 }, () => 1 / (1 + Math.exp(-(rng.normal() * 1.2)))) },
    kDistribution: Array.from({ length: 25 }, (_, e) => ({ epoch: e + 1, counts: [0, 300 - 4 * e, 200, 100 + 4 * e] })),
    agreement: [1, 2].flatMap((fold) =>
      Array.from({ length: 25 }, (_, e) => ({ epoch: e + 1, fold, top1: 0.45 + 0.004 * e + 0.01 * rng.next(), top3: 0.7 + 0.003 * e, top5: 0.8 + 0.002 * e })),
    ),
    confusion: INCOMPLETE_CONDITIONS.map((condition) => ({
      condition,
      classNames,
      matrix: classNames.map((_, i) => classNames.map((__, j) => (i === j ? 60 + rng.int(30) : rng.int(15)))),
    })),
    caseStudy: {
      context: 'condition at, fold 1, epoch 30',
      hardest: [0.97, 0.95, 0.93].map((h, i) => caseItem(i, h)),
      easiest: [0.04, 0.05, 0.08].map((h, i) => caseItem(i + 10, h)),
    },
    robustness: ['hardy', 'momke'].map((method, k) => ({
      method,
      metric: 'WA',
      points: [0, 0.1, 0.3, 0.5, 0.7].map((rate) => ({ rate, mean: 0.72 - 0.02 * k - 0.25 * rate, std: 0.01 })),
    })),
    provenance: { version: '0.1.0', node: 'v20.0.0', engine: { matmul: 'native', threads: 2 }, data: { labelFile: '<labels>.csv', labelSha256: 'ab12' }, command: ['train', '--data', 'x'] },
  };
}
