/**
 * The serve load test's machinery (issue 8), shared by bench/serve-load.ts (the full run and its
 * table) and test/serve/load.test.ts (a fast subset): a server on loopback as `hardy-mer serve`
 * runs it (HTTP on the main thread, predictions in a PredictorPool, or on the main thread with
 * `pool.workers: 0`), N concurrent clients in a worker thread sending a seeded mix of valid and
 * malformed requests, `GET /health` polled from another, and the checks: no crash, the expected
 * 4xx and reason for every malformed request, every valid answer equal to a direct predictor call.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Rng } from '../../src/util/rng.ts';
import { CONDITIONS, MODALITIES, type Modality } from '../../src/data/types.ts';
import type { Predictor, PredictorInfo, PredictorSpec, PredictResponse } from '../../src/serve/predictor.ts';
import { createServer } from '../../src/serve/server.ts';
import { PredictorPool, type PoolOptions } from '../../src/serve/pool.ts';
import { validatePredictRequest } from '../../src/serve/validate.ts';

export type PredictorFactory = () => Predictor | Promise<Predictor>;

export interface LoadOptions {
  /** What the server's worker threads serve. */
  spec: PredictorSpec;
  pool: PoolOptions;
  /** The same predictor in this thread, to check every served answer against. */
  direct: PredictorFactory;
  clients: number;
  requestsPerClient: number;
  /** Hard bound: no request starts after this many seconds. */
  maxSeconds: number;
  seed: number;
  maxBodyBytes: number;
  /** Utterances per valid request (one dialogue). */
  utterances: number;
  /** Sequential requests of one client alone before the storm (the first 5 are warm-up). Default 30. */
  aloneRequests?: number;
  /** Bodies of at least this many bytes are parsed in the server's parsing thread (ServerOptions.parseThreadBytes); Infinity = all on the main thread. Default: the server's. */
  parseThreadBytes?: number;
  /** Write the server main thread's CPU profile of the storm here (.cpuprofile, Chrome DevTools' format). */
  profile?: string;
}

type Kind = 'valid' | 'bad_json' | 'nan_literal' | 'infinity' | 'wrong_dims' | 'unknown_condition' | 'unknown_modality' | 'empty' | 'no_model' | 'huge';

/** Relative frequency and the answer each kind must get. */
const KINDS: { kind: Kind; weight: number; status: number; reason: RegExp }[] = [
  { kind: 'valid', weight: 10, status: 200, reason: /./ },
  { kind: 'bad_json', weight: 1, status: 400, reason: /not valid JSON/ },
  { kind: 'nan_literal', weight: 1, status: 400, reason: /not valid JSON/ },
  { kind: 'infinity', weight: 1, status: 400, reason: /is Infinity; features must be finite/ },
  { kind: 'wrong_dims', weight: 1, status: 400, reason: /has \d+ values, expected \d+/ },
  { kind: 'unknown_condition', weight: 1, status: 400, reason: /unknown modality 'x'/ },
  { kind: 'unknown_modality', weight: 1, status: 400, reason: /unknown modality 'z'/ },
  { kind: 'empty', weight: 1, status: 400, reason: /no utterances/ },
  { kind: 'no_model', weight: 1, status: 400, reason: /no model trained for condition/ },
  { kind: 'huge', weight: 2, status: 413, reason: /exceeds \d+ bytes/ },
];

/** The kinds this predictor can be sent: `no_model` only when some condition has no model. */
function kindsFor(info: PredictorInfo): typeof KINDS {
  const have = new Set(info.models.map((m) => m.condition));
  return KINDS.filter((k) => k.kind !== 'no_model' || CONDITIONS.some((c) => !have.has(c)));
}

