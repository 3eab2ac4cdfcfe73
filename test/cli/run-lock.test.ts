// Two writers on one run folder (issue 15 item 4), through the real CLI: while a `train` runs, a
// second `train --resume` and an `eval` are refused with the first one's pid and host and write
// nothing; once the first is killed (-9), its stale lock is taken over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCK_FILE } from '../../src/util/lock.ts';
import { hardyMer, inTempDir, startHardyMer, synthTiny, writeConfig } from '../support/cli.ts';

const run = (...args: string[]) => hardyMer(args, { timeout: 120_000 });

test('a second train --resume and an eval are refused while train runs; a killed run\'s lock is stale', () =>
  inTempDir('lock-cli', async (dir) => {
    const data = synthTiny(dir, 1);
    const runDir = join(dir, 'run');
    // long enough to still be running while the other writers knock
    const cfg = writeConfig(dir, ['model: { hidden: 16, depth: 1, heads: 2 }', 'teacher: { epochs: 2000, stage1Epochs: 1000 }', 'finetune: { epochs: 1 }']);
    const args = ['train', '--data', data, '--config', cfg, '--folds', '1', '--conditions', 'a', '--method', 'momke', '--out', runDir, '--quiet'];
    const first = startHardyMer(args);
    const exited = new Promise((res) => first.on('exit', res));
    try {
      for (let i = 0; i < 600 && !existsSync(join(runDir, LOCK_FILE)); i++) await sleep(100);
      assert.ok(existsSync(join(runDir, LOCK_FILE)), 'the first train took the lock');
      const inUse = new RegExp(`run folder in use by pid ${first.pid} on host ${hostname().replace(/\./g, '\\.')} \\(train, since `);
      const second = run(...args, '--resume');
      assert.equal(second.status, 1, second.stderr);
      assert.match(second.stderr, inUse);
      const ev = run('eval', '--run', runDir);
      assert.equal(ev.status, 1);
      assert.match(ev.stderr, inUse);
      assert.ok(!existsSync(join(runDir, 'eval.json')));
      assert.equal(JSON.parse(readFileSync(join(runDir, LOCK_FILE), 'utf8')).pid, first.pid, 'the lock is still the first writer\'s');
    } finally {
      first.kill('SIGKILL');
      await exited;
    }
    // the lock file outlived its process: the next writer takes it over (eval then finds no finished model)
    assert.ok(existsSync(join(runDir, LOCK_FILE)));
    const after = run('eval', '--run', runDir);
    assert.doesNotMatch(after.stderr, /in use/);
    assert.match(after.stderr, /no finished model/);
    assert.ok(!existsSync(join(runDir, LOCK_FILE)), 'released by eval');
  }));
