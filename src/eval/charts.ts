/**
 * Vega-Lite specs for the report's charts, built from ReportData sections with inline data only.
 * Pure functions: rendering to SVG is charts-render.ts.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ConfusionMatrix, HardnessData, KDistribution, ModelKind, NeighbourAgreement, RobustnessCurve, TrainingCurve } from './report-data.ts';

const W = 300;
const H = 190;
/** Epochs are whole numbers: no 2.5 ticks on short runs. */
const EPOCH_AXIS = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };

/** Equal-width histogram over [0, 1] (values outside are clamped into the end bins). */
export function histogram(values: number[], bins = 20): { edges: number[]; counts: number[] } {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => i / bins), counts };
}

/** Train loss and selection metric per epoch for one model kind; colour = condition, one line per fold/seed, dash = stage. */
export function curvesSpec(kind: ModelKind, curves: TrainingCurve[]): TopLevelSpec {
  const rows = curves.flatMap((c) =>
    c.points.map((p) => ({
      condition: c.condition,
      series: `${c.condition} f${c.fold}${c.seed === undefined ? '' : ` s${c.seed}`}`,
      epoch: p.epoch,
      loss: p.trainLoss,
      val: p.valMetric ?? null,
      stage: p.stage === undefined ? 'all' : `stage ${p.stage}`,
    })),
  );
  const metricName = curves.find((c) => c.valMetricName)?.valMetricName ?? 'metric';
  const staged = rows.some((r) => r.stage !== 'all');
  const line = (field: 'loss' | 'val', title: string) => ({
    width: W,
    height: H,
    title,
    transform: field === 'val' ? [{ filter: 'datum.val !== null' }] : [],
    mark: { type: 'line' as const, strokeWidth: 1.5, opacity: 0.85 },
    encoding: {
      x: EPOCH_AXIS,
      y: { field, type: 'quantitative' as const, title: field === 'loss' ? 'train loss' : metricName, scale: { zero: false } },
      color: { field: 'condition', type: 'nominal' as const, title: 'condition' },
      detail: { field: 'series', type: 'nominal' as const },
      ...(staged ? { strokeDash: { field: 'stage', type: 'nominal' as const, title: 'stage' } } : {}),
    },
  });
  const panels = [line('loss', `${kind}: training loss`)];
  if (rows.some((r) => r.val !== null)) panels.push(line('val', `${kind}: selection ${metricName}`));
  return { data: { values: rows }, hconcat: panels } as TopLevelSpec;
}

export function hardnessSpec(h: HardnessData): TopLevelSpec {
  const { edges, counts } = 'values' in h ? histogram(h.values) : h;
  const values = counts.map((count, i) => ({ lo: edges[i], hi: edges[i + 1], count }));
  return {
    width: W + 120,
    height: H,
    data: { values },
    // rect with explicit x/x2 and y/y2: a 'bar' with x2 would be read as horizontal.
    mark: { type: 'rect', color: '#4c78a8', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'lo', type: 'quantitative', title: 'hardness h', scale: { domain: [edges[0], edges[edges.length - 1]] } },
      x2: { field: 'hi' },
      y: { field: 'count', type: 'quantitative', title: 'utterances' },
      y2: { datum: 0 },
      tooltip: [{ field: 'lo' }, { field: 'hi' }, { field: 'count' }],
    },
  } as TopLevelSpec;
}

/** Stacked share of utterances per K_i, one bar per epoch (or one bar when epochs are absent). */
export function kSpec(dist: KDistribution[]): TopLevelSpec {
  const values = dist.flatMap((d, i) =>
    d.counts.map((count, k) => ({ epoch: d.epoch ?? i + 1, K: k, count })).filter((r) => r.count > 0),
  );
  return {
    width: Math.max(W, Math.min(900, dist.length * 14)),
    height: H,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'epoch', type: 'ordinal', title: 'epoch', axis: { labelOverlap: true } },
      y: { field: 'count', type: 'quantitative', stack: 'normalize', title: 'share of utterances', axis: { format: '%' } },
      color: { field: 'K', type: 'ordinal', title: 'K_i', scale: { scheme: 'blues' } },
      order: { field: 'K', type: 'ordinal' },
    },
  } as TopLevelSpec;
}

/** Mean (over conditions/folds) top-1/3/5 same-label neighbour rate per epoch. */
export function agreementSpec(rows: NeighbourAgreement[]): TopLevelSpec {
  const values = rows.flatMap((r) => [
    { epoch: r.epoch, at: 'top-1', rate: r.top1 },
    { epoch: r.epoch, at: 'top-3', rate: r.top3 },
    { epoch: r.epoch, at: 'top-5', rate: r.top5 },
  ]);
  return {
    width: W + 120,
    height: H,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: EPOCH_AXIS,
      y: { aggregate: 'mean', field: 'rate', type: 'quantitative', title: 'same-label neighbour rate', axis: { format: '%' }, scale: { domain: [0, 1] } },
      color: { field: 'at', type: 'nominal', title: 'neighbours' },
    },
  } as TopLevelSpec;
}

/** Row-normalised heatmap (colour = share of the true class) with the raw counts written in. */
export function confusionSpec(cm: ConfusionMatrix): TopLevelSpec {
  const values = cm.matrix.flatMap((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, j) => ({ truth: cm.classNames[i], predicted: cm.classNames[j], count, share: total ? count / total : 0 }));
  });
  const side = Math.max(140, 34 * cm.classNames.length);
  const axis = (title: string) => ({ field: title === 'true' ? 'truth' : 'predicted', type: 'nominal' as const, sort: cm.classNames, title });
  return {
    title: `{${cm.condition.split('').join(',')}}`,
    width: side,
    height: side,
    data: { values },
    encoding: { x: axis('predicted'), y: axis('true') },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: { field: 'share', type: 'quantitative', title: 'row share', scale: { scheme: 'blues', domain: [0, 1] }, legend: null },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.55', value: 'white' }, value: '#222' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Metric against the random missing rate, one line (with points and a ±std band) per run. */
export function robustnessSpec(curves: RobustnessCurve[]): TopLevelSpec {
  const metric = curves[0]?.metric ?? 'metric';
  const values = curves.flatMap((c) => c.points.map((p) => ({ method: c.method, rate: p.rate, mean: p.mean, lo: p.mean - p.std, hi: p.mean + p.std })));
  const x = { field: 'rate', type: 'quantitative' as const, title: 'missing rate', axis: { format: '.1f' } };
  const color = { field: 'method', type: 'nominal' as const, title: 'method' };
  return {
    width: W + 120,
    height: H + 40,
    data: { values },
    layer: [
      { mark: { type: 'area', opacity: 0.15 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: metric, scale: { zero: false } }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: metric }, color } },
    ],
  } as TopLevelSpec;
}