function pickKind(rng: Rng, kinds: typeof KINDS): (typeof KINDS)[number] {
  let r = rng.next() * kinds.reduce((a, k) => a + k.weight, 0);
  for (const k of kinds) if ((r -= k.weight) < 0) return k;
  return kinds[0];
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const vector = (rng: Rng, n: number) => Array.from({ length: n }, () => round(rng.normal()));

/** A valid body regenerable from its seed (so answers can be re-checked after the run). */
function validBody(seed: number, info: PredictorInfo, n: number) {
  const rng = new Rng(seed);
  const conditions = info.models.map((m) => m.condition);
  const dialogue = `d${seed}`;
  const utterances = Array.from({ length: n }, (_, i) => {
    const c = conditions[rng.int(conditions.length)];
    const features = Object.fromEntries(MODALITIES.filter((m) => c.includes(m)).map((m) => [m, vector(rng, info.dims[m])]));
    return { id: `s${seed}u${i}`, dialogue, speaker: rng.next() < 0.5 ? 'F' : 'M', features };
  });
  return { utterances };
}

function malformedBody(kind: Kind, rng: Rng, info: PredictorInfo, o: Pick<LoadOptions, 'maxBodyBytes'>): string {
  const m: Modality = info.dims.a > 0 ? 'a' : 't';
  const one = (features: Record<string, unknown>) => JSON.stringify({ utterances: [{ id: 'bad', features }] });
  switch (kind) {
    case 'bad_json': {
      const text = one({ [m]: vector(rng, info.dims[m]) });
      return text.slice(0, 1 + rng.int(text.length - 2));
    }
    case 'nan_literal':
      return one({ [m]: vector(rng, info.dims[m]) }).replace(/-?\d+(\.\d+)?/, 'NaN');
    case 'infinity':
      return one({ [m]: vector(rng, info.dims[m]) }).replace(/\[-?\d+(\.\d+)?/, '[1e999');
    case 'wrong_dims':
      return one({ [m]: vector(rng, info.dims[m] + (rng.next() < 0.5 ? -1 : 1)) });
    case 'unknown_condition':
      return JSON.stringify({ condition: 'ax', utterances: [{ id: 'bad', features: { [m]: vector(rng, info.dims[m]) } }] });
    case 'unknown_modality':
      return one({ [m]: vector(rng, info.dims[m]), z: [1, 2, 3] });
    case 'empty':
      return rng.next() < 0.5 ? '{"utterances": []}' : '[]';
    case 'no_model': {
      const have = new Set(info.models.map((x) => x.condition));
      const missing = CONDITIONS.find((c) => !have.has(c))!;
      return one(Object.fromEntries(MODALITIES.filter((x) => missing.includes(x)).map((x) => [x, vector(rng, info.dims[x])])));
    }
    case 'huge': {
      // Valid-looking JSON well past the limit: the server must refuse it by size, not parse it.
      const target = Math.floor(o.maxBodyBytes * (1.2 + rng.next()));
      const row = JSON.stringify(vector(rng, 256));
      const rows = Math.ceil(target / row.length);
      return `{"utterances":[{"id":"huge","features":{"a":[${Array(rows).fill(row.slice(1, -1)).join(',')}]}}]}`;
    }
    default:
      throw new Error(`no malformed body for ${kind}`);
  }
}

/**
 * Micro-batching runs a request's dialogues in one forward pass with other requests' dialogues: the
 * matrix products then have other shapes, so a probability may differ from a lone call in its last
 * float32 bits. Everything else must be identical: ids, labels, conditions, and the hardness
 * estimate (its features and neighbours are computed dialogue by dialogue, serve/forward.ts).
 * A request that was not merged must come back bit-identical.
 */
export const NUMERIC_TOLERANCE = 1e-6;

/** Infinity when ids, labels, conditions, hardness or shapes differ; else the largest probability/score difference. */
function answerDifference(a: PredictResponse, b: PredictResponse): number {
  if (a.task !== b.task || a.utterances.length !== b.utterances.length) return Infinity;
  let worst = 0;
  const num = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined ? (x === y ? 0 : Infinity) : Math.abs(x - y));
  a.utterances.forEach((u, i) => {
    const v = b.utterances[i]!;
    if (u.id !== v.id || u.dialogue !== v.dialogue || u.label !== v.label || u.condition !== v.condition || u.used.join() !== v.used.join()) worst = Infinity;
    if ((u.probs?.length ?? 0) !== (v.probs?.length ?? 0) || u.hardness !== v.hardness) worst = Infinity;
    u.probs?.forEach((p, k) => (worst = Math.max(worst, num(p, v.probs![k]))));
    worst = Math.max(worst, typeof u.label === 'number' ? num(u.score, v.score) : 0);
  });
  return worst;
}

export interface LoadReport {
  requests: number;
  byKind: Record<string, number>;
  failures: string[];
  crashes: number;
  networkErrors: number;
  seconds: number;
  throughput: number;
  latencyMs: {
    p50: number; p99: number; max: number; validP50: number; validP99: number; afterFirstP50: number; afterFirstP99: number; aloneP50: number; aloneP99: number;
    healthP50: number; healthP99: number; healthMax: number;
  };
  /** Utterances in valid answers per second of the storm. */
  predictionsPerSecond: number;
  /** Mean latency a closed loop of `clients` at this throughput must have (Little's law), ms. */
  queueBoundMs: number;
  healthPolls: number;
  /** Polls of GET /health that took longer than the goal's 50 ms (p99 < 50 ms = fewer than 1 in 100; counts add up over repeated runs). */
  healthOver50: number;
  /**
   * The server's main thread during the storm: its event-loop delay (how late a timer due every
   * 10 ms ran: time the loop spent on other work first, or waiting for a core) p50 / p99 / max, and
   * its garbage collections (count, total and longest pause), in ms.
   */
  mainThread: { loopDelayP50: number; loopDelayP99: number; loopDelayMax: number; gcCount: number; gcMs: number; gcMaxMs: number; gcByKind: Record<string, [count: number, longestMs: number]>; sched?: Sched };
  pool: Record<string, unknown>;
  /** The bench's own client thread (it generates and sends the requests, on the same cores): time on a core and waiting for one. */
  clientsSched?: Sched;
  /** CPU time of the whole process during the storm (server threads, clients, /health probe, V8's helpers), ms. */
  processCpuMs: number;
  /** 1-minute load average of the machine before and after the run (other work shares the cores). */
  loadAverage: [number, number];
  /** kind -> [p50, p99] ms */
  latencyByKind: Record<string, [number, number]>;
  /** Malformed requests answered with the expected status and reason / sent. */
  malformedOk: number;
  malformed: number;
  /** Valid requests answered 200 with an answer equal to the direct call (within NUMERIC_TOLERANCE) / sent. */
  validIdentical: number;
  /** Of those, bit-identical to the direct call. */
  validExact: number;
  /** Largest |served - direct| over probabilities, scores and hardness of the valid answers. */
  maxDifference: number;
  valid: number;
  bodyMiB: number;
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** What one client request saw. */
interface Outcome {
  kind: Kind;
  /** Regenerates a valid body (valid requests only). */
  seed: number;
  /** 0 = network error. */
  status: number;
  ms: number;
  /** Index of the request within its client (0 = the first, opened in the initial burst). */
  round: number;
  json?: { error?: string; message?: string };
  error?: string;
}

/** The clients: runs in a worker thread so request generation never blocks the server's event loop. */
/**
 * A load balancer's probe: GET /health every 100 ms until told to stop; a failed probe counts as
 * Infinity. In a thread of its own, so the clients' body generation does not delay its timing.
 */
async function pollHealth(url: string): Promise<number[]> {
  const health: number[] = [];
  let done = false;
  parentPort!.once('message', () => (done = true));
  while (!done) {
    const start = performance.now();
    const status = await fetch(`${url}/health`, { signal: AbortSignal.timeout(60_000) }).then((r) => r.arrayBuffer().then(() => r.status), () => 0);
    health.push(status === 200 ? performance.now() - start : Infinity);
    await new Promise((r) => setTimeout(r, 100));
  }
  return health;
}

async function runClients(url: string, info: PredictorInfo, o: Omit<LoadOptions, 'spec' | 'pool' | 'direct'> & { abortMs: number }): Promise<{ outcomes: Outcome[]; bytes: number; seconds: number; sched?: Sched }> {
  const sched0 = schedstat();
  const outcomes: Outcome[] = [];
  let bytes = 0;
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  const kinds = kindsFor(info);
  async function client(c: number): Promise<void> {
    const rng = new Rng(o.seed * 100_003 + c);
    for (let r = 0; r < o.requestsPerClient && performance.now() < deadline; r++) {
      const { kind } = pickKind(rng, kinds);
      const seed = o.seed * 1_000_003 + c * 1000 + r;
      const body = kind === 'valid' ? JSON.stringify(validBody(seed, info, o.utterances)) : malformedBody(kind, rng, info, o);
      bytes += body.length;
      const start = performance.now();
      try {
        const res = await fetch(`${url}/predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(o.abortMs) });
        const json = (await res.json()) as Outcome['json'];
        outcomes.push({ kind, seed, status: res.status, ms: performance.now() - start, round: r, json });
      } catch (err) {
        outcomes.push({ kind, seed, status: 0, ms: performance.now() - start, round: r, error: String((err as Error).cause ?? (err as Error).message) });
      }
    }
  }
  await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
  return { outcomes, bytes, seconds: (performance.now() - t0) / 1000, sched: schedDelta(sched0, schedstat()) };
}

/**
 * This thread's scheduler figures (Linux /proc/thread-self/schedstat), ms: time on a core, time
 * runnable but waiting for one, and how many times it got one. Undefined elsewhere.
 */
interface Sched {
  cpuMs: number;
  waitMs: number;
  slices: number;
}
function schedstat(): Sched | undefined {
  try {
    const [cpu, wait, slices] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(' ').map(Number);
    return { cpuMs: cpu! / 1e6, waitMs: wait! / 1e6, slices: slices! };
  } catch {
    return undefined;
  }
}

const schedDelta = (a: Sched | undefined, b: Sched | undefined): Sched | undefined =>
  a && b ? { cpuMs: b.cpuMs - a.cpuMs, waitMs: b.waitMs - a.waitMs, slices: b.slices - a.slices } : undefined;

/** perf_hooks' GC entry kinds: NODE_PERFORMANCE_GC_MINOR -> 'minor', ... */
const GC_KINDS: Record<number, string> = Object.fromEntries(
  Object.entries(perfConstants).filter(([k]) => /^NODE_PERFORMANCE_GC_[A-Z]+$/.test(k)).map(([k, v]) => [v, k.slice('NODE_PERFORMANCE_GC_'.length).toLowerCase()]),
);

/** Starts the V8 profiler on this thread; the function it returns stops it and gives the profile. */
async function startProfile(): Promise<() => Promise<object>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<any>((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return async () => {
    const { profile } = await post('Profiler.stop');
    session.disconnect();
    return profile;
  };
}

export async function runServeLoad(o: LoadOptions): Promise<LoadReport> {
  // --workers 0: the predictor on the server's main thread, as before the pool (the reference).
  const pool = o.pool.workers === 0 ? undefined : new PredictorPool(o.spec, { ...o.pool, log: (l) => console.error(l) });
  await pool?.start();
  const served = pool ?? (await o.direct());
  const info = served.info();
  let crashes = 0;
  const onCrash = (err: unknown) => {
    crashes++;
    console.error('CRASH:', err);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const server = await createServer(served, {
    port: 0, host: '127.0.0.1', maxBodyBytes: o.maxBodyBytes, parseThreadBytes: o.parseThreadBytes, workerNice: o.pool.workerNice, log: (l) => console.error(l),
  });

  // Warm-up (JITs the server path), then one client alone: the service time without queueing.
  const alone: number[] = [];
  for (let i = 0; i < (o.aloneRequests ?? 30); i++) {
    const body = JSON.stringify(validBody(-1 - i, info, o.utterances));
    const start = performance.now();
    await fetch(`${server.url}/predict`, { method: 'POST', body }).then((r) => r.arrayBuffer());
    if (i >= 5) alone.push(performance.now() - start);
  }
  const load1 = loadavg()[0];
  // Workers do not inherit the tsx loader: the bootstrap registers it, then loads this file.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const { spec, pool: poolOptions, direct, ...rest } = o;
  // A client gives up well after the server's deadline, so that a late answer is the server's 503.
  const clientOptions = { ...rest, abortMs: Math.max(60_000, (poolOptions.timeoutMs ?? 30_000) + 30_000) };
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const gc: number[] = [];
  const gcKinds: Record<string, [number, number]> = {};
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.push(e.duration);
      const kind = GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      const k = (gcKinds[kind] ??= [0, 0]);
      k[0]++;
      k[1] = Math.max(k[1], e.duration);
    }
  });
  loopDelay.enable();
  gcObserver.observe({ entryTypes: ['gc'] });
  const profiler = o.profile ? await startProfile() : undefined;
  const sched0 = schedstat();
  const cpu0 = process.cpuUsage();
  const prober = new Worker(boot, { eval: true, execArgv: [], workerData: { healthPoll: { url: server.url } } });
  const worker = new Worker(boot, { eval: true, execArgv: [], workerData: { serveLoad: { url: server.url, info, o: clientOptions } } });
  const [clients] = (await once(worker, 'message')) as [Awaited<ReturnType<typeof runClients>>];
  const sched1 = schedstat();
  const cpu1 = process.cpuUsage(cpu0);
  loopDelay.disable();
  gcObserver.disconnect();
  if (profiler) writeFileSync(o.profile!, JSON.stringify(await profiler()));
  prober.postMessage('stop');
  const [probes] = (await once(prober, 'message')) as [number[]];
  const run = { ...clients, health: probes };
  await Promise.all([worker.terminate(), prober.terminate()]);

  const failures: string[] = [];
  // The server must still be up and healthy after the storm.
  const health = await fetch(`${server.url}/health`).then((r) => r.status).catch(() => 0);
  if (health !== 200) failures.push(`server unhealthy after the run (GET /health -> ${health})`);
  await server.close();
  const poolStats = pool?.stats() ?? { workers: 0 };
  await pool?.close();
  const predictor = await direct();

  const expected = new Map(KINDS.map((k) => [k.kind, k]));
  const conditions = info.models.map((m) => m.condition);
  const byKind: Record<string, number> = {};
  const latByKind: Record<string, number[]> = {};
  let malformedOk = 0;
  let validIdentical = 0;
  let validExact = 0;
  let maxDifference = 0;
  for (const r of run.outcomes) {
    byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    (latByKind[r.kind] ??= []).push(r.ms);
    const spec = expected.get(r.kind)!;
    if (r.status === 0) failures.push(`${r.kind}: network error ${r.error}`);
    else if (r.status !== spec.status) failures.push(`${r.kind}: status ${r.status}, expected ${spec.status} (${r.json?.message ?? ''})`);
    else if (r.kind === 'valid') {
      // Against the predictor called directly on the same (regenerated) request.
      const req = validatePredictRequest(validBody(r.seed, info, o.utterances), { dims: info.dims, conditions });
      const diff = answerDifference(JSON.parse(JSON.stringify(await predictor.predict(req))), r.json as unknown as PredictResponse);
      if (diff <= NUMERIC_TOLERANCE) {
        validIdentical++;
        if (diff === 0) validExact++;
        maxDifference = Math.max(maxDifference, diff);
      } else failures.push(`valid request ${r.seed}: served answer differs from the direct predictor call (${diff})`);
    } else if (typeof r.json?.message !== 'string' || !spec.reason.test(r.json.message) || !r.json.error) {
      failures.push(`${r.kind}: reason ${JSON.stringify(r.json?.message)} does not match ${spec.reason}`);
    } else malformedOk++;
  }
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);

  const lat = run.outcomes.map((r) => r.ms);
  const latValid = latByKind.valid ?? [];
  const latAfterFirst = run.outcomes.filter((r) => r.round > 0).map((r) => r.ms);
  const answered = run.outcomes.filter((r) => r.kind === 'valid' && r.status === 200).length * o.utterances;
  const throughput = run.outcomes.length / run.seconds;
  return {
    requests: run.outcomes.length,
    byKind,
    failures,
    crashes,
    networkErrors: run.outcomes.filter((r) => r.status === 0).length + run.health.filter((ms) => ms === Infinity).length,
    seconds: run.seconds,
    throughput,
    predictionsPerSecond: answered / run.seconds,
    queueBoundMs: (1000 * o.clients) / throughput,
    healthPolls: run.health.length,
    healthOver50: run.health.filter((ms) => ms > 50).length,
    mainThread: {
      // The histogram holds whole timer intervals: the delay is what exceeds the 10 ms.
      loopDelayP50: Math.max(0, loopDelay.percentile(50) / 1e6 - 10),
      loopDelayP99: Math.max(0, loopDelay.percentile(99) / 1e6 - 10),
      loopDelayMax: Math.max(0, loopDelay.max / 1e6 - 10),
      gcCount: gc.length,
      gcMs: gc.reduce((a, b) => a + b, 0),
      gcMaxMs: Math.max(0, ...gc),
      gcByKind: gcKinds,
      sched: schedDelta(sched0, sched1),
    },
    pool: poolStats,
    clientsSched: clients.sched,
    processCpuMs: (cpu1.user + cpu1.system) / 1000,
    latencyMs: {
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      max: Math.max(...lat),
      validP50: quantile(latValid, 0.5),
      validP99: quantile(latValid, 0.99),
      afterFirstP50: quantile(latAfterFirst, 0.5),
      afterFirstP99: quantile(latAfterFirst, 0.99),
      aloneP50: quantile(alone, 0.5),
      aloneP99: quantile(alone, 0.99),
      healthP50: quantile(run.health, 0.5),
      healthP99: quantile(run.health, 0.99),
      healthMax: Math.max(...run.health),
    },
    loadAverage: [load1, loadavg()[0]],
    latencyByKind: Object.fromEntries(Object.entries(latByKind).map(([k, xs]) => [k, [quantile(xs, 0.5), quantile(xs, 0.99)]])),
    malformedOk,
    malformed: run.outcomes.length - (byKind.valid ?? 0),
    validIdentical,
    validExact,
    maxDifference,
    valid: byKind.valid ?? 0,
    bodyMiB: run.bytes / 2 ** 20,
  };
}

if (!isMainThread && workerData?.serveLoad) {
  const { url, info, o } = workerData.serveLoad as { url: string; info: PredictorInfo; o: Parameters<typeof runClients>[2] };
  parentPort!.postMessage(await runClients(url, info, o));
} else if (!isMainThread && workerData?.healthPoll) {
  parentPort!.postMessage(await pollHealth((workerData.healthPoll as { url: string }).url));
}
