/**
 * Evaluation metrics (docs/method.md §8) on plain arrays. Fractions in [0, 1] except MAE and Corr.
 * Classification: WA (accuracy), UA (macro recall), F1w (support-weighted F1), F1m (macro F1),
 * confusion matrix. Averages run over the classes present in the labels or the predictions
 * (scikit-learn's convention). Regression (CMU, MMSA convention): ACC2/F1 on non-zero labels
 * (positive vs negative), ACC2_hz/F1_hz including zeros (>= 0 vs < 0), ACC7 on scores rounded after
 * clipping to [-3, 3], MAE and Pearson Corr over all utterances.
 */

export interface ClassificationMetrics {
  WA: number;
  UA: number;
  F1w: number;
  F1m: number;
  /** confusion[true][pred] counts. */
  confusion: number[][];
}

export interface RegressionMetrics {
  ACC2: number;
  F1: number;
  ACC2_hz: number;
  F1_hz: number;
  ACC7: number;
  MAE: number;
  Corr: number;
}

export const CLASSIFICATION_METRICS = ['WA', 'UA', 'F1w', 'F1m'] as const;
export const REGRESSION_METRICS = ['ACC2', 'F1', 'ACC2_hz', 'F1_hz', 'ACC7', 'MAE', 'Corr'] as const;

function checkLengths(preds: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (preds.length !== labels.length) throw new Error(`metrics: ${preds.length} predictions for ${labels.length} labels`);
  if (labels.length === 0) throw new Error('metrics: no utterances to score');
}

export function confusionMatrix(preds: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number[][] {
  checkLengths(preds, labels);
  const cm = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) cm[labels[i]!]![preds[i]!]!++;
  return cm;
}

/** Per-class precision/recall/F1 and support from a confusion matrix; zero denominators give 0. */
function perClass(cm: number[][]): { recall: number[]; f1: number[]; support: number[]; present: boolean[] } {
  const C = cm.length;
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  const present: boolean[] = [];
  for (let c = 0; c < C; c++) {
    const tp = cm[c]![c]!;
    const trueN = cm[c]!.reduce((a, b) => a + b, 0);
    let predN = 0;
    for (let r = 0; r < C; r++) predN += cm[r]![c]!;
    const p = predN > 0 ? tp / predN : 0;
    const r = trueN > 0 ? tp / trueN : 0;
    recall.push(r);
    f1.push(p + r > 0 ? (2 * p * r) / (p + r) : 0);
    support.push(trueN);
    present.push(trueN > 0 || predN > 0);
  }
  return { recall, f1, support, present };
}

export function classificationMetrics(preds: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): ClassificationMetrics {
  const cm = confusionMatrix(preds, labels, numClasses);
  const n = labels.length;
  let correct = 0;
  for (let c = 0; c < numClasses; c++) correct += cm[c]![c]!;
  const { recall, f1, support, present } = perClass(cm);
  const idx = present.map((p, c) => (p ? c : -1)).filter((c) => c >= 0);
  const mean = (xs: number[]): number => idx.reduce((s, c) => s + xs[c]!, 0) / idx.length;
  const F1w = support.reduce((s, w, c) => s + w * f1[c]!, 0) / n;
  return { WA: correct / n, UA: mean(recall), F1w, F1m: mean(f1), confusion: cm };
}

/** Accuracy and weighted F1 of a binary split (`positive` decides the class of a score). */
function binary(preds: number[], labels: number[], positive: (x: number) => boolean): { acc: number; f1: number } {
  const m = classificationMetrics(preds.map((x) => (positive(x) ? 1 : 0)), labels.map((x) => (positive(x) ? 1 : 0)), 2);
  return { acc: m.WA, f1: m.F1w };
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  // A constant prediction has no defined correlation; report 0 rather than NaN.
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

export function regressionMetrics(preds: ArrayLike<number>, labels: ArrayLike<number>): RegressionMetrics {
  checkLengths(preds, labels);
  const p = Array.from(preds);
  const l = Array.from(labels);
  const nz = l.map((_, i) => i).filter((i) => l[i] !== 0);
  const nonZero = nz.length > 0 ? binary(nz.map((i) => p[i]!), nz.map((i) => l[i]!), (x) => x > 0) : { acc: 0, f1: 0 };
  const withZero = binary(p, l, (x) => x >= 0);
  const clip7 = (x: number): number => roundHalfEven(Math.min(3, Math.max(-3, x)));
  let acc7 = 0;
  let mae = 0;
  for (let i = 0; i < l.length; i++) {
    if (clip7(p[i]!) === clip7(l[i]!)) acc7++;
    mae += Math.abs(p[i]! - l[i]!);
  }
  return {
    ACC2: nonZero.acc,
    F1: nonZero.f1,
    ACC2_hz: withZero.acc,
    F1_hz: withZero.f1,
    ACC7: acc7 / l.length,
    MAE: mae / l.length,
    Corr: pearson(p, l),
  };
}

/** Round half to even, as NumPy's np.round (MMSA's ACC-7): 2.5 -> 2, -0.5 -> 0, 1.5 -> 2. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return Math.round(x) + 0; // + 0 turns -0 into 0
  return (f % 2 === 0 ? f : f + 1) + 0;
}

/** Metric name -> value. Classification: WA, UA, F1w, F1m; regression: ACC2, F1, ACC2_hz, F1_hz, ACC7, MAE, Corr. */
export type MetricRecord = Record<string, number>;

/** A metric set for predictions: class indices (classification) or scores (regression). */
export type Scorer = (preds: number[], labels: number[]) => MetricRecord;

/** The scorer of a task; the confusion matrix is left out (it is not a scalar metric). */
export function scorerFor(task: 'classification' | 'regression', numClasses: number): Scorer {
  if (task === 'regression') return (p, l) => ({ ...regressionMetrics(p, l) });
  return (p, l) => {
    const { confusion: _, ...rest } = classificationMetrics(p, l, numClasses);
    return rest;
  };
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const rank = (v: readonly number[]): Float64Array => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]!);
    const r = new Float64Array(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
      for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const rx = rank(x);
  const ry = rank(y);
  const n = x.length;
  const mx = rx.reduce((a, b) => a + b, 0) / n;
  const my = ry.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
