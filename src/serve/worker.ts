/**
 * One prediction worker thread (see pool.ts): builds its predictor once (engine started, models
 * loaded), says `ready` with the predictor's info, then answers one request at a time.
 *
 * Messages in:  { request: PredictRequest }   (the next one only after the answer)
 * Messages out: { type: 'ready', info } | { type: 'failed', message }
 *               | { type: 'result', response } | { type: 'error', message, invalid }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HardyError } from '../util/errors.ts';
import type { PredictRequest, Predictor, PredictorSpec } from './predictor.ts';
import { lowerThreadPriority } from './threads.ts';

const { spec, nice } = workerData as { spec: PredictorSpec; nice: number };
const port = parentPort!;

lowerThreadPriority(nice);

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
