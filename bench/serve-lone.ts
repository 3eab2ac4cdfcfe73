/**
 * Where a lone prediction request's time goes (issue 18): the trained run's predictor on the main
 * thread (as `serve` ran before the pool: the reference) against one pool worker thread, for a
 * request of 1 and of 50 utterances, sent one after another (no queueing, no batching). Each arm
 * runs in a child process of its own, because OpenBLAS reads its settings once per process when it
 * loads; the arms alternate over --rounds so that other work on the machine hits them alike.
 *
 * Per arm: wall time per request (p50, p90) and the CPU time of the whole process per request (every
 * thread: the prediction's, the addon's), the first request after loading (warm-up), and for the
 * worker the time inside the worker's predict() (the rest is the queue and message passing).
 * (Until OpenBLAS ran one thread, a third arm here measured what a worker cost when OpenBLAS never
 * saw the engine's settings: bench/RESULTS.md, "Lone request".)
 *
 *   node --import tsx bench/serve-lone.ts --run RUNDIR [--requests 60] [--rounds 3]
 */
import { spawnSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../src/engine/backend.ts';
import { MODALITIES } from '../src/data/types.ts';
import { PredictorPool } from '../src/serve/pool.ts';
import { createPredictor as createRunPredictor, RunPredictor } from '../src/serve/run-predictor.ts';
import { validatePredictRequest } from '../src/serve/validate.ts';
import type { PredictRequest, PredictResponse, Predictor, PredictorInfo } from '../src/serve/predictor.ts';
import { Rng } from '../src/util/rng.ts';
import { median, round } from './support.ts';

const ARMS = {
  main: { label: 'main thread (W = 0, the reference)' },
  worker: { label: 'worker (W = 1)' },
} as const;
type Arm = keyof typeof ARMS;

interface Figures {
  p50: number;
  p90: number;
  cpuMs: number;
  firstMs: number;
  insideP50?: number;
}

/** The worker's predictor, timed where it runs (the pool passes the extra field through). */
export async function createPredictor(options: { runDir: string }): Promise<Predictor> {
  const p = await createRunPredictor(options);
  return {
    info: () => p.info(),
    async predict(req: PredictRequest) {
      const t0 = performance.now();
      const r = await p.predict(req);
      return Object.assign(r, { insideMs: performance.now() - t0 });
    },
  };
}

function request(seed: number, info: PredictorInfo, n: number): PredictRequest {
  const rng = new Rng(seed);
  const conditions = info.models.map((m) => m.condition);
  const utterances = Array.from({ length: n }, (_, i) => {
    const c = conditions[rng.int(conditions.length)]!;
    return { id: `u${i}`, features: Object.fromEntries(MODALITIES.filter((m) => c.includes(m)).map((m) => [m, Array.from({ length: info.dims[m] }, () => rng.normal())])) };
  });
  return validatePredictRequest({ dialogues: [{ id: 'd', utterances }] }, { dims: info.dims, conditions });
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function measure(p: Predictor, n: number, requests: number, seed: number): Promise<Figures> {
  const info = p.info();
  const wall: number[] = [];
  const inside: number[] = [];
  let cpu = 0;
  let firstMs = 0;
  for (let i = 0; i < requests + 5; i++) {
    const req = request(seed + i, info, n);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = (await p.predict(req)) as PredictResponse & { insideMs?: number };
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i === 0) firstMs = ms;
    if (i < 5) continue; // warm-up
    wall.push(ms);
    cpu += (c.user + c.system) / 1000;
    if (r.insideMs !== undefined) inside.push(r.insideMs);
  }
  return { p50: quantile(wall, 0.5), p90: quantile(wall, 0.9), cpuMs: cpu / requests, firstMs, ...(inside.length ? { insideP50: quantile(inside, 0.5) } : {}) };
}

/** One arm in this (child) process: the predictor built as the arm says, then 1 and 50 utterances. */
async function child(arm: Arm, runDir: string, requests: number): Promise<Record<string, Figures>> {
  let p: Predictor;
  let pool: PredictorPool | undefined;
  if (arm === 'main') {
    await initEngine();
    p = RunPredictor.load(runDir);
  } else {
    pool = new PredictorPool({ module: import.meta.url, options: { runDir } }, { workers: 1 });
    await pool.start();
    p = pool;
  }
  const out = { u1: await measure(p, 1, requests, 1000), u50: await measure(p, 50, Math.ceil(requests / 5), 2000) };
  await pool?.close();
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { run: { type: 'string' }, requests: { type: 'string', default: '60' }, rounds: { type: 'string', default: '3' }, child: { type: 'string' } } });
  if (!values.run) throw new Error('--run RUNDIR is required');
  const requests = Number(values.requests);
  if (values.child) {
    process.stdout.write(JSON.stringify(await child(values.child as Arm, values.run, requests)));
    process.exit(0);
  }
  const load0 = loadavg()[0];
  const t0 = new Date();
  const results: Record<Arm, Array<Record<string, Figures>>> = { main: [], worker: [] };
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const arm of Object.keys(ARMS) as Arm[]) {
      const c = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', arm, '--run', values.run, '--requests', String(requests)], { encoding: 'utf8' });
      if (c.status !== 0) throw new Error(`arm ${arm}: ${c.stderr}`);
      results[arm].push(JSON.parse(c.stdout));
      process.stderr.write(`round ${r + 1} ${arm}: ${c.stdout}\n`);
    }
  }
  // Per arm and size: the median over rounds of each figure.
  const fig = (arm: Arm, size: string, k: keyof Figures) => median(results[arm].map((x) => x[size]![k]).filter((v): v is number => v !== undefined));
  const f = (x: number) => (Number.isFinite(x) ? String(round(x)) : '-');
  const lines = [
    `${t0.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${values.rounds} rounds x ${requests} requests of 1 utterance and ${Math.ceil(requests / 5)} of 50 (after 5 warm-up each), load ${round(load0)} before, ${round(loadavg()[0])} after; medians over the rounds.`,
    '',
    '| arm | 1 utt.: p50 / p90 ms | CPU ms per request | inside the worker p50 | first request | 50 utt.: p50 / p90 ms | CPU ms per request | inside the worker p50 | first request |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const arm of Object.keys(ARMS) as Arm[]) {
    const cells = ['u1', 'u50'].flatMap((s) => [`${f(fig(arm, s, 'p50'))} / ${f(fig(arm, s, 'p90'))}`, f(fig(arm, s, 'cpuMs')), f(fig(arm, s, 'insideP50')), f(fig(arm, s, 'firstMs'))]);
    lines.push(`| ${ARMS[arm].label} | ${cells.join(' | ')} |`);
  }
  const ratio = (a: Arm, b: Arm, s: string, k: keyof Figures) => (fig(a, s, k) / fig(b, s, k)).toFixed(2);
  lines.push('', '| ratio | 1 utt.: p50 | CPU | 50 utt.: p50 | CPU |', '|---|---|---|---|---|');
  lines.push(`| worker / main | ${ratio('worker', 'main', 'u1', 'p50')} | ${ratio('worker', 'main', 'u1', 'cpuMs')} | ${ratio('worker', 'main', 'u50', 'p50')} | ${ratio('worker', 'main', 'u50', 'cpuMs')} |`);
  console.log(lines.join('\n'));
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) {
  await main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
