/**
 * A run on a BullMQ/Redis cluster: `train --queue URL` is the coordinator, `worker --queue URL` runs
 * jobs on any machine that sees the run folder at the same path.
 *
 * The coordinator holds the run folder's lock (so a second coordinator is refused), walks the
 * graph (graph.ts `schedule`) and adds each job to the queue `hardy-mer` once its dependencies are
 * done, then waits for it (QueueEvents). Why not BullMQ flows: a flow is a tree (each child job
 * has one parent), while a fold's shared stages have every unit of the fold as a dependent; the
 * coordinator resolving the dependencies keeps the graph in one place for every executor.
 *
 * A job is `{ runDir, id }`; its BullMQ id is `<run key>/<job id>`, the run key a hash of the run
 * folder and its creation time, so re-adding a queued job is a no-op (BullMQ ignores an existing
 * id) and two runs never share jobs. Since every job is done when its outputs exist and resumes
 * from its checkpoints, the queue needs no state of its own that survives a crash:
 * - a worker killed mid-job stops renewing the job's lock; after `lockSeconds` BullMQ's stalled-job
 *   check (on any live worker) puts the job back in the queue, and the next worker resumes it from
 *   the unit's last checkpoint;
 * - a job that throws fails once (attempts: 1) and fails the run with its error; the run's waiting
 *   jobs are removed;
 * - a coordinator that died is replaced by `train --resume --queue URL`: the lock is stale, done
 *   jobs are skipped, queued ones are waited for, failed ones are queued again;
 * - two writers stay apart (util/lock.ts): while a worker runs a job it marks the run folder, and
 *   any other writer but the coordinator (`train --resume` without the queue, `eval`) is refused;
 *   a worker runs no job while such a writer holds the folder's lock.
 *
 * Workers run each job in a job process of the local pool (pool.ts): their own event loop stays
 * free to renew locks however long a job computes, and a SIGKILLed worker's job processes exit
 * with it (job-process.ts).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Job, Queue, QueueEvents, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { HardyError } from '../util/errors.ts';
import { markWorker, writerWithoutWorkers } from '../util/lock.ts';
import type { Executor } from './experiment.ts';
import { schedule, type RunJob } from './graph.ts';
import { isDone } from './jobs.ts';
import { JobPool } from './pool.ts';
import { readRunFile } from './run-file.ts';

export const QUEUE_NAME = 'hardy-mer';

/** What a queued job carries. */
export interface QueuedJob {
  /** Absolute path of the run folder: the same on every machine (README: the shared file system). */
  runDir: string;
  id: string;
}

/** The URL with its password (and user name) replaced by `***`: for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** Where and how to connect: what ioredis (and BullMQ through it) takes. */
export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: { servername: string };
}

/** `redis://[user[:password]@]host[:port][/db]` or `rediss://` (TLS) to connection options. */
export function redisOptions(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HardyError(`--queue ${redact(url)}: not a URL; expected redis://[:password@]host[:port][/db] or rediss://...`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new HardyError(`--queue ${redact(url)}: expected a redis:// or rediss:// URL`);
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new HardyError(`--queue ${redact(url)}: the path must be a database number, got '/${db}'`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
  };
}

/** BullMQ's connections: blocking commands must wait indefinitely (maxRetriesPerRequest null). */
const connection = (url: string): ConnectionOptions => ({ ...redisOptions(url), maxRetriesPerRequest: null });

/**
 * Fails within `timeoutMs` with an error that names the URL (password redacted) when Redis cannot
 * be reached or refuses us; BullMQ's own connections retry for ever, which would look like a hang.
 */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let cause: Error | undefined; // the socket's own error (ECONNREFUSED, ...): the rejection only says "Connection is closed"
  client.on('error', (e: Error) => (cause ??= e));
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs).unref()),
    ]);
  } catch (err) {
    throw new HardyError(`cannot reach Redis at ${redact(url)}: ${(cause ?? (err as Error)).message}`);
  } finally {
    client.disconnect();
  }
}

/** Identifies a run in the queue: its folder and when it was created (a new run in the same path is another run). */
export function runKey(runDir: string): string {
  const created = readRunFile(runDir).createdAt;
  return createHash('sha256').update(`${resolve(runDir)}\n${created}`).digest('hex').slice(0, 16);
}

