/**
 * One prediction worker thread (see pool.ts): builds its predictor once (engine started, models
 * loaded), says `ready` with the predictor's info, then answers one request at a time.
 *
 * Messages in:  { request: PredictRequest }   (the next one only after the answer)
 * Messages out: { type: 'ready', info } | { type: 'failed', message }
 *               | { type: 'result', response } | { type: 'error', message, invalid }
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { HardyError } from '../util/errors.ts';
import type { PredictRequest, Predictor, PredictorSpec } from './predictor.ts';

const { spec, nice } = workerData as { spec: PredictorSpec; nice: number };
const port = parentPort!;

/**
 * Lowers this thread's scheduling priority by `by` nice steps, so the main thread (HTTP, /health)
 * gets a core first when both want one. On Linux a thread has its own nice value, and the threads
 * started from here (the addon's helper threads, when the addon loads here first) inherit it.
 * Elsewhere, or without /proc, the thread keeps the process's priority.
 */
function lowerPriority(by: number): void {
  if (by <= 0) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, Math.min(19, getPriority(tid) + by));
  } catch {
    // not Linux: nothing to do
  }
}

lowerPriority(nice);

let predictor: Predictor;
try {
  const mod = (await import(spec.module)) as { createPredictor(options: unknown): Promise<Predictor> | Predictor };
  predictor = await mod.createPredictor(spec.options);
  port.postMessage({ type: 'ready', info: predictor.info() });
} catch (err) {
  port.postMessage({ type: 'failed', message: err instanceof HardyError ? err.message : String((err as Error)?.stack ?? err) });
  process.exit(1);
}

port.on('message', async ({ request }: { request: PredictRequest }) => {
  try {
    port.postMessage({ type: 'result', response: await predictor.predict(request) });
  } catch (err) {
    const invalid = err instanceof HardyError;
    port.postMessage({ type: 'error', invalid, message: invalid ? (err as Error).message : String((err as Error)?.stack ?? err) });
  }
});
