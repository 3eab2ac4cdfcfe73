// The run-folder lock (issue 15 item 4): exclusive, names its owner, detects stale locks (dead pid,
// or a pid reused by another process) on this host, never breaks another host's lock, and of many
// processes racing for it exactly one wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { FolderInUseError, LOCK_FILE, lockFolder, lockOwner, withFolderLock } from '../../src/util/lock.ts';
import { inTempDir } from '../support/cli.ts';

const withDir = (f: (dir: string) => void | Promise<void>): Promise<void> => inTempDir('lock', f);

const deadPid = (): number => {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout); // exited: its pid is free (reuse within this test is vanishingly unlikely)
};

const fakeLock = (dir: string, owner: object) => writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ startedAt: '2026-01-01T00:00:00Z', command: 'train', nonce: 'x', ...owner }));

test('a held lock refuses a second writer, naming pid and host; release frees it', () => withDir((dir) => {
  const lock = lockFolder(dir, 'train');
  const saved = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  assert.equal(saved.pid, process.pid);
  assert.equal(saved.host, hostname());
  assert.equal(saved.command, 'train');
  assert.deepEqual(lockOwner(dir), saved);
  assert.throws(() => lockFolder(dir, 'eval'), (err: unknown) =>
    err instanceof FolderInUseError && err.message === `${dir}: run folder in use by pid ${process.pid} on host ${hostname()} (train, since ${saved.startedAt})`);
  lock.release();
  lock.release(); // idempotent
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
  lockFolder(dir, 'eval').release();
}));

test('withFolderLock releases when its function throws', () => withDir(async (dir) => {
  await assert.rejects(withFolderLock(dir, 'eval', () => { throw new Error('boom'); }), /boom/);
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
}));

test('a lock whose process is gone is stale and taken over; so is one whose pid now belongs to another process', () => withDir((dir) => {
  fakeLock(dir, { pid: deadPid(), host: hostname() });
  const a = lockFolder(dir, 'train --resume');
  assert.equal(lockOwner(dir)?.pid, process.pid);
  a.release();
  if (existsSync('/proc/self/stat')) {
    // our own pid, but started at another time: the pid was reused after the owner died
    fakeLock(dir, { pid: process.pid, host: hostname(), procStart: 1 });
    const b = lockFolder(dir, 'train');
    assert.equal(lockOwner(dir)?.command, 'train');
    b.release();
  }
  assert.deepEqual(readdirSync(dir), [], 'no stale copy left behind');
}));

test("another host's lock is never broken: the message says which file to remove", () => withDir((dir) => {
  fakeLock(dir, { pid: deadPid(), host: 'elsewhere.example' });
  assert.throws(() => lockFolder(dir, 'train'), new RegExp(`run folder in use by pid \\d+ on host elsewhere\\.example .*remove ${join(dir, LOCK_FILE).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
}));

test('an empty lock file is in use while fresh (being written) and stale when old (its writer was killed)', () => withDir((dir) => {
  writeFileSync(join(dir, LOCK_FILE), '');
  assert.throws(() => lockFolder(dir, 'train'), /run folder in use \(its lock .* is being written by another process\)/);
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, LOCK_FILE), old, old);
  lockFolder(dir, 'train').release();
}));

test('a folder that does not exist is not locked (nor created)', () => withDir((dir) => {
  assert.throws(() => lockFolder(join(dir, 'nope'), 'eval'), /nope: run folder not found/);
  assert.ok(!existsSync(join(dir, 'nope')));
}));

test('of 6 processes racing for one folder, exactly one gets the lock', () => withDir(async (dir) => {
  const LOCK = resolve('src/util/lock.ts');
  // each child spins until the common start time, tries once, reports, and holds until its stdin closes
  const code = `import { lockFolder } from ${JSON.stringify(LOCK)};
    const start = Number(process.argv[1]);
    while (Date.now() < start);
    try { lockFolder(${JSON.stringify(dir)}, 'race'); console.log('won'); }
    catch (e) { console.log(e.name); }
    process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  const start = Date.now() + 3000; // most children are loaded and spinning by then; a late one finds the lock held
  const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, String(start)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const outs = await Promise.all(children.map((c) => new Promise<string>((res) => c.stdout.once('data', (d) => res(String(d).trim())))));
  const closed = Promise.all(children.map((c) => new Promise((res) => c.on('close', res))));
  for (const c of children) c.stdin.end();
  await closed;
  assert.deepEqual(outs.sort(), ['FolderInUseError', 'FolderInUseError', 'FolderInUseError', 'FolderInUseError', 'FolderInUseError', 'won']);
  assert.ok(!existsSync(join(dir, LOCK_FILE)), 'released when the winner exited');
}));
