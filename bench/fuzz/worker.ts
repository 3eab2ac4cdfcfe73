/**
 * Worker side of the fuzz bench: runs a range of cases for one reader and publishes, through shared
 * memory, the index of the case in progress and the running counts [case, values, errors, max us, max KiB],
 * so the parent can name a case that hangs (or runs the worker out of memory) and keep the figures
 * of the cases before it, even though the worker itself never gets to report them.
 * The `selftest-*` readers misbehave on purpose (case 3 hangs, case 5 exhausts the heap) so
 * `--self-check` can prove the parent catches both and carries on.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeTargets, runFuzz, type ReaderName, type Target } from '../../test/support/fuzz/core.ts';

interface Job {
  reader: ReaderName | 'selftest';
  seed: number;
  from: number;
  count: number;
  current: SharedArrayBuffer;
}

function selfTest(base: Target): Target {
  const read = (bytes: Uint8Array, source: string): unknown => {
    const i = Atomics.load(current, 0);
    if (i === 3) for (;;); // a hang
    // Out of memory in small steps: one 64 MB array at a 64 MB heap limit sometimes fails as a single
    // large-object allocation, which V8 treats as fatal for the whole process (not just the worker);
    // 512 KB steps reach the limit through the near-heap-limit path, which ends only the worker.
    if (i === 5) { const hog: number[][] = []; for (;;) hog.push(new Array<number>(1 << 16).fill(i)); }
    return base.read(bytes, source);
  };
  return { ...base, read };
}

const job = workerData as Job;
const current = new Int32Array(job.current);
const targets = makeTargets();
const target = job.reader === 'selftest' ? selfTest(targets.npy) : targets[job.reader];
const summary = runFuzz(target, job.seed, job.from, job.count, undefined, {
  before: (i) => Atomics.store(current, 0, i),
  after: (_i, r) => {
    Atomics.add(current, r.outcome === 'value' ? 1 : 2, 1);
    const us = Math.round(r.ms * 1000);
    if (us > Atomics.load(current, 3)) Atomics.store(current, 3, us);
    const kib = Math.ceil(r.bytes / 1024);
    if (kib > Atomics.load(current, 4)) Atomics.store(current, 4, kib);
  },
});
parentPort!.postMessage(summary);
