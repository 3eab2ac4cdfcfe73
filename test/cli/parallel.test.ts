// `train --jobs N --threads T` (issue 14): the local pool gives results.json byte-identical to one
// process; killed with SIGKILL mid-run, its job processes exit with it and `--resume` finishes with
// the same bytes; the progress display counts units and names the running jobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hardyMer, inTempDir, pidAlive, startHardyMer, synthTiny, writeConfig } from '../support/cli.ts';

const cli = (...args: string[]) => hardyMer(args, { timeout: 300_000 });

test('train --jobs 2: byte-identical to one process; killed and resumed, still identical', () =>
  inTempDir('pool', async (dir) => {
    const data = synthTiny(dir, 3);
    const cfg = writeConfig(dir, [
      'model: { hidden: 16, depth: 1, heads: 2 }',
      'teacher: { epochs: 4, stage1Epochs: 2 }',
      'student: { epochs: 4, stage1Epochs: 2 }',
      'finetune: { epochs: 2, batchSize: 8 }',
      'optim: { lr: 0.003, batchSize: 4 }',
    ]);
    const args = (out: string) => ['train', '--data', data, '--config', cfg, '--method', 'hardy', '--folds', '1,2', '--conditions', 'a,tv', '--seeds', '4', '--out', out];

    const one = cli(...args(join(dir, 'one')), '--quiet');
    assert.equal(one.status, 0, one.stderr);
    const expected = readFileSync(join(dir, 'one', 'results.json'), 'utf8');

    const pool = cli(...args(join(dir, 'pool')), '--jobs', '2', '--threads', '1');
    assert.equal(pool.status, 0, pool.stderr);
    assert.equal(readFileSync(join(dir, 'pool', 'results.json'), 'utf8'), expected);
    assert.match(pool.stderr, /started s4\/f1\/stage1-teacher on pid \d+/);
    assert.match(pool.stderr, /units 4\/4, running 0; elapsed \S+, ETA 0s/);
    assert.match(pool.stderr, /seed 4 fold 2 tv: WA /, 'one line per finished unit');
    // the stage-1 jobs' own checkpoints are gone once the shared end of stage 1 is written
    const fold = join(dir, 'pool', 'seed-4', 'fold-1');
    assert.deepEqual(readdirSync(join(fold, 'stage1-student')), ['checkpoint']);

    // killed once a unit has begun: its job processes go with it, and --resume ends with the same bytes
    const out = join(dir, 'killed');
    const first = startHardyMer([...args(out), '--jobs', '2', '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    first.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise((res) => first.on('exit', res));
    const unitCheckpoint = join(out, 'seed-4', 'fold-1', 'a', 'student', 'checkpoint', 'latest.json');
    for (let i = 0; i < 1200 && !existsSync(unitCheckpoint) && first.exitCode === null; i++) await sleep(50);
    assert.ok(existsSync(unitCheckpoint), `a unit was under way before the kill:\n${stderr}`);
    first.kill('SIGKILL');
    await exited;
    const pids = [...stderr.matchAll(/on pid (\d+)/g)].map((m) => Number(m[1]));
    assert.ok(pids.length > 0);
    for (let i = 0; i < 100 && pids.some(pidAlive); i++) await sleep(100);
    assert.deepEqual(pids.filter(pidAlive), [], 'job processes exit when their parent is killed');
    assert.ok(!existsSync(join(out, 'results.json')));
    const resumed = cli(...args(out), '--jobs', '2', '--threads', '1', '--resume', '--quiet');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(readFileSync(join(out, 'results.json'), 'utf8'), expected);
  }));

test('--jobs and --threads take whole numbers >= 1', () => {
  const r = cli('train', '--data', 'nowhere', '--jobs', '0');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--jobs takes a whole number >= 1, got '0'/);
});
