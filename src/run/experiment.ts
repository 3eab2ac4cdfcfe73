/**
 * One experiment = one method over seeds x folds x units on one corpus, with every unit's
 * artefacts cached in the run folder (src/run/layout.ts). The work is a graph of jobs (graph.ts)
 * run by an executor: in this process by default, or a local pool (pool.ts) or queue workers
 * (queue.ts); each job is done when its outputs exist and resumes from its checkpoints, so a run
 * gives the same numbers however it is executed and however often it was stopped. A folder holding
 * another run is refused unless `resume` is set and the request matches. The folder is locked
 * (util/lock.ts, `RUNDIR/.hardy-mer.lock`) from the claim to the end, so a second writer (or a
 * second coordinator) is refused with the pid and host of the first.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { assertModalities, loadCorpus, makeFolds, type LoadOptions } from '../data/index.ts';
import type { DatasetName } from '../data/types.ts';
import type { RunResults } from '../eval/report-data.ts';
import { buildResults } from '../eval/results.ts';
import { checkModelHyper } from '../model/factory.ts';
import type { RunConfig } from '../train/config.ts';
import { HARDY_METHODS, type HardyMethod } from '../train/methods.ts';
import type { ProgressOptions } from '../train/progress.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { lockFolder } from '../util/lock.ts';
import type { RunJob } from './graph.ts';
import { isDone, openRun, runJob, type RunContext, type UnitRecord } from './jobs.ts';
import { RunLayout } from './layout.ts';
import { RunProgress } from './progress.ts';
import { collectProvenance } from './provenance.ts';
import { claimRunDir, runIdentity } from './run-file.ts';
import { protocolName } from './unit.ts';

export type { UnitRecord } from './jobs.ts';

/** What an executor tells about the jobs it runs. */
export interface JobEvents {
  /** `where`: what runs it (a pool process, a queue worker). */
  started(job: RunJob, where?: string): void;
  done(job: RunJob): void;
  /** The job stopped without finishing and will run again (its worker died). */
  stopped(job: RunJob, why: string): void;
}

/** Runs the jobs of a claimed run's graph that are not done; rejects with the first job's error. */
export interface Executor {
  run(ctx: RunContext, events: JobEvents, progress?: ProgressOptions): Promise<void>;
  /** The display shows a run-wide progress line (else each job's own epoch lines, in this process). */
  readonly runWideProgress: boolean;
  /** Its jobs run on queue workers, which write the folder while this process holds its lock (util/lock.ts). */
  readonly queueWorkers?: boolean;
}

/** Every job in this process, one after another, in the graph's order. */
export const sequential: Executor = {
  runWideProgress: false,
  run: async (ctx, events, progress) => {
    for (const job of ctx.graph) {
      if (isDone(ctx, job)) continue;
      events.started(job);
      await runJob(ctx, job, progress);
      events.done(job);
    }
  },
};

export interface ExperimentSpec {
  /** Corpus folder (or MMSA pickle). */
  data: string;
  dataset?: DatasetName;
  load?: LoadOptions;
  method: HardyMethod;
  /** Resolved config; its `seed` is replaced by each of `seeds` in turn. */
  config: RunConfig;
  seeds: number[];
  runDir: string;
  resume: boolean;
  progress?: ProgressOptions;
  /** One line per finished unit (stderr in the CLI). */
  log?: (line: string) => void;
  /** Folds were not chosen: a corpus with groups runs every group (config.folds is set to them). */
  everyGroup?: boolean;
  /** Default: `sequential` (this process). */
  executor?: Executor;
  /** What the lock names as the holder (default `train` / `train --resume`). */
  command?: string;
}

/** The results object of a run's unit records. */
export function resultsOf(dataset: DatasetName, method: string, config: RunConfig, records: UnitRecord[]): RunResults {
  return buildResults({ dataset, method, protocol: protocolName(config), selection: config.selection }, records);
}

export async function runExperiment(request: ExperimentSpec): Promise<RunResults> {
  const corpus = loadCorpus(request.data, request.dataset, request.load);
  const groups = request.everyGroup && corpus.dialogues.every((d) => d.group !== undefined);
  const spec = groups ? { ...request, config: { ...request.config, folds: makeFolds(corpus).map((f) => f.index) } } : request;
  assertModalities(corpus, spec.config.conditions, spec.config.protocol.kind === 'random');
  checkModelHyper(HARDY_METHODS[spec.method].model, spec.config.model);
  const layout = new RunLayout(spec.runDir);
  // One writer per run folder, from the claim (a check, then writes) to the last result.
  mkdirSync(layout.root, { recursive: true });
  const lock = lockFolder(layout.root, spec.command ?? (spec.resume ? 'train --resume' : 'train'), { queueWorkers: spec.executor?.queueWorkers ? 'allow' : undefined });
  try {
    claimRunDir(layout, runIdentity(spec, corpus.dataset), corpus, spec.resume, await collectProvenance(corpus));
    const ctx = openRun(layout.root, corpus);
    await execute(ctx, spec);
    const records = ctx.graph.filter((j) => j.kind === 'unit').map((j) => JSON.parse(readFileSync(layout.unit(j.seed, j.fold, j.unit).unitFile, 'utf8')) as UnitRecord);
    const results = resultsOf(corpus.dataset, spec.method, spec.config, records);
    writeJsonAtomic(layout.resultsFile, results);
    return results;
  } finally {
    lock.release();
  }
}

/** Runs the graph with the spec's executor and one progress display. */
async function execute(ctx: RunContext, spec: ExperimentSpec): Promise<void> {
  const executor = spec.executor ?? sequential;
  const units = ctx.graph.filter((j) => j.kind === 'unit');
  const quiet = spec.progress?.quiet ?? false;
  const display = !quiet && executor.runWideProgress ? new RunProgress(units.length, units.filter((j) => isDone(ctx, j)).length, spec.progress?.stream) : undefined;
  const unitLine = (job: RunJob): string | undefined => {
    if (job.kind !== 'unit') return undefined;
    const rec = JSON.parse(readFileSync(ctx.layout.unit(job.seed, job.fold, job.unit).unitFile, 'utf8')) as UnitRecord;
    return `seed ${rec.seed} fold ${rec.fold} ${rec.unit}: ${Object.entries(rec.test).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')} (${rec.seconds.toFixed(0)} s)`;
  };
  try {
    await executor.run(ctx, {
      started: (job, where) => display?.start(job, where),
      done: (job) => {
        const line = unitLine(job);
        if (display) display.done(job, line);
        else if (line) spec.log?.(line);
      },
      stopped: (job, why) => display?.stopped(job, why),
    }, spec.progress);
  } finally {
    display?.close();
  }
}
