/**
 * `npm run bench:parallel [-- --folds 1,2 --conditions a,at,tv --seeds 1 --rounds 1 --skip-measure]`
 *
 * 1. Throughput of one run of the `small` preset (configs/demo.yaml schedules) executed four ways
 *    in the same invocation, one after another on the same data: `--jobs 1` (one job at a time, two
 *    threads), `--jobs 2 --threads 1`, `--jobs 2 --threads 2`, and `--queue` with two local workers
 *    (one job, one thread each) on a redis-server started here. Units per hour, each way's ratio to
 *    `--jobs 1`, whether results.json is byte-identical to it, and the queue's overhead per unit
 *    against the pool with the same jobs x threads (`--jobs 2 --threads 1`). With `--rounds R` the
 *    four ways run R times in turn (ABCDABCD...), and the figures are over the rounds' means.
 * 2. The scaling model: the makespan of the full protocol (3 seeds x 5 folds x 6 conditions,
 *    HARDY-MER and MoMKE, the paper's schedules, IEMOCAP size) on 1..128 workers of one core each,
 *    by list scheduling the run graph (src/run/graph.ts) with the longest remaining path first, from
 *    the per-epoch CPU seconds measured in bench/RESULTS.md ("Seconds per epoch by model"), and the
 *    critical path (no number of workers beats it).
 * Markdown tables on stdout; on a shared machine run it under the CPU lock at nice 0
 * (`flock /work/cpu.lock npm run bench:parallel`); it prints the load before and after.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runGraph, type RunJob } from '../src/run/graph.ts';
import type { Unit } from '../src/run/unit.ts';
import { startRedis } from '../test/support/redis-server.ts';

const { values: opt } = parseArgs({
  options: {
    folds: { type: 'string', default: '1,2' },
    conditions: { type: 'string', default: 'a,at,tv' },
    seeds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    'skip-measure': { type: 'boolean', default: false },
  },
});
const BIN = join(import.meta.dirname, '..', 'bin', 'hardy-mer.js');

function cli(args: string[]): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, HARDY_MER_FROM_SOURCE: '1' } });
  if (r.status !== 0) throw new Error(`hardy-mer ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
}

async function measure(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'hardy-bench-parallel-'));
  const data = join(root, 'small');
  cli(['synth', '--out', data, '--preset', 'small', '--seed', '1']);
  const units = opt.seeds.split(',').length * opt.folds.split(',').length * opt.conditions.split(',').length;
  const base = ['train', '--data', data, '--config', join(import.meta.dirname, '..', 'configs', 'demo.yaml'), '--method', 'hardy', '--seeds', opt.seeds, '--folds', opt.folds, '--conditions', opt.conditions, '--quiet', '--json'];
  const rounds = Number(opt.rounds);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds ${opt.rounds}: expected a whole number >= 1`);
  const redis = await startRedis();
  const ways: Array<[string, string[], number]> = [
    ['--jobs 1 (2 threads)', ['--jobs', '1'], 0],
    ['--jobs 2 --threads 1', ['--jobs', '2', '--threads', '1'], 0],
    ['--jobs 2 --threads 2', ['--jobs', '2', '--threads', '2'], 0],
    ['--queue, 2 workers x 1 job x 1 thread', ['--queue', redis.url], 2],
  ];
  const rows = ways.map(([how]) => ({ how, s: [] as number[], same: true }));
  let reference = '';
  let n = 0;
  const load0 = loadavg()[0]!;
  const started = new Date().toISOString();
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [i, [how, flags, workers]] of ways.entries()) {
        const out = join(root, `run-${n++}`);
        const ws = Array.from({ length: workers }, () =>
          spawn(process.execPath, [BIN, 'worker', '--queue', redis.url, '--concurrency', '1', '--threads', '1', '--quiet'], { stdio: 'ignore', env: { ...process.env, HARDY_MER_FROM_SOURCE: '1' } }),
        );
        const t0 = performance.now();
        cli([...base, ...flags, '--out', out]);
        const s = (performance.now() - t0) / 1000;
        for (const w of ws) w.kill('SIGTERM');
        const results = readFileSync(join(out, 'results.json'), 'utf8');
        reference ||= results;
        rows[i]!.s.push(s);
        rows[i]!.same &&= results === reference;
        rmSync(out, { recursive: true, force: true });
        process.stderr.write(`round ${r + 1}, ${how}: ${s.toFixed(1)} s (load ${loadavg()[0]!.toFixed(1)})\n`);
      }
    }
  } finally {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const one = mean(rows[0]!.s);
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim() || 'unknown';
  console.log(`\n${units} units (seeds ${opt.seeds}, folds ${opt.folds}, conditions ${opt.conditions}), small preset, configs/demo.yaml, ${rounds} round(s); ${started} to ${new Date().toISOString()}, commit ${commit}, load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}\n`);
  console.log('| execution | wall s (per round) | units / hour | speed vs --jobs 1 | results.json identical |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.how} | ${r.s.map((x) => x.toFixed(1)).join(' / ')} | ${((units * 3600) / mean(r.s)).toFixed(0)} | ${(one / mean(r.s)).toFixed(2)}x | ${r.same ? 'yes' : 'NO'} |`);
  const pool = rows[1]!.s;
  const queue = rows[3]!.s;
  const perRound = queue.map((q, i) => `${(((q - pool[i]!) / pool[i]!) * 100).toFixed(1)} %`).join(' / ');
  console.log(`\nqueue overhead per unit vs --jobs 2 --threads 1: ${((mean(queue) - mean(pool)) / units).toFixed(2)} s (${(((mean(queue) - mean(pool)) / mean(pool)) * 100).toFixed(1)} % of the run; per round ${perRound})`);
}

/**
 * Seconds of one epoch on one core, IEMOCAP size: train CPU s / epoch from bench/RESULTS.md
 * ("Seconds per epoch by model", 2026-11-27), plus the evaluation at the same CPU share of its wall
 * time as training. The student's stage 2 with the curriculum costs (K + 1) stage-1 epochs + 20 %
 * (bench/RESULTS.md, "Stage-2 epoch time"; K = 3).
 */
