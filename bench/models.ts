/**
 * Model measurements (issue 4) for bench/RESULTS.md ("Models on every condition", "Seconds per epoch by model",
 * "Teacher reconstruction").
 *
 *   npx tsx bench/models.ts small [--kinds momke,student,teacher] [--conds a,t,v,at,av,tv] [--folds 1]
 *                                 [--hidden 64] [--depth 2] [--epochs 20:10] [--lr 1e-3] [--batch 4]
 *     Trains every kind on every condition of the synthetic `small` corpus (validation selection)
 *     and prints one JSON line per run (selected epoch's test metrics, majority-class WA of the test
 *     fold); then per kind the six-condition average. For the teacher, also the reconstruction MSE
 *     of each missing modality on the test fold vs predicting the training mean (ratio < 1 = better
 *     than the mean).
 *   npx tsx bench/models.ts timing [--preset iemocap] [--kinds student,teacher,momke] [--fold 1]
 *     Seconds per training epoch of each model and stage at the default full size (D = 256, depth 4,
 *     2 heads, batch 16): one stage-1 and one stage-2 epoch each (condition `at`), plus the eval time.
 *   npx tsx bench/models.ts ridge [--preset small] [--folds 1] [--conds ...] [--lambda 50]
 *     The reference for the teacher's ratio: a ridge regression (closed form) from the available
 *     modalities' features to each missing one, fitted on the fold's training utterances, its test
 *     MSE over the training-mean MSE. It says how much of a modality is recoverable at all.
 *
 * Output: JSON lines on stdout (also appended to --out), a summary at the end.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { getFold, loadCorpus, modalityStats, writeSynth, type SynthPreset } from '../src/data/index.ts';
import { INCOMPLETE_CONDITIONS, MODALITIES, type Condition, type Corpus } from '../src/data/types.ts';
import { initEngine } from '../src/engine/backend.ts';
import { aggregate, type RunMetrics } from '../src/eval/aggregate.ts';
import { scorerFor } from '../src/eval/metrics.ts';
import type { ModelKind } from '../src/model/types.ts';
import { DEFAULT_CONFIG, type RunConfig } from '../src/train/config.ts';
import { reconstructionMse } from '../src/train/evaluate.ts';
import { train } from '../src/train/trainer.ts';

const { positionals, values: opt } = parseArgs({
  allowPositionals: true,
  options: {
    kinds: { type: 'string' },
    conds: { type: 'string', default: INCOMPLETE_CONDITIONS.join(',') },
    folds: { type: 'string', default: '1' },
    fold: { type: 'string', default: '1' },
    preset: { type: 'string' },
    hidden: { type: 'string', default: '64' },
    depth: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '20:10' },
    lr: { type: 'string', default: '1e-3' },
    batch: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    lambda: { type: 'string' },
    out: { type: 'string' },
  },
});
const mode = positionals[0];

function emit(obj: unknown): void {
  const line = JSON.stringify(obj);
  console.log(line);
  if (opt.out) appendFileSync(opt.out, line + '\n');
}

function synth(preset: SynthPreset): Corpus {
  const dir = `bench/out/synth-${preset}`;
  if (!existsSync(dir)) writeSynth(dir, { preset, seed: 0 });
  return loadCorpus(dir);
}

const schedule = (s: string): { epochs: number; stage1Epochs: number } => {
  const [e, s1] = s.split(':').map(Number);
  return { epochs: e!, stage1Epochs: s1! };
};

async function small(): Promise<void> {
  const corpus = synth((opt.preset ?? 'small') as SynthPreset);
  const kinds = (opt.kinds ?? 'momke,student,teacher').split(',') as ModelKind[];
  const conds = opt.conds!.split(',') as Condition[];
  const folds = opt.folds!.split(',').map(Number);
  const sched = schedule(opt.epochs!);
  const config: RunConfig = {
    ...DEFAULT_CONFIG,
    seed: Number(opt.seed),
    model: { hidden: Number(opt.hidden), depth: Number(opt.depth), heads: 2, dropout: 0.3 },
    optim: { ...DEFAULT_CONFIG.optim, lr: Number(opt.lr), batchSize: Number(opt.batch) },
    teacher: sched,
    student: sched,
    momke: sched,
  };
  const runs = new Map<ModelKind, RunMetrics[]>();
  const majority: number[] = [];
  for (const foldIdx of folds) {
    const fold = getFold(corpus, foldIdx, { seed: config.seed, validFraction: config.validFraction, validation: config.validation });
    const counts = new Array<number>(corpus.numClasses).fill(0);
    for (const d of fold.test) for (const u of d.utterances) counts[u.label]!++;
    const maj = Math.max(...counts) / counts.reduce((a, b) => a + b, 0);
    majority.push(maj);
    const mean = modalityStats(fold.train);
    for (const kind of kinds) {
      for (const condition of conds) {
        const t0 = performance.now();
        const r = await train({
          kind,
          config,
          corpus,
          fold,
          condition,
          score: scorerFor(corpus.task, corpus.numClasses),
          primary: 'WA',
          progress: { quiet: true },
        });
        const line: Record<string, unknown> = {
          kind,
          condition,
          fold: foldIdx,
          bestEpoch: r.bestEpoch,
          test: r.test,
          majorityWA: maj,
          seconds: (performance.now() - t0) / 1000,
        };
        if (kind === 'teacher') {
          const rec = reconstructionMse(r.model, fold.test, {
            batchSize: config.optim.batchSize,
            condition,
            baseline: { a: mean.a.mean, t: mean.t.mean, v: mean.v.mean },
          });
          line.recon = Object.fromEntries(
            MODALITIES.filter((m) => rec[m].count > 0).map((m) => [m, { mse: rec[m].model, meanMse: rec[m].baseline, ratio: rec[m].model / rec[m].baseline }]),
          );
        }
        emit(line);
        (runs.get(kind) ?? runs.set(kind, []).get(kind)!).push({ seed: config.seed, condition, fold: foldIdx, metrics: r.test });
        r.model.dispose();
      }
    }
  }
  const maj = majority.reduce((a, b) => a + b, 0) / majority.length;
  for (const [kind, rs] of runs) {
    const agg = aggregate(rs, conds);
    emit({ summary: kind, sixConditionAverage: agg.average, perCondition: agg.perCondition, majorityWA: maj });
  }
}

async function timing(): Promise<void> {
  const corpus = synth((opt.preset ?? 'iemocap') as SynthPreset);
  const kinds = (opt.kinds ?? 'student,teacher,momke').split(',') as ModelKind[];
  const fold = getFold(corpus, Number(opt.fold), { seed: 1, validFraction: 0.1 });
  for (const kind of kinds) {
    // CPU seconds (user + system, all threads) of each epoch's training steps: the machine is
    // shared, so wall time alone mostly measures the other jobs.
    const cpu: number[] = [];
    let c0 = process.cpuUsage();
    const r = await train({
      kind,
      config: DEFAULT_CONFIG,
      corpus,
      fold,
      condition: 'at',
      score: scorerFor(corpus.task, corpus.numClasses),
      primary: 'WA',
      schedule: { epochs: 2, stage1Epochs: 1 },
      hooks: {
        beforeEpoch: () => {
          c0 = process.cpuUsage();
        },
        afterEpoch: () => {
          const d = process.cpuUsage(c0);
          cpu.push((d.user + d.system) / 1e6);
        },
      },
    });
    for (const h of r.history) {
      emit({
        kind,
        stage: h.stage,
        steps: h.steps,
        trainSeconds: h.seconds,
        trainCpuSeconds: cpu[h.epoch],
        evalSeconds: h.evalSeconds,
        secondsPerStep: h.seconds / h.steps,
        trainDialogues: fold.train.length,
        params: r.model.params.count(),
        loadAverage: loadavg()[0],
      });
    }
    r.model.dispose();
  }
}

/** Solves (X^T X + lambda I) W = X^T Y for W by Gauss-Jordan; X [n, p] rows, Y [n, q] rows. */
function ridgeFit(X: Float32Array[], Y: Float32Array[], lambda: number): Float64Array[] {
  const p = X[0]!.length;
  const q = Y[0]!.length;
  const A = Array.from({ length: p }, () => new Float64Array(p + q));
  for (let r = 0; r < X.length; r++) {
    const x = X[r]!;
    const y = Y[r]!;
    for (let i = 0; i < p; i++) {
      const row = A[i]!;
      for (let j = 0; j < p; j++) row[j]! += x[i]! * x[j]!;
      for (let j = 0; j < q; j++) row[p + j]! += x[i]! * y[j]!;
    }
  }
  for (let i = 0; i < p; i++) A[i]![i]! += lambda;
  for (let c = 0; c < p; c++) {
    const piv = A[c]![c]!;
    for (let j = c; j < p + q; j++) A[c]![j]! /= piv;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = A[r]![c]!;
      if (f === 0) continue;
      for (let j = c; j < p + q; j++) A[r]![j]! -= f * A[c]![j]!;
    }
  }
  return A.map((row) => row.slice(p)); // [p][q]
}

