/**
 * The local pool (`train --jobs N --threads T`): N job processes (job-process.ts), each running
 * one job at a time with T engine threads. Processes, not worker threads, by construction rather
 * than by measurement: the addon's thread budget is one setting per process (setThreads), so a
 * per-job thread budget needs a process per job; a crashed or killed job cannot take its
 * siblings down; and a process keeps its corpus loaded between the jobs it runs. The queue worker
 * (queue.ts) runs its jobs through the same pool.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { THREADS_ENV } from '../engine/backend.ts';
import { HardyError } from '../util/errors.ts';
import type { Executor } from './experiment.ts';
import { schedule } from './graph.ts';
import { errorOf, type FromJobProcess, type ToJobProcess } from './job-messages.ts';
import { isDone } from './jobs.ts';

export interface Parallelism {
  /** Jobs at once. */
  jobs: number;
  /** Engine threads per job. */
  threads: number;
}

/**
 * `--jobs` and `--threads` (or a worker's `--concurrency` and `--threads`) with their defaults:
 * every core used and none oversubscribed, jobs x threads = cores. Given neither: one job per core,
 * one thread each (`train` without either runs in its own process instead, with every core).
 */
export function parallelism(want: { jobs?: number; threads?: number }, cores = availableParallelism()): Parallelism {
  for (const [flag, v] of [['--jobs', want.jobs], ['--threads', want.threads]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new HardyError(`${flag} ${v}: expected a whole number >= 1`);
  }
  const threads = want.threads ?? Math.max(1, Math.floor(cores / (want.jobs ?? cores)));
  const jobs = want.jobs ?? Math.max(1, Math.floor(cores / threads));
  return { jobs, threads };
}

interface Slot {
  child: ChildProcess;
  ready: Promise<void>;
  /** Taken by a caller of `run` (from the moment it is picked, before its job is sent). */
  busy: boolean;
  /** The job it runs, and how to settle it. */
  job?: { id: string; resolve: () => void; reject: (e: Error) => void };
}

const ENTRY = new URL(`./job-process${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Up to `size` job processes, started when first needed; `run` waits for a free one. */
export class JobPool {
  private readonly slots: Slot[] = [];
  private readonly waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly size: number,
    readonly threads: number,
  ) {}

  /** Runs job `id` of the run in `runDir` in a free process; rejects with the job's error, or when its process dies. */
  async run(runDir: string, id: string, started?: (pid: number) => void): Promise<void> {
    const slot = await this.acquire();
    try {
      started?.(slot.child.pid!);
      await new Promise<void>((resolve, reject) => {
        slot.job = { id, resolve, reject };
        slot.child.send({ type: 'run', runDir, id } satisfies ToJobProcess);
      });
    } finally {
      slot.job = undefined;
      slot.busy = false;
      this.waiters.shift()?.();
    }
  }

  /** Stops every process (running jobs are cut short; they resume from their checkpoints). */
  close(): void {
    this.closed = true;
    for (const s of this.slots) s.child.kill('SIGTERM');
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async acquire(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new HardyError('the job pool was closed');
      const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      slot.busy = true;
      await slot.ready; // a process that cannot start (its exit rejects `ready`) fails the run: it is not a job's fault
      return slot;
    }
  }

  private spawn(): Slot {
    const ts = ENTRY.pathname.endsWith('.ts');
    const child = fork(fileURLToPath(ENTRY), [], {
      // From the sources (tests, `npm run`): the same TypeScript loader as this process.
      execArgv: ts ? ['--import', import.meta.resolve('tsx')] : [],
      env: { ...process.env, [THREADS_ENV]: String(this.threads) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let markReady!: () => void;
    let failStart!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => ((markReady = res), (failStart = rej)));
    ready.catch(() => undefined); // handled by whoever waits for it
    const slot: Slot = { child, ready, busy: false };
    child.on('message', (m: FromJobProcess) => {
      if (m.type === 'ready') return markReady();
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      if (m.type === 'done') job.resolve();
      else job.reject(errorOf(m, m.id));
    });
    child.on('exit', (code, signal) => {
      this.slots.splice(this.slots.indexOf(slot), 1);
      const why = new HardyError(`job process ${child.pid} exited (${signal ?? `code ${code}`})${slot.job ? ` while running ${slot.job.id}` : ' before it was ready'}`);
      failStart(why);
      slot.job?.reject(why);
      this.waiters.shift()?.();
    });
    this.slots.push(slot);
    return slot;
  }
}

/** `--jobs N`: the graph's jobs on a pool of N processes. */
export function localPool(p: Parallelism): Executor {
  return {
    runWideProgress: true,
    run: async (ctx, events) => {
      const pool = new JobPool(p.jobs, p.threads);
      try {
        await schedule(ctx.graph, {
          limit: p.jobs,
          done: (job) => isDone(ctx, job),
          start: async (job) => {
            await pool.run(ctx.layout.root, job.id, (pid) => events.started(job, `pid ${pid}`));
            events.done(job);
          },
          onFailure: () => pool.close(),
        });
      } finally {
        pool.close();
      }
    },
  };
}
