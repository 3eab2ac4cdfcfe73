/**
 * Model measurements (issue 4) for bench/RESULTS.md, `## Models`.
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
    const fold = getFold(corpus, foldIdx, { seed: config.seed, validFraction: config.validFraction });
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

const info = await initEngine();
console.error(`engine: ${JSON.stringify(info)}`);
if (mode === 'small') await small();
else if (mode === 'timing') await timing();
else {
  console.error('usage: npx tsx bench/models.ts small|timing [options] (see the header of bench/models.ts)');
  process.exit(2);
}
