/**
 * Crash safety of a real `hardy-mer train` run: SIGKILL at seeded random moments, then `--resume`
 * until it finishes; after every kill each JSON file of the run folder must parse and every model
 * file must load, and the final results must equal an uninterrupted run's.
 * Used by bench/crash/run.ts (many points) and test/cli/crash.test.ts (a few).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.ts';
import { BIN } from './cli.ts';

export const CRASH_CONFIG = [
  'model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 }',
  'teacher: { epochs: 3, stage1Epochs: 1 }',
  'student: { epochs: 3, stage1Epochs: 1 }',
  'finetune: { epochs: 2 }',
  'optim: { lr: 0.003, batchSize: 4 }',
].join('\n');

export function trainArgs(data: string, cfg: string, out: string): string[] {
  return [BIN, 'train', '--data', data, '--config', cfg, '--folds', '1', '--conditions', 'a,at', '--out', out, '--json', '--quiet'];
}

/** Every *.json under dir parses; returns how many were checked. */
export function checkJsonFiles(dir: string): number {
  let n = 0;
  if (!existsSync(dir)) return 0; // killed before the run folder was made
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) n += checkJsonFiles(p);
    else if (name.endsWith('.json')) {
      JSON.parse(readFileSync(p, 'utf8')); // throws on a torn file
      n++;
    }
  }
  return n;
}

/** Runs `train` and kills it with SIGKILL after `ms`; resolves whether it was killed before finishing. */
export function runAndKill(args: string[], ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL');
    });
  });
}

export interface CrashReport {
  kills: number[];
  killed: number;
  jsonFilesChecked: number;
  identical: boolean;
  /** The final `--resume`'s stdout (the results JSON), to show how it differs when it does. */
  stdout: string;
  resumes: number;
}

/**
 * One trial: an uninterrupted reference run (`reference`, its stdout JSON), then a run killed at
 * `points` seeded moments in (0, referenceSeconds), resumed after each kill, and finished.
 */
export async function crashTrial(opts: { data: string; dir: string; reference: string; referenceSeconds: number; points: number; seed: number }): Promise<CrashReport> {
  const cfg = join(opts.dir, 'crash.yaml');
  writeFileSync(cfg, CRASH_CONFIG);
  const out = join(opts.dir, `crash-${opts.seed}`);
  const rng = new Rng(opts.seed);
  // Kill moments in the later 70% of an uninterrupted run's time (the first part is process
  // start-up); each attempt starts anew (resuming what the previous kill left) and dies at its moment.
  const kills = Array.from({ length: opts.points }, () => Math.round((0.3 + 0.7 * rng.next()) * opts.referenceSeconds * 1000)).sort((a, b) => a - b);
  let killed = 0;
  let jsonFilesChecked = 0;
  let resumes = 0;
  for (let i = 0; i < kills.length; i++) {
    const args = trainArgs(opts.data, cfg, out);
    if (i > 0) args.push('--resume');
    if (await runAndKill(args, kills[i]!)) killed++;
    if (i > 0) resumes++;
    try {
      jsonFilesChecked += checkJsonFiles(out);
    } catch (err) {
      throw new Error(`after kill ${i + 1} at ${kills[i]} ms: ${(err as Error).message}`);
    }
  }
  const last = spawnSync(process.execPath, [...trainArgs(opts.data, cfg, out), '--resume'], { encoding: 'utf8' });
  resumes++;
  if (last.status !== 0) throw new Error(`final --resume failed: ${last.stderr}`);
  return { kills, killed, jsonFilesChecked, identical: last.stdout === opts.reference, stdout: last.stdout, resumes };
}

/** The uninterrupted reference run: stdout JSON and wall seconds. */
export function referenceRun(data: string, dir: string): { stdout: string; seconds: number } {
  const cfg = join(dir, 'crash.yaml');
  writeFileSync(cfg, CRASH_CONFIG);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, trainArgs(data, cfg, join(dir, 'reference')), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reference run failed: ${r.stderr}`);
  return { stdout: r.stdout, seconds: (performance.now() - t0) / 1000 };
}
