/**
 * Running one job of a run's graph (graph.ts) in this process. Everything a job needs is read
 * from the run folder (`run.json`: the corpus path, method, seeds and resolved config), so any
 * process that sees the folder (the `train` process, a pool process, a queue worker on another
 * machine) can run any job, and several jobs of one run at once.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadCorpus, makeFolds } from '../data/index.ts';
import type { Corpus, Fold } from '../data/types.ts';
import { confusionMatrix, scorerFor, type MetricRecord, type Scorer } from '../eval/metrics.ts';
import type { RunConfig } from '../train/config.ts';
import { prepareFold, sharedStage1Kinds, trainFoldStage1, trainHardy, type FoldJob } from '../train/hardy.ts';
import { HARDY_METHODS } from '../train/methods.ts';
import type { ProgressOptions } from '../train/progress.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { HardyError } from '../util/errors.ts';
import { jobDone, runGraph, type RunJob } from './graph.ts';
import { RunLayout } from './layout.ts';
import { readRunFile, type RunIdentity } from './run-file.ts';
import { unitCondition, unitName, unitsOf } from './unit.ts';

/** What `unit.json` holds: one trained (seed, fold, unit). */
export interface UnitRecord {
  seed: number;
  fold: number;
  /** The unit's name: its condition, or `rate-<r>` under the random protocol. */
  unit: string;
  test: MetricRecord;
  valid?: MetricRecord;
  bestEpoch: number;
  /** Classification: [true][pred] counts on the test split. */
  confusion?: number[][];
  seconds: number;
}

/** A claimed run folder, opened for running its jobs. */
export interface RunContext {
  layout: RunLayout;
  identity: RunIdentity;
  corpus: Corpus;
  folds: Map<number, Fold>;
  score: Scorer;
  graph: RunJob[];
  /** Whether the `prepare` jobs build retrieval indexes. */
  indexes: boolean;
}

/** Folds to run: IEMOCAP the requested test sessions; CMU/MMSA the corpus' single split. */
function foldsOf(corpus: Corpus, config: RunConfig): Fold[] {
  const all = makeFolds(corpus, { seed: config.seed, validFraction: config.validFraction, validation: config.validation });
  if (all.length === 1) return all;
  const missing = config.folds.filter((f) => !all.some((x) => x.index === f));
  if (missing.length) throw new HardyError(`${corpus.source}: no fold ${missing.join(', ')} (sessions: ${all.map((f) => f.index).join(', ')})`);
  return all.filter((f) => config.folds.includes(f.index));
}

/** The context of a claimed run folder; `corpus` when the caller has loaded it already. */
export function openRun(runDir: string, corpus?: Corpus): RunContext {
  const layout = new RunLayout(runDir);
  const { identity } = readRunFile(runDir);
  corpus ??= loadCorpus(identity.data, identity.dataset, identity.load);
  const folds = foldsOf(corpus, identity.config);
  const indexes = HARDY_METHODS[identity.method].curriculum;
  const graph = runGraph({
    seeds: identity.seeds,
    folds: folds.map((f) => f.index),
    units: unitsOf(identity.config),
    stage1: sharedStage1Kinds(identity.method, identity.config),
    indexes,
  });
  return { layout, identity, corpus, folds: new Map(folds.map((f) => [f.index, f])), score: scorerFor(corpus.task, corpus.numClasses), graph, indexes };
}

export const isDone = (ctx: RunContext, job: RunJob): boolean => jobDone(ctx.layout, job, ctx.indexes);

/** Looks a job up by id (queue workers get ids). */
export function jobById(ctx: RunContext, id: string): RunJob {
  const job = ctx.graph.find((j) => j.id === id);
  if (!job) throw new HardyError(`${ctx.layout.root}: the run has no job ${id}`);
  return job;
}

/** Runs one job to its end in this process (nothing when it is done already). */
export async function runJob(ctx: RunContext, job: RunJob, progress?: ProgressOptions): Promise<void> {
  if (isDone(ctx, job)) return;
  const { identity, layout, corpus } = ctx;
  const fold = ctx.folds.get(job.fold)!;
  const config = { ...identity.config, seed: job.seed };
  const foldLayout = layout.fold(job.seed, job.fold);
  const foldJob: FoldJob = {
    method: identity.method,
    config,
    corpus,
    fold,
    score: ctx.score,
    files: foldLayout,
    progress,
  };
  if (job.kind === 'prepare') return prepareFold(foldJob);
  if (job.kind === 'stage1') {
    const files = foldLayout.stage1Training(job.model);
    await trainFoldStage1(foldJob, job.model, files);
    rmSync(dirname(files.checkpoint), { recursive: true, force: true }); // the job's own checkpoints: done with
    return;
  }
  const files = layout.unit(job.seed, job.fold, job.unit);
  const t0 = performance.now();
  const r = await trainHardy({ method: identity.method, config, corpus, fold, condition: unitCondition(job.unit), score: ctx.score, files, progress });
  const rec: UnitRecord = {
    seed: job.seed,
    fold: job.fold,
    unit: unitName(job.unit),
    test: r.result.test,
    valid: r.result.valid,
    bestEpoch: r.result.bestEpoch,
    confusion: corpus.task === 'classification' ? confusionMatrix(r.result.testPredictions.preds, r.result.testPredictions.labels, corpus.numClasses) : undefined,
    seconds: (performance.now() - t0) / 1000,
  };
  r.result.model.dispose();
  writeJsonAtomic(files.unitFile, rec); // last: the unit is done
}
