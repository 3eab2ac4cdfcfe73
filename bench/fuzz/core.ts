/**
 * Core of the seeded mutational fuzzer for the file readers (`.npy`, pickle, JSON/YAML config),
 * shared by the long bench run (bench/fuzz/run.ts) and the fast subset in `npm test`.
 *
 * Oracle, per case: the reader returns a value or throws the project's HardyError naming the
 * source; anything else (TypeError, RangeError, stack overflow, out of memory) is a failure. Each
 * case must finish within `maxCaseMs`, and neither the returned value nor the growth of
 * ArrayBuffer memory during the case may exceed a small multiple of the input size: a reader that
 * allocates what a header *declares* instead of what the file holds fails here.
 *
 * Case i of a run with seed S is fully determined by (S, i), so a failure is reproduced with
 * `npm run bench:fuzz -- --reader <r> --seed S --case i`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import { parseNpy } from '../../src/data/formats/npy.ts';
import { parsePickle } from '../../src/data/formats/pickle.ts';
import { parseConfigText, resolveConfig } from '../../src/cli/config.ts';
import { DEFAULT_CONFIG } from '../../src/train/config.ts';
import { HardyError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';
import { mutate, type Format } from './mutate.ts';

export type ReaderName = 'npy' | 'pickle' | 'config-json' | 'config-yaml';
export const READERS: readonly ReaderName[] = ['npy', 'pickle', 'config-json', 'config-yaml'];

export interface Target {
  name: ReaderName;
  format: Format;
  /** Name given to the reader as the file (errors must contain it). */
  source: string;
  read: (bytes: Uint8Array, source: string) => unknown;
  /** Valid inputs that mutations start from. */
  corpus: Uint8Array[];
}

const FIXTURES = 'fixtures/data';

function filesUnder(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}

/** Valid fixtures only: `fixtures/data/bad` holds deliberately broken or hostile files. */
function fixtureCorpus(ext: string): Uint8Array[] {
  return filesUnder(FIXTURES, ext).filter((p) => !p.includes('/bad/')).map((p) => new Uint8Array(readFileSync(p)));
}

/** Valid config texts: the full defaults, and the small partial files users write. */
function configCorpus(format: 'json' | 'yaml'): Uint8Array[] {
  const partials: unknown[] = [
    DEFAULT_CONFIG,
    { seed: 7, model: { hidden: 64 }, curriculum: { K: 5, beta: 2 } },
    { protocol: { kind: 'random', missingRate: 0.5 }, conditions: ['a', 'tv', 'atv'], folds: [1, 2] },
    { teacher: { epochs: 3, stage1Epochs: 1 }, finetune: { enabled: false }, selection: 'test', validFraction: 0.1, earlyStopPatience: 5 },
  ];
  const texts = partials.map((p) => (format === 'json' ? JSON.stringify(p, null, 2) : yamlStringify(p)));
  if (format === 'yaml') {
    texts.push('# comment\nseed: 3\nmodel: {hidden: 32, depth: 2}\nconditions: [a, t]\noptim:\n  lr: 0.001\n  batchSize: 8\n');
    texts.push('base: &b {epochs: 4, stage1Epochs: 2}\n'.replace('base', 'teacher') + 'student: *b\n');
  }
  return texts.map((t) => new TextEncoder().encode(t));
}

const decodeUtf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'); // as readFileSync(p, 'utf8')

/** The four targets with their corpora (read from fixtures/ relative to the working directory). */
export function makeTargets(): Record<ReaderName, Target> {
  const config = (name: ReaderName, ext: 'json' | 'yaml'): Target => ({
    name, format: 'config', source: `fuzz.${ext}`, corpus: configCorpus(ext),
    read: (b, source) => resolveConfig(parseConfigText(decodeUtf8(b), source)),
  });
  return {
    npy: { name: 'npy', format: 'npy', source: 'fuzz.npy', corpus: fixtureCorpus('.npy'), read: parseNpy },
    pickle: { name: 'pickle', format: 'pickle', source: 'fuzz.pkl', corpus: fixtureCorpus('.pkl'), read: parsePickle },
    'config-json': config('config-json', 'json'),
    'config-yaml': config('config-yaml', 'yaml'),
  };
}

/** A 32-bit seed for case i of run `seed` (independent streams per case). */
export function caseSeed(seed: number, i: number): number {
  return new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0).nextUint32();
}

/** The mutated input of case i. */
export function caseInput(t: Target, seed: number, i: number): Uint8Array {
  const rng = new Rng(caseSeed(seed, i));
  const base = t.corpus[rng.int(t.corpus.length)]!;
  return mutate(t.format, base, rng, t.corpus);
}

/**
 * Approximate bytes held by a returned value, each object counted once (iterative: a deep or
 * cyclic value cannot overflow the stack here).
 */