/** `train --queue URL`: the coordinator. */
export function queueExecutor(url: string): Executor {
  return {
    runWideProgress: true,
    queueWorkers: true,
    run: async (ctx, events) => {
      await checkRedis(url);
      const queue = new Queue<QueuedJob>(QUEUE_NAME, { connection: connection(url) });
      const queueEvents = new QueueEvents(QUEUE_NAME, { connection: connection(url) });
      const runDir = resolve(ctx.layout.root);
      const key = runKey(runDir);
      const byBullId = new Map<string, RunJob>(ctx.graph.map((j) => [`${key}/${j.id}`, j]));
      const added = new Set<string>();
      queueEvents.on('active', ({ jobId }) => {
        const job = byBullId.get(jobId);
        if (job) void queue.getJob(jobId).then((b) => events.started(job, b?.processedBy ?? 'a worker'));
      });
      queueEvents.on('stalled', ({ jobId }) => {
        const job = byBullId.get(jobId);
        if (job) events.stopped(job, 'its worker stopped answering; back in the queue for another worker');
      });
      try {
        await queueEvents.waitUntilReady();
        await schedule(ctx.graph, {
          limit: Infinity,
          done: (job) => isDone(ctx, job),
          start: async (job) => {
            const id = `${key}/${job.id}`;
            let bull = await queue.getJob(id);
            const state = bull ? await bull.getState() : undefined;
            // left by an earlier coordinator: failed (the run is being retried) or finished without its outputs
            if (bull && (state === 'failed' || state === 'completed')) {
              await bull.remove();
              bull = undefined;
            }
            bull ??= await queue.add(job.kind, { runDir, id: job.id }, { jobId: id, attempts: 1, removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } });
            added.add(id);
            try {
              await bull.waitUntilFinished(queueEvents);
            } catch (err) {
              throw new HardyError(`job ${job.id} failed: ${(err as Error).message}`);
            }
            if (!isDone(ctx, job)) throw new HardyError(`job ${job.id} finished but its outputs are not in ${runDir}: does the worker see the same run folder at this path?`);
            events.done(job);
          },
          // the run failed: its queued jobs must not run
          onFailure: () => void removeWaiting(queue, added),
        });
      } finally {
        await removeWaiting(queue, added).catch(() => undefined);
        await queueEvents.close();
        await queue.close();
      }
    },
  };
}

/** Removes the jobs in `ids` that are still waiting (a running one finishes; its outputs are kept for --resume). */
async function removeWaiting(queue: Queue<QueuedJob>, ids: Set<string>): Promise<void> {
  for (const id of ids) {
    const job = await Job.fromId(queue, id);
    if (job && (await job.getState()) === 'waiting') await job.remove().catch(() => undefined);
  }
}

export interface WorkerOptions {
  url: string;
  /** Jobs at once (job processes). */
  concurrency: number;
  /** Engine threads per job. */
  threads: number;
  /** Leave once the queue has had nothing waiting or running for a few seconds. */
  exitWhenIdle: boolean;
  /** A job whose worker stops renewing its lock this long goes back to the queue (BullMQ lockDuration). */
  lockSeconds: number;
  log: (line: string) => void;
}

/** `hardy-mer worker --queue URL`: runs queued jobs until stopped (SIGINT/SIGTERM) or, with `exitWhenIdle`, idle. */
export async function runWorker(o: WorkerOptions): Promise<void> {
  await checkRedis(o.url);
  const pool = new JobPool(o.concurrency, o.threads);
  const name = `${hostname()}:${process.pid}`;
  const worker = new Worker<QueuedJob>(
    QUEUE_NAME,
    async (job) => {
      const { runDir, id } = job.data;
      o.log(`${name}: ${id} of ${runDir}`);
      // Mark the folder, then check its lock (util/lock.ts): no job runs beside another writer.
      const mark = markWorker(runDir, `worker --queue ${redact(o.url)}`);
      try {
        const other = writerWithoutWorkers(runDir);
        if (other) throw new HardyError(`${runDir}: run folder in use by pid ${other.pid} on host ${other.host} (${other.command}, since ${other.startedAt}): a queue worker does not write beside it`);
        const t0 = performance.now();
        await pool.run(runDir, id);
        o.log(`${name}: ${id} done (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } finally {
        mark.release();
      }
    },
    {
      connection: connection(o.url),
      concurrency: o.concurrency,
      name,
      lockDuration: o.lockSeconds * 1000,
      stalledInterval: (o.lockSeconds * 1000) / 2,
      // a job whose worker died twice is retried once more; a third time fails the run (a job that kills its worker)
      maxStalledCount: 2,
    },
  );
  worker.on('failed', (job, err) => o.log(`${name}: ${job?.data.id ?? '?'} failed: ${err.message}`));
  worker.on('error', (err) => o.log(`${name}: ${err.message}`));
  const stopped = new Promise<void>((res) => {
    const stop = (): void => res();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  let idle: Promise<void> | undefined;
  if (o.exitWhenIdle) {
    const queue = new Queue(QUEUE_NAME, { connection: connection(o.url) });
    let ran = false;
    worker.on('active', () => (ran = true));
    const t0 = Date.now();
    idle = (async () => {
      // Idle: nothing waiting or running for 3 s, once this worker has had a job (it may start
      // before its coordinator has queued anything), or for 30 s if it never had one.
      for (let quiet = 0; quiet < 3 || (!ran && Date.now() - t0 < 30_000); ) {
        await new Promise((r) => setTimeout(r, 1000));
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        quiet = Object.values(c).every((n) => n === 0) ? quiet + 1 : 0;
      }
      await queue.close();
    })();
  }
  o.log(`${name}: waiting for jobs on ${redact(o.url)} (concurrency ${o.concurrency}, ${o.threads} thread(s) per job)`);
  await Promise.race([stopped, ...(idle ? [idle] : [])]);
  // Running jobs are cut short: they stay active until their lock expires, then another worker resumes them.
  pool.close();
  await worker.close(true);
  o.log(`${name}: stopped`);
}
