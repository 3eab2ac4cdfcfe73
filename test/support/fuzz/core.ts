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
import { parseNpy } from '../../../src/data/formats/npy.ts';
import { parsePickle } from '../../../src/data/formats/pickle.ts';
import { gcnetDialogues } from '../../../src/data/gcnet.ts';
import { encodePickle, PyFloat, type PickleValue } from '../../../src/data/formats/pickle-writer.ts';
import { parseConfigText, resolveConfig } from '../../../src/cli/config.ts';
import { DEFAULT_CONFIG } from '../../../src/train/config.ts';
import { HardyError } from '../../../src/util/errors.ts';
import { Rng } from '../../../src/util/rng.ts';
import { mutate, type Format } from './mutate.ts';

export type ReaderName = 'npy' | 'pickle' | 'labels' | 'config-json' | 'config-yaml';
export const READERS: readonly ReaderName[] = ['npy', 'pickle', 'labels', 'config-json', 'config-yaml'];

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

/** The GCNet fixtures' label pickles, and generated ones in both layouts under protocols 2 and 4. */
function labelCorpus(): Uint8Array[] {
  const files = [`${FIXTURES}/gcnet_iemocap/IEMOCAP_features_raw_4way.pkl`, `${FIXTURES}/gcnet_mosi/CMUMOSI_features_raw_2way.pkl`];
  const dict = (f: (vid: string, i: number) => PickleValue) => new Map<string, PickleValue>(['Ses01F_a', 'Ses02M_b'].map((vid, i) => [vid, f(vid, i)]));
  const uids = (vid: string) => [`${vid}_F000`, `${vid}_M001`];
  const iemocap: PickleValue = [dict(uids), dict(() => [0, 3]), dict(() => ['F', 'M']), dict(() => ['hi', 'there']), new Set(['Ses02M_b']), new Set(['Ses01F_a'])];
  const cmu: PickleValue = [dict(uids), dict(() => [new PyFloat(-1.5), new PyFloat(2)]), dict(() => ['', '']), dict(() => ['a', 'b']), ['Ses01F_a'], [], new Set(['Ses02M_b'])];
  return [...files.map((p) => new Uint8Array(readFileSync(p))), ...[iemocap, cmu].flatMap((v) => [encodePickle(v, 2), encodePickle(v, 4)])];
}

/** A GCNet label pickle as the loader decodes it (IEMOCAP's 6-element layout, or CMU's 7). */
function readLabels(bytes: Uint8Array, source: string): unknown {
  const top = parsePickle(bytes, source);
  return gcnetDialogues(top, source, Array.isArray(top) && top.length === 7 ? 'mosi' : 'iemocap4');
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
    // the loader's walk over what the reader built: ids, speakers, labels, dict keys (issue 15)
    labels: { name: 'labels', format: 'pickle', source: 'fuzz.pkl', corpus: labelCorpus(), read: readLabels },
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
  /** Bytes the case held: the largest of its result's size, its ArrayBuffer growth and its heap growth. */
  bytes: number;
  /** Why the case fails the oracle; undefined when it passes. */
  failure?: string;
}

/** Runs one input through the reader and judges it. */
export function judge(t: Target, input: Uint8Array, limits: Limits = DEFAULT_LIMITS): CaseResult {
  const m0 = process.memoryUsage();
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
  const m1 = process.memoryUsage();
  const grown = m1.arrayBuffers - m0.arrayBuffers;
  const heapGrown = m1.heapUsed - m0.heapUsed; // what is still reachable or not yet collected: an estimate
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
    } else if (/[\x00-\x08\x0b-\x1f\x7f]/.test(thrown.message)) {
      failure = `HardyError message holds a raw control character: ${JSON.stringify(thrown.message.slice(0, 300))}`;
    }
  }
  const held = threw ? 0 : valueBytes(value);
  if (held > bound) failure = `returned about ${held} bytes from a ${input.length}-byte input`;
  if (!failure && grown > bound) failure = `ArrayBuffer memory grew by ${grown} bytes on a ${input.length}-byte input`;
  if (!failure && ms > limits.maxCaseMs) failure = `took ${ms.toFixed(0)} ms (limit ${limits.maxCaseMs} ms)`;
  return { outcome: threw ? 'error' : 'value', ms, bytes: Math.max(held, grown, heapGrown), failure };
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
  /** Most bytes any one case held (CaseResult.bytes). */
  maxBytes: number;
  totalSeconds: number;
}

/** Progress hooks: the bench worker publishes them through shared memory so its parent keeps them if it dies. */
export interface FuzzHooks {
  before?: (i: number) => void;
  after?: (i: number, r: CaseResult) => void;
}

/** Cases [from, from + count) of run `seed`. */
export function runFuzz(t: Target, seed: number, from: number, count: number, limits: Limits = DEFAULT_LIMITS, hooks: FuzzHooks = {}): FuzzSummary {
  const s: FuzzSummary = { reader: t.name, seed, cases: 0, values: 0, errors: 0, failures: [], maxMs: 0, maxBytes: 0, totalSeconds: 0 };
  const t0 = performance.now();
  for (let i = from; i < from + count; i++) {
    hooks.before?.(i);
    const r = judge(t, caseInput(t, seed, i), limits);
    s.cases++;
    if (r.outcome === 'value') s.values++;
    else s.errors++;
    s.maxMs = Math.max(s.maxMs, r.ms);
    s.maxBytes = Math.max(s.maxBytes, r.bytes);
    if (r.failure) s.failures.push({ reader: t.name, seed, case: i, reason: r.failure });
    hooks.after?.(i, r);
  }
  s.totalSeconds = (performance.now() - t0) / 1000;
  return s;
}

export const formatFailure = (f: Failure): string =>
  `${f.reader} seed ${f.seed} case ${f.case}: ${f.reason}  (reproduce: npm run bench:fuzz -- --reader ${f.reader} --seed ${f.seed} --case ${f.case})`;