async function ridge(): Promise<void> {
  const corpus = synth((opt.preset ?? 'small') as SynthPreset);
  const conds = opt.conds!.split(',') as Condition[];
  const lambda = Number(opt.lambda ?? 50);
  for (const foldIdx of opt.folds!.split(',').map(Number)) {
    const fold = getFold(corpus, foldIdx, { seed: 1, validFraction: 0.1 });
    const tr = fold.train.flatMap((d) => d.utterances);
    const te = fold.test.flatMap((d) => d.utterances);
    const stats = modalityStats(fold.train);
    for (const condition of conds) {
      const inputs = MODALITIES.filter((m) => condition.includes(m));
      // centred inputs plus a constant column for the intercept
      const rowOf = (u: (typeof tr)[number]): Float32Array =>
        Float32Array.from([1, ...inputs.flatMap((m) => Array.from(u.features[m], (x, j) => x - stats[m].mean[j]!))]);
      const Xtr = tr.map(rowOf);
      const Xte = te.map(rowOf);
      for (const target of MODALITIES.filter((m) => !condition.includes(m))) {
        const W = ridgeFit(Xtr, tr.map((u) => u.features[target]), lambda);
        const d = corpus.dims[target];
        let se = 0;
        let sm = 0;
        te.forEach((u, r) => {
          const x = Xte[r]!;
          for (let j = 0; j < d; j++) {
            let y = 0;
            for (let i = 0; i < x.length; i++) y += x[i]! * W[i]![j]!;
            se += (y - u.features[target][j]!) ** 2;
            sm += (stats[target].mean[j]! - u.features[target][j]!) ** 2;
          }
        });
        emit({ ridge: true, fold: foldIdx, condition, target, lambda, mse: se / (te.length * d), meanMse: sm / (te.length * d), ratio: se / sm });
      }
    }
  }
}

const info = await initEngine();
console.error(`engine: ${JSON.stringify(info)}`);
if (mode === 'small') await small();
else if (mode === 'timing') await timing();
else if (mode === 'ridge') await ridge();
else {
  console.error('usage: npx tsx bench/models.ts small|timing [options] (see the header of bench/models.ts)');
  process.exit(2);
}
