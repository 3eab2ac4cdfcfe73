/**
 * What a corpus offers a missing-modality model and a retrieval curriculum, measured without any
 * network (so `synth` and `inspect` can print it in seconds):
 *   probe[m]        test accuracy of a ridge classifier (one-vs-rest, closed form, lambda 1) on
 *                   modality m alone, trained on every session but the last, tested on the last;
 *   textAgreement   fraction of those training utterances whose nearest other training utterance
 *                   by text cosine has the same label (the neighbour views' label noise under `t`).
 * Hand-written because it is a 100-line closed form (Cholesky) that no dependency of ours offers.
 */
import { MODALITIES, type Corpus, type Modality, type Utterance } from './types.ts';

export interface Calibration {
  trainUtterances: number;
  testUtterances: number;
  probe: Record<Modality, number>;
  textAgreement: number;
}

/** Solves (A) x = b in place for symmetric positive definite A [n, n] (Cholesky). */
export function choleskySolve(A: Float64Array, n: number, B: Float64Array, cols: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * n + j]!;
    }
  }
  const X = B.slice();
  for (let c = 0; c < cols; c++) {
    for (let i = 0; i < n; i++) {
      let s = X[i * cols + c]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * X[k * cols + c]!;
      X[i * cols + c] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = X[i * cols + c]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * X[k * cols + c]!;
      X[i * cols + c] = s / L[i * n + i]!;
    }
  }
  return X;
}

/** Accuracy on `test` of a ridge classifier fitted on `train` (features with a bias column). */
export function ridgeProbe(train: Utterance[], test: Utterance[], m: Modality, classes: number, lambda = 1): number {
  const d = train[0]!.features[m].length + 1;
  const row = (u: Utterance): Float64Array => {
    const r = new Float64Array(d);
    r.set(u.features[m]);
    r[d - 1] = 1;
    return r;
  };
  const A = new Float64Array(d * d);
  const B = new Float64Array(d * classes);
  for (const u of train) {
    const x = row(u);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) A[i * d + j]! += x[i]! * x[j]!;
      B[i * classes + u.label]! += x[i]!;
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) A[j * d + i] = A[i * d + j]!;
    A[i * d + i]! += lambda;
  }
  const Wt = choleskySolve(A, d, B, classes);
  let hit = 0;
  for (const u of test) {
    const x = row(u);
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += x[i]! * Wt[i * classes + c]!;
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best === u.label) hit++;
  }
  return test.length ? hit / test.length : 0;
}

/** Fraction of utterances whose nearest other utterance by cosine of modality m has the same label. */
export function neighbourAgreement(utts: Utterance[], m: Modality): number {
  const unit = utts.map((u) => {
    const n = Math.hypot(...u.features[m]) || 1;
    return Float64Array.from(u.features[m], (x) => x / n);
  });
  let hit = 0;
  for (let i = 0; i < utts.length; i++) {
    let best = -1;
    let bestSim = -Infinity;
    for (let j = 0; j < utts.length; j++) {
      if (j === i) continue;
      let s = 0;
      const a = unit[i]!;
      const b = unit[j]!;
      for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
      if (s > bestSim) {
        bestSim = s;
        best = j;
      }
    }
    if (best >= 0 && utts[best]!.label === utts[i]!.label) hit++;
  }
  return utts.length ? hit / utts.length : 0;
}

/** Probes and text agreement of a session-based classification corpus; undefined otherwise. */
export function calibrateCorpus(corpus: Corpus): Calibration | undefined {
  if (corpus.task !== 'classification') return undefined;
  const sessions = [...new Set(corpus.dialogues.map((d) => d.session))].filter((s): s is number => s !== undefined).sort();
  if (sessions.length < 2) return undefined;
  const last = sessions[sessions.length - 1]!;
  const train = corpus.dialogues.filter((d) => d.session !== last).flatMap((d) => d.utterances);
  const test = corpus.dialogues.filter((d) => d.session === last).flatMap((d) => d.utterances);
  const probe = {} as Record<Modality, number>;
  for (const m of MODALITIES) probe[m] = ridgeProbe(train, test, m, corpus.numClasses);
  return { trainUtterances: train.length, testUtterances: test.length, probe, textAgreement: neighbourAgreement(train, 't') };
}

export function formatCalibration(c: Calibration): string {
  const p = (x: number): string => x.toFixed(3);
  return `calibration  ridge probes (train ${c.trainUtterances} utterances of the first sessions, test ${c.testUtterances} of the last): a ${p(c.probe.a)}  t ${p(c.probe.t)}  v ${p(c.probe.v)}; top-1 text neighbour label agreement ${p(c.textAgreement)}`;
}
