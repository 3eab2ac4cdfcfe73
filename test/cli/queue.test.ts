// `train --queue` and `hardy-mer worker` (issue 14) against a real redis-server on a free loopback
// port: a coordinator and two workers give results.json byte-identical to one process, and a second
// coordinator is refused; a worker SIGKILLed mid-unit has its job taken over (stalled-job check) and
// the results stay identical; a killed coordinator is resumed with --resume; a failing job fails the
// run once; Redis down (or a wrong password) is a clear error naming the URL, password redacted;
// a `train --resume` without the queue is refused while a worker still runs a job of the run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkRedis } from '../../src/run/queue.ts';
import { LOCK_FILE, lockFolder } from '../../src/util/lock.ts';
import { freePort, redisMissing, startRedis, type RedisHandle } from '../support/redis-server.ts';
import { hardyMer, pidAlive, startHardyMer, synthTiny, tempDir, writeConfig } from '../support/cli.ts';

const cli = (...args: string[]) => hardyMer(args, { timeout: 300_000 });
/** The tiny run's config; the last test swaps its fine-tuning for an endless one. */
const TINY = ['model: { hidden: 16, depth: 1, heads: 2 }', 'teacher: { epochs: 6, stage1Epochs: 2 }', 'student: { epochs: 6, stage1Epochs: 2 }', 'finetune: { epochs: 2, batchSize: 8 }', 'optim: { lr: 0.003, batchSize: 4 }'];
const skip = redisMissing();

interface Proc {
  proc: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}
const children: ChildProcess[] = [];
function start(...args: string[]): Proc {
  const proc = startHardyMer(args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  proc.stdout!.resume();
  return { proc, stderr: () => err, exit: new Promise((res) => proc.on('exit', (code) => res(code))) };
}
const worker = (url: string, ...more: string[]) => start('worker', '--queue', url, '--concurrency', '1', '--threads', '1', '--lock-seconds', '2', ...more);
async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    assert.ok(Date.now() - t0 < ms, `timed out waiting for ${what}`);
    await sleep(50);
  }
}

let redis: RedisHandle;
let dir: string;
let data: string;
let cfg: string;
let expected: string;
const args = (out: string) => ['train', '--data', data, '--config', cfg, '--method', 'hardy', '--folds', '1', '--conditions', 'a,tv', '--seeds', '2', '--out', out];

