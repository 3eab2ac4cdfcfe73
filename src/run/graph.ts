/**
 * A run as a graph of jobs: what one process, the local pool (`train --jobs N`) and the queue
 * workers (`train --queue`) all execute, so a run's numbers do not depend on how it was executed.
 *
 *   per (seed, fold):  prepare              stage 0 (fine-tuning) + the retrieval indexes
 *                      stage1-<kind>        stage 1 of each model kind the fold's units share   <- prepare
 *   per unit:          <condition>|rate-<r> teacher stage 2, hardness, student stage 2 -> unit.json
 *                                                                           <- prepare, stage1-*
 *
 * A job's outputs are its completion: a job whose outputs exist is done (`jobDone`), and a job
 * that was stopped half-way resumes from its checkpoints, so any job may be run again at any
 * time. Jobs are listed in the order one process runs them (seed, fold, then the fold's jobs).
 */
import type { ModelKind } from '../model/types.ts';
import type { FoldLayout, RunLayout } from './layout.ts';
import { unitName, type Unit } from './unit.ts';

interface JobBase {
  /** Unique in the run: `s<seed>/f<fold>/<name>`. */
  id: string;
  seed: number;
  fold: number;
  /** Ids of the jobs that must be done first. */
  deps: string[];
}

export type RunJob =
  | (JobBase & { kind: 'prepare' })
  | (JobBase & { kind: 'stage1'; model: ModelKind })
  | (JobBase & { kind: 'unit'; unit: Unit });

export interface GraphOf {
  seeds: number[];
  folds: number[];
  units: Unit[];
  /** The model kinds whose stage 1 the units of a fold share (train/hardy.ts `sharedStage1Kinds`). */
  stage1: ModelKind[];
  /** Whether `prepare` also builds retrieval indexes (methods with a curriculum). */
  indexes: boolean;
}

export function runGraph(of: GraphOf): RunJob[] {
  const jobs: RunJob[] = [];
  for (const seed of of.seeds) {
    for (const fold of of.folds) {
      const at = `s${seed}/f${fold}`;
      const prepare = `${at}/prepare`;
      jobs.push({ id: prepare, kind: 'prepare', seed, fold, deps: [] });
      const shared = of.stage1.map((model) => `${at}/stage1-${model}`);
      of.stage1.forEach((model, i) => jobs.push({ id: shared[i]!, kind: 'stage1', seed, fold, model, deps: [prepare] }));
      for (const unit of of.units) jobs.push({ id: `${at}/${unitName(unit)}`, kind: 'unit', seed, fold, unit, deps: [prepare, ...shared] });
    }
  }
  return jobs;
}

/** Whether a job's outputs are all on disk. */
export function jobDone(layout: RunLayout, job: RunJob, indexes: boolean): boolean {
  const fold: FoldLayout = layout.fold(job.seed, job.fold);
  switch (job.kind) {
    case 'prepare':
      return fold.featuresSaved() && (!indexes || fold.indexesComplete());
    case 'stage1':
      return fold.stage1Done(job.model);
    case 'unit':
      return layout.unit(job.seed, job.fold, job.unit).done();
  }
}

/** What to start first among ready jobs: fold-shared stages unblock units, so they go first. */
const RANK: Record<RunJob['kind'], number> = { prepare: 0, stage1: 1, unit: 2 };

/**
 * Runs the jobs of `graph` that are not done, at most `limit` at once, each as soon as its
 * dependencies are done; `start` runs one job and resolves when it is done. The first failure
 * stops new starts and is rethrown once the running jobs have settled (`onFailure` may stop them).
 */
export async function schedule(
  graph: RunJob[],
  o: {
    done: (job: RunJob) => boolean;
    start: (job: RunJob) => Promise<void>;
    limit: number;
    onStart?: (job: RunJob) => void;
    onDone?: (job: RunJob) => void;
    onFailure?: (job: RunJob, err: unknown) => void;
  },
): Promise<void> {
  const finished = new Set(graph.filter(o.done).map((j) => j.id));
  const waiting = graph.filter((j) => !finished.has(j.id));
  const running = new Map<string, Promise<void>>();
  let failure: { err: unknown } | undefined;
  const order = new Map(graph.map((j, i) => [j.id, i]));
  while (!failure && (waiting.length || running.size)) {
    const ready = waiting
      .filter((j) => j.deps.every((d) => finished.has(d)))
      .sort((a, b) => RANK[a.kind] - RANK[b.kind] || order.get(a.id)! - order.get(b.id)!);
    for (const job of ready.slice(0, o.limit - running.size)) {
      waiting.splice(waiting.indexOf(job), 1);
      o.onStart?.(job);
      const p = o.start(job).then(
        () => {
          running.delete(job.id);
          finished.add(job.id);
          o.onDone?.(job);
        },
        (err: unknown) => {
          running.delete(job.id);
          if (!failure) {
            failure = { err };
            o.onFailure?.(job, err);
          }
        },
      );
      running.set(job.id, p);
    }
    if (!running.size) break; // nothing can start: only when a dependency is missing from the graph
    await Promise.race(running.values());
  }
  await Promise.allSettled(running.values());
  if (failure) throw failure.err;
  if (waiting.length) throw new Error(`jobs never became ready: ${waiting.map((j) => j.id).join(', ')}`);
}
