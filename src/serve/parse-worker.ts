/**
 * The body-parsing thread (see parse-thread.ts): parses and validates request bodies off the
 * server's main thread, one at a time, in the order they come.
 *
 * Messages in:  { id, raw: Uint8Array, ctx: SchemaContext }
 * Messages out: { id, request: PredictRequest } | { id, message, invalid }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HardyError } from '../util/errors.ts';
import type { SchemaContext } from './schema.ts';
import { lowerThreadPriority } from './threads.ts';
import { parseJsonBody, validatePredictRequest } from './validate.ts';

lowerThreadPriority((workerData as { nice: number }).nice);

const port = parentPort!;
port.on('message', ({ id, raw, ctx }: { id: number; raw: Uint8Array; ctx: SchemaContext }) => {
  try {
    port.postMessage({ id, request: validatePredictRequest(parseJsonBody(raw), ctx) });
  } catch (err) {
    // HardyError (InvalidRequestError among them): the client's mistake, answered 400 with this message.
    const invalid = err instanceof HardyError;
    port.postMessage({ id, invalid, message: invalid ? (err as Error).message : String((err as Error)?.stack ?? err) });
  }
});