before(async () => {
  if (skip) return;
  redis = await startRedis({ password: 'p@ss word' });
  dir = tempDir('queue');
  data = synthTiny(dir, 5);
  cfg = writeConfig(dir, TINY);
  const one = cli(...args(join(dir, 'one')), '--quiet');
  assert.equal(one.status, 0, one.stderr);
  expected = readFileSync(join(dir, 'one', 'results.json'), 'utf8');
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a coordinator and two workers: results byte-identical to one process; a second coordinator is refused', { skip }, async () => {
  const out = join(dir, 'two');
  const w = [worker(redis.url, '--exit-when-idle'), worker(redis.url, '--exit-when-idle')];
  const coord = start(...args(out), '--queue', redis.url);
  await until('the coordinator to claim the folder', () => existsSync(join(out, 'run.json')) || coord.proc.exitCode !== null);
  const second = cli(...args(out), '--resume', '--queue', redis.url);
  assert.equal(second.status, 1);
  assert.match(second.stderr, new RegExp(`run folder in use by pid ${coord.proc.pid} on host .* \\(train --queue \\(coordinator\\)`));
  assert.equal(await coord.exit, 0, coord.stderr());
  assert.equal(readFileSync(join(out, 'results.json'), 'utf8'), expected);
  assert.match(coord.stderr(), /units 2\/2, running 0/);
  assert.doesNotMatch(coord.stderr() + w.map((x) => x.stderr()).join(''), /p@ss/, 'the password never shows');
  // both workers took jobs, and leave once the queue is idle
  const ran = await Promise.all(w.map(async (x) => [await x.exit, (x.stderr().match(/ done \(/g) ?? []).length]));
  for (const [code] of ran) assert.equal(code, 0);
  assert.ok(ran.every(([, n]) => (n as number) >= 1), w.map((x) => x.stderr()).join('\n'));
});

test('a worker SIGKILLed mid-unit: another takes the job over from its checkpoint; results identical', { skip }, async () => {
  const out = join(dir, 'stalled');
  const a = worker(redis.url);
  const coord = start(...args(out), '--queue', redis.url);
  const ckpt = join(out, 'seed-2', 'fold-1', 'a', 'student', 'checkpoint', 'latest.json');
  await until('a unit in stage 2 on the first worker', () => existsSync(ckpt) && JSON.parse(readFileSync(ckpt, 'utf8')).epoch >= 2);
  a.proc.kill('SIGKILL');
  const b = worker(redis.url, '--exit-when-idle');
  assert.equal(await coord.exit, 0, coord.stderr());
  assert.match(coord.stderr(), /s2\/f1\/a: its worker stopped answering; back in the queue/);
  assert.match(b.stderr(), /s2\/f1\/a of /, 'the second worker ran the unit');
  assert.equal(readFileSync(join(out, 'results.json'), 'utf8'), expected);
  assert.equal(await b.exit, 0);
});

test('a killed coordinator is resumed with train --resume --queue; results identical', { skip }, async () => {
  const out = join(dir, 'coordinator');
  const w = worker(redis.url);
  const first = start(...args(out), '--queue', redis.url);
  await until('the first unit', () => existsSync(join(out, 'seed-2', 'fold-1', 'a', 'unit.json')));
  first.proc.kill('SIGKILL');
  await first.exit;
  const resumed = cli(...args(out), '--resume', '--queue', redis.url, '--quiet');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(readFileSync(join(out, 'results.json'), 'utf8'), expected);
  w.proc.kill('SIGTERM');
  assert.equal(await w.exit, 0);
});

test('a job that fails for a real error fails the run once, with its error', { skip }, async () => {
  const out = join(dir, 'failing');
  const coord = start(...args(out), '--queue', redis.url);
  await until('the coordinator to claim the folder', () => existsSync(join(out, 'run.json')));
  // the corpus is gone after the claim: the worker's job cannot read it
  const moved = join(dir, 'tiny-moved');
  renameSync(data, moved);
  try {
    const w = worker(redis.url, '--exit-when-idle');
    assert.equal(await coord.exit, 1);
    assert.match(coord.stderr(), /hardy-mer: job s2\/f1\/prepare failed: .*tiny/);
    assert.equal((w.stderr().match(/s2\/f1\/prepare failed/g) ?? []).length, 1, 'tried once');
    assert.equal(await w.exit, 0, 'the worker leaves once nothing is queued (the run removed its waiting jobs)');
  } finally {
    renameSync(moved, data);
  }
});

test('Redis down or refusing: a clear error naming the URL (password redacted) within seconds', { skip }, async () => {
  const port = await freePort();
  const down = `redis://:hunter2@127.0.0.1:${port}`;
  // the check itself, timed without the CLI's start-up (seconds of TypeScript compilation under load)
  const t0 = Date.now();
  await assert.rejects(checkRedis(down, 3000), /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  assert.ok(Date.now() - t0 < 4000, `${Date.now() - t0} ms`);
  // both commands at once: each CLI start takes seconds under load
  const runs = [args(join(dir, 'down')), ['worker']].map((cmd) => start(...cmd, '--queue', down));
  const closed = runs.map((r) => new Promise((res) => r.proc.on('close', res))); // all of stderr read
  for (const [i, r] of runs.entries()) {
    await closed[i];
    assert.equal(await r.exit, 1, r.stderr());
    assert.match(r.stderr(), new RegExp(`cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assert.doesNotMatch(r.stderr(), /hunter2/);
  }
  // a wrong password: the same check, which both commands run first (as above), on a live server
  await assert.rejects(checkRedis(redis.url.replace('p%40ss', 'nope')), (err: Error) =>
    /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: .*(WRONGPASS|invalid)/.test(err.message) && !err.message.includes('nope'));
});

// Last: its worker is killed with a long job still active in the queue, which no later test must meet.
test('train --resume without the queue is refused while a queue worker still runs a job of the run', { skip }, async () => {
  const out = join(dir, 'two-writers');
  const long = writeConfig(dir, TINY.map((l) => (l.startsWith('finetune:') ? 'finetune: { epochs: 100000, batchSize: 8 }' : l)), 'long.yaml');
  const longArgs = [...args(out).map((a) => (a === cfg ? long : a)), '--conditions', 'a'];
  const w = worker(redis.url);
  const coord = start(...longArgs, '--queue', redis.url);
  const marked = (): boolean => existsSync(out) && readdirSync(out).some((n) => n.startsWith(`${LOCK_FILE}.worker-`));
  await until('the worker to mark the run folder (its job runs)', marked);
  coord.proc.kill('SIGKILL'); // the coordinator dies; its worker goes on with the fine-tuning
  await coord.exit;
  const second = cli(...longArgs, '--resume');
  assert.equal(second.status, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`run folder in use by pid ${w.proc.pid} on host \\S+ \\(worker --queue redis://:\\*\\*\\*@127\\.0\\.0\\.1:\\d+, since [^)]+\\); a queue worker still runs jobs of this run`));
  assert.ok(marked(), 'the worker still runs its job');
  // killed in the middle of stage 0 (no turn of the event loop for its whole length): its job process exits with it
  let jobProcesses: number[] = [];
  await until('the worker\'s job process', () => (jobProcesses = childrenOf(w.proc.pid!)).length === 1);
  w.proc.kill('SIGKILL');
  await w.exit;
  await until('the job process to exit', () => !jobProcesses.some(pidAlive), 20_000);
  lockFolder(out, 'test').release(); // the dead worker's mark is stale: the next writer takes the folder
  assert.ok(!marked());
});

/** Pids whose parent is `pid` (Linux /proc: field 4 of stat). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false; // gone meanwhile
    }
  });
}
