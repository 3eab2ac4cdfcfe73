/**
 * Prediction off the event loop: N worker threads (worker.ts), each with its own engine and its own
 * copy of the run's models, loaded once, fed from one bounded queue in the main thread.
 *
 * - Micro-batching: when a worker is free it takes the oldest request and every queued request for
 *   the same conditions, up to `maxBatchUtterances`, and runs them as one predictor call (one
 *   forward pass per member model over all their dialogues). Requests keep their own dialogues, so
 *   the context each utterance sees does not change; ids are made unique inside the batch and
 *   restored in the answers. `batchDelayMs` > 0 also holds a lone request that long to wait for
 *   company (bench/serve-load.ts measured what that buys: see bench/RESULTS.md).
 * - Back-pressure: at most `maxQueueUtterances` utterances wait; beyond that `predict` throws
 *   ServiceUnavailableError ('overloaded') with a Retry-After estimated from the recent rate.
 * - Deadlines: a request not answered within `timeoutMs` of its arrival is answered 503 'timeout'
 *   (a batch already running is not interrupted; its late answer is dropped).
 *
 * Why node:worker_threads and not piscina: the queue has to live here anyway (merging queued
 * requests, bounding it in utterances, deadlines), so piscina's own task queue would be a second
 * one; what remains (start N workers, one batch each at a time, replace one that dies) is short.
 */
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { HardyError } from '../util/errors.ts';
import { threadCode } from './threads.ts';
import { ServiceUnavailableError, type PredictRequest, type PredictResponse, type Predictor, type PredictorInfo, type PredictorSpec } from './predictor.ts';

export interface PoolOptions {
  /** Worker threads. Default 1. */
  workers?: number;
  /** Most utterances one worker call may merge. Default 64. */
  maxBatchUtterances?: number;
  /** How long a lone request may wait for others to batch with. Default 0 (batch only what queued while the workers were busy). */
  batchDelayMs?: number;
  /** Most utterances waiting for a worker; more gets 503. Default 8192. */
  maxQueueUtterances?: number;
  /** Deadline per request, from arrival. Default 30 s. */
  timeoutMs?: number;
  /** Nice steps the worker threads run below the main thread (Linux), so it gets a core first. Default 0 (docs/serve.md, "Priority": no shorter /health tail measured; on a shared machine it starved the workers). */
  workerNice?: number;
  /** Where worker crashes are reported; default console.error. */
  log?: (line: string) => void;
}

export const POOL_DEFAULTS = { workers: 1, maxBatchUtterances: 64, batchDelayMs: 0, maxQueueUtterances: 8192, timeoutMs: 30_000, workerNice: 0 } as const;

interface Job {
  request: PredictRequest;
  utterances: number;
  /** The conditions the request uses, e.g. "a,at|1|false" (with fold, explain): only jobs with the same key are merged. */
  key: string;
  arrived: number;
  /** Answered (or timed out): a late answer is dropped. */
  settled: boolean;
  /** Run on its own after a merged batch failed, so one bad request cannot fail others. */
  alone: boolean;
  timer: NodeJS.Timeout;
  resolve(r: PredictResponse): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  jobs: Job[] | null;
}

const countUtterances = (r: PredictRequest) => r.dialogues.reduce((a, d) => a + d.utterances.length, 0);
/** Requests merge only when they ask for the same conditions, fold and explanation. */
const batchKey = (r: PredictRequest) => `${[...new Set(r.dialogues.flatMap((d) => d.utterances.map((u) => u.condition)))].sort().join(',')}|${r.fold ?? ''}|${r.explain ?? false}`;

/** Several requests as one: ids prefixed `<job>:` so they stay unique (the predictor keys by id). */
function merge(jobs: Job[]): PredictRequest {
  if (jobs.length === 1) return jobs[0].request;
  return {
    ...jobs[0].request, // fold, explain: the same for every job of a batch
    dialogues: jobs.flatMap((j, k) =>
      j.request.dialogues.map((d) => ({ id: `${k}:${d.id}`, utterances: d.utterances.map((u) => ({ ...u, id: `${k}:${u.id}` })) })),
    ),
  };
}