const EPOCH = {
  student1: 27.2 + 15.9 * (27.2 / 173.8),
  student2: 27.2 * 4 * 1.2 + 12.5 * (25.9 / 115.7),
  teacher1: 25.7 + 11.3 * (25.7 / 111.3),
  teacher2: 74.3 + 21.7 * (74.3 / 332.6),
  momke1: 15.4 + 11.9 * (15.4 / 72.6),
  momke2: 43.1 + 40.4 * (43.1 / 241.9),
};
/** Stage 0 (30 epochs of per-modality MLPs) and the indexes: not measured at IEMOCAP size; an assumption, small beside one teacher epoch x 100. */
const PREPARE_S = 120;

interface SimJob {
  id: string;
  s: number;
  deps: string[];
}

function protocolJobs(): SimJob[] {
  const units: Unit[] = ['a', 't', 'v', 'at', 'av', 'tv'].map((c) => ({ protocol: 'fixed', condition: c as 'a' }));
  const of = { seeds: [1, 2, 3], folds: [1, 2, 3, 4, 5], units };
  const cost = (method: string, j: RunJob): number => {
    if (j.kind === 'prepare') return PREPARE_S;
    if (method === 'hardy') {
      if (j.kind === 'stage1') return j.model === 'teacher' ? 100 * EPOCH.teacher1 : 25 * EPOCH.student1;
      return 100 * EPOCH.teacher2 + 25 * EPOCH.student2;
    }
    return j.kind === 'stage1' ? 100 * EPOCH.momke1 : 100 * EPOCH.momke2;
  };
  const hardy = runGraph({ ...of, stage1: ['teacher', 'student'], indexes: true });
  const momke = runGraph({ ...of, stage1: ['momke'], indexes: false });
  return [
    ...hardy.map((j) => ({ id: `hardy/${j.id}`, s: cost('hardy', j), deps: j.deps.map((d) => `hardy/${d}`) })),
    ...momke.map((j) => ({ id: `momke/${j.id}`, s: cost('momke', j), deps: j.deps.map((d) => `momke/${d}`) })),
  ];
}

/** Longest path from each job to the end (its own time included). */
function tails(jobs: SimJob[]): Map<string, number> {
  const memo = new Map<string, number>();
  const next = new Map<string, SimJob[]>(jobs.map((j) => [j.id, []]));
  for (const j of jobs) for (const d of j.deps) next.get(d)!.push(j);
  const tail = (j: SimJob): number => memo.get(j.id) ?? (memo.set(j.id, j.s + Math.max(0, ...next.get(j.id)!.map(tail))), memo.get(j.id)!);
  for (const j of jobs) tail(j);
  return memo;
}

/** List scheduling on `w` workers: whenever one is free, the ready job with the longest remaining path. */
function makespan(jobs: SimJob[], w: number, tail: Map<string, number>): number {
  const doneAt = new Map<string, number>();
  const free = Array.from({ length: w }, () => 0);
  const left = new Set(jobs);
  while (left.size) {
    const t = Math.min(...free);
    const ready = [...left].filter((j) => j.deps.every((d) => (doneAt.get(d) ?? Infinity) <= t));
    if (!ready.length) {
      // nothing ready now: the worker waits for the next job to finish
      const next = Math.min(...[...doneAt.values()].filter((x) => x > t));
      free[free.indexOf(t)] = next;
      continue;
    }
    ready.sort((a, b) => tail.get(b.id)! - tail.get(a.id)!);
    const job = ready[0]!;
    left.delete(job);
    const k = free.indexOf(t);
    free[k] = t + job.s;
    doneAt.set(job.id, free[k]!);
  }
  return Math.max(...doneAt.values());
}

function simulate(): void {
  const jobs = protocolJobs();
  const tail = tails(jobs);
  const total = jobs.reduce((a, j) => a + j.s, 0);
  const critical = Math.max(...tail.values());
  const h = (s: number): string => `${(s / 3600).toFixed(1)} h`;
  console.log(`\nScaling model: ${jobs.length} jobs (HARDY-MER and MoMKE, 3 seeds x 5 folds x 6 conditions, paper schedules, IEMOCAP size), ${h(total)} of work on one core; critical path ${h(critical)} (prepare + teacher stage 1 + one unit: teacher stage 2 + student stage 2)\n`);
  console.log('| workers (1 core each) | makespan | speed-up | efficiency |');
  console.log('|---|---|---|---|');
  for (let w = 1; w <= 128; w *= 2) {
    const m = makespan(jobs, w, tail);
    console.log(`| ${w} | ${h(m)} | ${(total / m).toFixed(1)}x | ${((total / m / w) * 100).toFixed(0)} % |`);
  }
  console.log(`| (critical path) | ${h(critical)} | ${(total / critical).toFixed(1)}x | |`);
}

if (!opt['skip-measure']) await measure();
simulate();
