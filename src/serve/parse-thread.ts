/**
 * Request bodies parsed and validated in a thread of their own, so the server's main thread only
 * receives bytes and answers. Why (bench/RESULTS.md, "Server load, trained model"): a 50-utterance
 * body of the demo run (74 kB) costs about 1.2 ms of JSON.parse and validation, and 100 clients
 * send theirs at once, so the main thread parsed for 100-200 ms back to back while `GET /health`
 * waited behind it. Here the main thread copies the bytes to the thread and gets the validated
 * request back (a structured clone: about a fifth of the cost for such a body). Small bodies (a
 * single utterance: 1.5 kB, 0.05 ms) stay on the main thread, where they cost less than the round
 * trip: the server sends only bodies of at least `parseThreadBytes` here.
 *
 * One thread, started on the first large body: it parses about 800 such bodies per second, far
 * more than the prediction workers answer. It runs `nice` steps below the main thread, as the
 * prediction workers do. The answers are those of the main thread's path: both call
 * `parseJsonBody` and `validatePredictRequest` (validate.ts).
 */
import { Worker } from 'node:worker_threads';
import type { PredictRequest } from './predictor.ts';
import type { SchemaContext } from './schema.ts';
import { threadCode } from './threads.ts';
import { InvalidRequestError } from './validate.ts';

interface Pending {
  resolve(r: PredictRequest): void;
  reject(e: unknown): void;
}

export class BodyParser {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  /** Bodies parsed here so far (GET /health shows it). */
  parsed = 0;

  constructor(private readonly nice: number) {}

  /** The validated request, or InvalidRequestError with the message the main thread's path gives. */
  parse(raw: Uint8Array, ctx: SchemaContext): Promise<PredictRequest> {
    const worker = (this.worker ??= this.spawn());
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, raw, ctx });
    });
  }

  private spawn(): Worker {
    const { code, eval: isEval } = threadCode('parse-worker');
    const worker = new Worker(code, { eval: isEval, workerData: { nice: this.nice }, execArgv: [] });
    worker.unref(); // the server's sockets keep the process alive, not this thread
    worker.on('message', (msg: { id: number; request?: PredictRequest; message?: string; invalid?: boolean }) => {
      const p = this.pending.get(msg.id)!;
      this.pending.delete(msg.id);
      this.parsed++;
      if (msg.request) p.resolve(msg.request);
      else p.reject(msg.invalid ? new InvalidRequestError(msg.message!) : new Error(msg.message));
    });
    const stopped = (err: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined; // the next body starts a new thread
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`the request parsing thread stopped (exit code ${code})`)));
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error('the server is shutting down'));
    this.pending.clear();
    await worker?.terminate();
  }
}