/** The merged answer cut back into one answer per job, with the original ids. */
function split(jobs: Job[], response: PredictResponse): PredictResponse[] {
  if (jobs.length === 1) return [response];
  let at = 0;
  return jobs.map((j) => {
    const utterances = j.request.dialogues.flatMap((d) =>
      d.utterances.map((u) => ({ ...response.utterances[at++]!, id: u.id, dialogue: d.id })),
    );
    return { task: response.task, utterances };
  });
}

export class PredictorPool implements Predictor {
  private readonly o: Required<Omit<PoolOptions, 'log'>>;
  private readonly log: (line: string) => void;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private queuedUtterances = 0;
  private infoValue?: PredictorInfo;
  private closing = false;
  private delayTimer?: NodeJS.Timeout;
  /** [time ms, utterances] of recent answers, for the Retry-After estimate. */
  private recent: Array<[number, number]> = [];
  private counts = { batches: 0, batchedUtterances: 0, overloaded: 0, timedOut: 0, workerRestarts: 0 };
  private readonly started: Promise<void>;

  constructor(private readonly spec: PredictorSpec, options: PoolOptions = {}) {
    this.o = { ...POOL_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'log')) };
    this.log = options.log ?? ((line) => console.error(line));
    if (!Number.isInteger(this.o.workers) || this.o.workers < 1) throw new HardyError(`workers must be a positive integer, got ${this.o.workers}`);
    const ready = Array.from({ length: this.o.workers }, () => this.spawn());
    this.started = Promise.all(ready).then(() => undefined);
    this.started.catch(() => {}); // reported to whoever awaits start()
  }

  /** Resolves when every worker has loaded the models; rejects with the first load failure. */
  start(): Promise<void> {
    return this.started;
  }

  private spawn(): Promise<void> {
    const { code, eval: isEval } = threadCode('worker');
    // SHARE_ENV: a worker's own copy of process.env never reaches native code, so what the engine
    // sets there for OpenBLAS before loading it (engine/native-addon.ts) was lost when a worker
    // loaded the addon first (bench/RESULTS.md, "Lone request": until OpenBLAS ran one thread, its
    // idle threads spun after every product, which doubled the CPU a lone request cost).
    const worker = new Worker(code, { eval: isEval, env: SHARE_ENV, workerData: { spec: this.spec, nice: this.o.workerNice }, execArgv: [] });
    const slot: Slot = { worker, ready: false, jobs: null };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: { type: string; [k: string]: any }) => {
        if (msg.type === 'ready') {
          this.infoValue ??= msg.info as PredictorInfo;
          slot.ready = true;
          resolve();
          this.pump();
        } else if (msg.type === 'failed') {
          reject(new HardyError(msg.message));
        } else this.finish(slot, msg);
      });
      worker.on('error', (err) => {
        if (!slot.ready) reject(err);
        else this.log(`hardy-mer serve: prediction worker failed: ${err?.stack ?? String(err)}`);
      });
      worker.on('exit', () => {
        if (this.slots.includes(slot)) this.slots.splice(this.slots.indexOf(slot), 1);
        const jobs = slot.jobs ?? [];
        for (const j of jobs) this.settle(j, () => j.reject(new Error('the prediction worker stopped')));
        if (!slot.ready) reject(new HardyError('a prediction worker stopped while loading the models'));
        else if (!this.closing) {
          this.counts.workerRestarts++;
          this.spawn().catch((err) => this.log(`hardy-mer serve: could not restart a prediction worker: ${String(err)}`));
        }
      });
    });
  }

  private settle(job: Job, fn: () => void): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    fn();
  }

  private finish(slot: Slot, msg: { type: string; response?: PredictResponse; message?: string; invalid?: boolean }): void {
    const jobs = slot.jobs ?? [];
    slot.jobs = null;
    if (msg.type === 'result') {
      const answers = split(jobs, msg.response!);
      jobs.forEach((j, i) => this.settle(j, () => j.resolve(answers[i]!)));
      const now = Date.now();
      this.recent.push([now, jobs.reduce((a, j) => a + j.utterances, 0)]);
      while (this.recent.length && this.recent[0]![0] < now - 10_000) this.recent.shift();
    } else if (jobs.length > 1) {
      // One request of the batch may be the cause: run each again on its own, first in line.
      for (const j of jobs) j.alone = true;
      this.queue.unshift(...jobs.filter((j) => !j.settled));
      this.queuedUtterances += jobs.filter((j) => !j.settled).reduce((a, j) => a + j.utterances, 0);
    } else {
      for (const j of jobs) this.settle(j, () => j.reject(msg.invalid ? new HardyError(msg.message!) : new Error(msg.message)));
    }
    this.pump();
  }

  /** Utterances answered per second over the last 10 s (at least 1). */
  private rate(): number {
    if (this.recent.length < 2) return 1;
    const span = (Date.now() - this.recent[0]![0]) / 1000;
    return Math.max(1, this.recent.reduce((a, [, n]) => a + n, 0) / Math.max(span, 1));
  }

  private retryAfter(): number {
    return Math.min(60, Math.max(1, Math.ceil(this.queuedUtterances / this.rate())));
  }

  private take(): Job[] {
    const head = this.queue.shift()!;
    const jobs = [head];
    let total = head.utterances;
    if (!head.alone) {
      for (let i = 0; i < this.queue.length && total < this.o.maxBatchUtterances; ) {
        const j = this.queue[i]!;
        if (!j.alone && j.key === head.key && total + j.utterances <= this.o.maxBatchUtterances) {
          jobs.push(j);
          total += j.utterances;
          this.queue.splice(i, 1);
        } else i++;
      }
    }
    this.queuedUtterances -= total;
    return jobs;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.jobs) continue;
      if (!this.queue.length) return;
      const wait = this.queue[0]!.arrived + this.o.batchDelayMs - Date.now();
      if (wait > 0 && this.queuedUtterances < this.o.maxBatchUtterances) {
        this.delayTimer ??= setTimeout(() => {
          this.delayTimer = undefined;
          this.pump();
        }, wait);
        return;
      }
      slot.jobs = this.take();
      this.counts.batches++;
      this.counts.batchedUtterances += slot.jobs.reduce((a, j) => a + j.utterances, 0);
      slot.worker.postMessage({ request: merge(slot.jobs) });
    }
  }

  ready(): boolean {
    return this.slots.length === this.o.workers && this.slots.every((s) => s.ready);
  }

  info(): PredictorInfo {
    if (!this.infoValue) throw new ServiceUnavailableError('not_ready', 'the models are still loading; see GET /ready', 1);
    return this.infoValue;
  }

  predict(request: PredictRequest): Promise<PredictResponse> {
    if (this.closing) return Promise.reject(new ServiceUnavailableError('not_ready', 'the server is shutting down', 1));
    if (!this.infoValue) return Promise.reject(new ServiceUnavailableError('not_ready', 'the models are still loading; see GET /ready', 1));
    const utterances = countUtterances(request);
    if (this.queuedUtterances > 0 && this.queuedUtterances + utterances > this.o.maxQueueUtterances) {
      this.counts.overloaded++;
      return Promise.reject(new ServiceUnavailableError('overloaded', `${this.queuedUtterances} utterances are waiting (limit ${this.o.maxQueueUtterances}); retry later`, this.retryAfter()));
    }
    return new Promise((resolve, reject) => {
      const job: Job = { request, utterances, key: batchKey(request), arrived: Date.now(), settled: false, alone: false, resolve, reject, timer: undefined! };
      job.timer = setTimeout(() => {
        this.settle(job, () => {
          const at = this.queue.indexOf(job);
          if (at >= 0) {
            this.queue.splice(at, 1);
            this.queuedUtterances -= job.utterances;
          }
          this.counts.timedOut++;
          reject(new ServiceUnavailableError('timeout', `no answer within ${this.o.timeoutMs} ms`, this.retryAfter()));
        });
      }, this.o.timeoutMs);
      this.queue.push(job);
      this.queuedUtterances += utterances;
      this.pump();
    });
  }

  stats(): Record<string, unknown> {
    const { batches, batchedUtterances, ...rest } = this.counts;
    return {
      workers: this.slots.length,
      workersReady: this.slots.filter((s) => s.ready).length,
      workersBusy: this.slots.filter((s) => s.jobs).length,
      queuedRequests: this.queue.length,
      queuedUtterances: this.queuedUtterances,
      batches,
      meanBatchUtterances: batches ? batchedUtterances / batches : 0,
      ...rest,
    };
  }

  /** Stops the workers; queued requests get 503. Call after the server has drained. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.delayTimer);
    for (const j of this.queue.splice(0)) this.settle(j, () => j.reject(new ServiceUnavailableError('not_ready', 'the server is shutting down', 1)));
    this.queuedUtterances = 0;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
