/**
 * Worker side of the fuzz bench: runs a range of cases for one reader and publishes the index of
 * the case in progress through shared memory, so the parent can name a case that hangs (or runs
 * the worker out of memory) even though the worker itself never gets to report it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeTargets, runFuzz, type ReaderName } from './core.ts';

interface Job {
  reader: ReaderName;
  seed: number;
  from: number;
  count: number;
  current: SharedArrayBuffer;
}

const job = workerData as Job;
const current = new Int32Array(job.current);
const target = makeTargets()[job.reader];
const summary = runFuzz(target, job.seed, job.from, job.count, undefined, (i) => Atomics.store(current, 0, i));
parentPort!.postMessage(summary);
