/**
 * Fuzz bench for the file readers (issue 8): N seeded mutated cases per reader, each reader in a
 * worker with a heap limit and a watchdog, so a hang or an out-of-memory is caught, named by its
 * case, and the run goes on with the next case.
 *
 * Usage: npm run bench:fuzz [-- --cases 10000] [--seed 1] [--reader npy|pickle|config-json|config-yaml]
 *        npm run bench:fuzz -- --reader pickle --seed 1 --case 1234   (re-run one case in-process, verbosely)
 *        npm run bench:fuzz -- --self-check [--hang-ms 5000]   (a reader that hangs in case 3 and exhausts
 *        the heap in case 5: both must be reported, and the other cases run)
 * Prints a summary per reader and one JSON line of figures; exits 1 if any case failed.
 */
import { Worker } from 'node:worker_threads';
import { caseInput, formatFailure, judge, makeTargets, READERS, type Failure, type FuzzSummary, type ReaderName } from '../../test/support/fuzz/core.ts';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const cases = Number(opt('cases') ?? 10000);
const seed = Number(opt('seed') ?? 1);
const readers = (opt('reader')?.split(',') ?? READERS) as ReaderName[];
const HANG_MS = Number(opt('hang-ms') ?? 10_000); // a case making no progress this long is a hang (the per-case limit is 1 s)
const STARTUP_MS = 120_000;
const HEAP_MB = argv.includes('--self-check') ? 64 : 512;

/** Cases [from, from + count) in a worker; resolves with its summary, or with the case that hung or crashed it. */
interface Died { failure: Failure; values: number; errors: number; maxMs: number; maxBytes: number }

function runWorker(reader: ReaderName | 'selftest', from: number, count: number): Promise<{ summary?: FuzzSummary; dead?: Died }> {
  const current = new SharedArrayBuffer(20); // [case in progress, values, errors, max microseconds per case, max KiB per case]
  const cur = new Int32Array(current);
  Atomics.store(cur, 0, -1); // the worker stores each case index before running it
  const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
    workerData: { reader, seed, from, count, current },
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
  });
  return new Promise((resolve, reject) => {
    let last = -1;
    let since = performance.now();
    let settled = false;
    const dead = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      const i = Atomics.load(cur, 0);
      // a worker that dies before its first case is a broken harness, not a finding
      if (i < 0) reject(new Error(`fuzz worker for ${reader} failed to start: ${reason}`));
      else resolve({ dead: { failure: { reader: reader as ReaderName, seed, case: i, reason }, values: cur[1]!, errors: cur[2]!, maxMs: cur[3]! / 1000, maxBytes: cur[4]! * 1024 } });
    };
    const watch = setInterval(() => {
      const i = Atomics.load(cur, 0);
      if (i !== last) { last = i; since = performance.now(); return; }
      const limit = i < 0 ? STARTUP_MS : HANG_MS; // loading the worker's TypeScript takes seconds on a busy machine
      if (performance.now() - since > limit) { dead(`no progress for ${limit / 1000} s (hang)`); void w.terminate(); }
    }, 250);
    w.on('message', (summary: FuzzSummary) => { settled = true; clearInterval(watch); resolve({ summary }); });
    w.on('error', (err) => dead(`worker died: ${err.name}: ${err.message}`));
    w.on('exit', (code) => { if (code !== 0) dead(`worker exited with code ${code}`); });
  });
}

async function fuzzReader(reader: ReaderName | 'selftest', cases: number): Promise<FuzzSummary> {
  const total: FuzzSummary = { reader: reader as ReaderName, seed, cases: 0, values: 0, errors: 0, failures: [], maxMs: 0, maxBytes: 0, totalSeconds: 0 };
  const t0 = performance.now();
  let from = 0;
  while (from < cases) {
    const r = await runWorker(reader, from, cases - from);
    if (r.summary) {
      const s = r.summary;
      total.cases += s.cases; total.values += s.values; total.errors += s.errors;
      total.failures.push(...s.failures);
      total.maxMs = Math.max(total.maxMs, s.maxMs);
      total.maxBytes = Math.max(total.maxBytes, s.maxBytes);
      break;
    }
    // the worker died in case `failure.case`: keep the figures of the cases before it, count it as a failure, go on after it
    const { failure, values, errors, maxMs, maxBytes } = r.dead!;
    total.failures.push(failure);
    total.cases += failure.case - from + 1;
    total.values += values;
    total.errors += errors;
    total.maxMs = Math.max(total.maxMs, maxMs);
    total.maxBytes = Math.max(total.maxBytes, maxBytes);
    from = failure.case + 1;
  }
  total.totalSeconds = (performance.now() - t0) / 1000;
  return total;
}

async function main(): Promise<void> {
  const one = opt('case');
  if (one !== undefined) {
    const t = makeTargets()[readers[0]!];
    const input = caseInput(t, seed, Number(one));
    console.log(`${t.name} seed ${seed} case ${one}: ${input.length} bytes; first 200 as latin-1: ${JSON.stringify(Buffer.from(input.subarray(0, 200)).toString('latin1'))}`);
    try {
      console.log('value:', t.read(input, t.source));
    } catch (err) {
      console.log('threw:', err);
    }
    console.log('oracle:', judge(t, input));
    return;
  }
  if (argv.includes('--self-check')) {
    const s = await fuzzReader('selftest', 8);
    for (const f of s.failures) console.log(`  caught ${formatFailure(f)}`);
    const caught = s.failures.map((f) => f.case).join(',');
    // the six other cases ran and were counted although their workers died later
    const ok = s.cases === 8 && caught === '3,5' && s.values + s.errors === 6;
    console.log(JSON.stringify({ bench: 'fuzz-self-check', cases: s.cases, completed: s.values + s.errors, caught, ok }));
    if (!ok) process.exitCode = 1;
    return;
  }
  const summaries: FuzzSummary[] = [];
  for (const reader of readers) {
    const s = await fuzzReader(reader, cases);
    summaries.push(s);
    console.log(`${reader}: ${s.cases} cases (${s.values} returned a value, ${s.errors} a HardyError), ${s.failures.length} failures, max ${s.maxMs.toFixed(1)} ms and ${(s.maxBytes / 2 ** 20).toFixed(1)} MiB per case, ${s.totalSeconds.toFixed(1)} s`);
    for (const f of s.failures.slice(0, 20)) console.log(`  FAIL ${formatFailure(f)}`);
  }
  const figures = Object.fromEntries(summaries.map((s) => [s.reader, { cases: s.cases, failures: s.failures.length, maxMsPerCase: Number(s.maxMs.toFixed(1)), maxMiBPerCase: Number((s.maxBytes / 2 ** 20).toFixed(2)), totalSeconds: Number(s.totalSeconds.toFixed(1)) }]));
  console.log(JSON.stringify({ bench: 'fuzz', seed, ...figures }));
  if (summaries.some((s) => s.failures.length)) process.exitCode = 1;
}

await main();