export function valueBytes(root: unknown): number {
  const seen = new Set<object>();
  const work: unknown[] = [root];
  let total = 0;
  while (work.length) {
    const x = work.pop();
    if (typeof x === 'string') { total += 2 * x.length; continue; }
    if (typeof x === 'bigint') { total += x.toString(16).length / 2; continue; }
    if (typeof x !== 'object' || x === null) { total += 8; continue; }
    if (seen.has(x)) continue;
    seen.add(x);
    if (ArrayBuffer.isView(x)) total += x.byteLength;
    else if (Array.isArray(x)) { total += 8 * x.length; for (const v of x) work.push(v); }
    else if (x instanceof Map) { total += 16 * x.size; for (const [k, v] of x) work.push(k, v); }
    else if (x instanceof Set) { total += 8 * x.size; for (const v of x) work.push(v); }
    else for (const v of Object.values(x)) work.push(v);
  }
  return total;
}

/** Per-case limits of the oracle. */
export interface Limits {
  maxCaseMs: number;
  /** A result or ArrayBuffer growth above factor * input bytes + slack is an allocation failure. */
  bytesFactor: number;
  slackBytes: number;
}
export const DEFAULT_LIMITS: Limits = { maxCaseMs: 1000, bytesFactor: 64, slackBytes: 1 << 20 };

export interface CaseResult {
  outcome: 'value' | 'error';
  ms: number;
  /** Why the case fails the oracle; undefined when it passes. */
  failure?: string;
}

/** Runs one input through the reader and judges it. */
export function judge(t: Target, input: Uint8Array, limits: Limits = DEFAULT_LIMITS): CaseResult {
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let value: unknown;
  let thrown: unknown;
  let threw = false;
  try {
    value = t.read(input, t.source);
  } catch (err) {
    thrown = err;
    threw = true;
  }
  const ms = performance.now() - t0;
  const grown = process.memoryUsage().arrayBuffers - before;
  const bound = limits.bytesFactor * input.length + limits.slackBytes;
  let failure: string | undefined;
  if (threw) {
    if (!(thrown instanceof HardyError)) {
      const e = thrown as Error;
      failure = `threw ${e?.name ?? typeof thrown}: ${String(e?.message ?? thrown).slice(0, 300)}`;
    } else if (!thrown.message.includes(t.source) && !thrown.message.startsWith('config:')) {
      failure = `HardyError does not name the file: ${thrown.message.slice(0, 300)}`;
    } else if (thrown.message.length > 4096) {
      failure = `HardyError message of ${thrown.message.length} characters`;
    }
  } else {
    const held = valueBytes(value);
    if (held > bound) failure = `returned about ${held} bytes from a ${input.length}-byte input`;
  }
  if (!failure && grown > bound) failure = `ArrayBuffer memory grew by ${grown} bytes on a ${input.length}-byte input`;
  if (!failure && ms > limits.maxCaseMs) failure = `took ${ms.toFixed(0)} ms (limit ${limits.maxCaseMs} ms)`;
  return { outcome: threw ? 'error' : 'value', ms, failure };
}

export interface Failure {
  reader: ReaderName;
  seed: number;
  case: number;
  reason: string;
}

export interface FuzzSummary {
  reader: ReaderName;
  seed: number;
  cases: number;
  values: number;
  errors: number;
  failures: Failure[];
  maxMs: number;
  totalSeconds: number;
}

/** Progress hooks: the bench worker publishes them through shared memory so its parent keeps them if it dies. */
export interface FuzzHooks {
  before?: (i: number) => void;
  after?: (i: number, r: CaseResult) => void;
}

/** Cases [from, from + count) of run `seed`. */
export function runFuzz(t: Target, seed: number, from: number, count: number, limits: Limits = DEFAULT_LIMITS, hooks: FuzzHooks = {}): FuzzSummary {
  const s: FuzzSummary = { reader: t.name, seed, cases: 0, values: 0, errors: 0, failures: [], maxMs: 0, totalSeconds: 0 };
  const t0 = performance.now();
  for (let i = from; i < from + count; i++) {
    hooks.before?.(i);
    const r = judge(t, caseInput(t, seed, i), limits);
    s.cases++;
    if (r.outcome === 'value') s.values++;
    else s.errors++;
    s.maxMs = Math.max(s.maxMs, r.ms);
    if (r.failure) s.failures.push({ reader: t.name, seed, case: i, reason: r.failure });
    hooks.after?.(i, r);
  }
  s.totalSeconds = (performance.now() - t0) / 1000;
  return s;
}

export const formatFailure = (f: Failure): string =>
  `${f.reader} seed ${f.seed} case ${f.case}: ${f.reason}  (reproduce: npm run bench:fuzz -- --reader ${f.reader} --seed ${f.seed} --case ${f.case})`;
