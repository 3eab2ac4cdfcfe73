// The run-folder lock (issue 15 item 4): exclusive, names its owner, detects stale locks (dead pid,
// or a pid reused by another process) on this host, never breaks another host's lock, and of many
// processes racing for it exactly one wins. Queue workers' marks keep every writer but the queue's
// coordinator out, and a worker sees a writer that does not coordinate workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { FolderInUseError, LOCK_FILE, isLockFile, lockFolder, lockOwner, markWorker, withFolderLock, writerWithoutWorkers } from '../../src/util/lock.ts';
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

test("a queue worker's mark refuses every writer but the coordinator; a dead worker's mark is removed", () => withDir((dir) => {
  const mark = markWorker(dir, 'worker --queue redis://127.0.0.1:1');
  const nested = markWorker(dir, 'worker --queue redis://127.0.0.1:1'); // a second job of the same run: one mark
  const [file] = readdirSync(dir);
  assert.ok(file && isLockFile(file), file);
  assert.throws(() => lockFolder(dir, 'train --resume'), (err: unknown) =>
    err instanceof FolderInUseError && err.message.startsWith(`${dir}: run folder in use by pid ${process.pid} on host ${hostname()} (worker --queue redis://127.0.0.1:1, since `) &&
    err.message.endsWith('; a queue worker still runs jobs of this run: stop it, or attach to the run with train --resume --queue URL'));
  assert.ok(!existsSync(join(dir, LOCK_FILE)), 'the refused writer left no lock');
  const coordinator = lockFolder(dir, 'train --queue', { queueWorkers: 'allow' });
  assert.equal(writerWithoutWorkers(dir), undefined, 'workers may run beside their coordinator');
  coordinator.release();
  mark.release();
  assert.throws(() => lockFolder(dir, 'eval'), FolderInUseError, 'still marked while the other job runs');
  nested.release();
  assert.deepEqual(readdirSync(dir), []);
  // marks of a dead worker here are removed; another host's are never judged
  writeFileSync(join(dir, `${LOCK_FILE}.worker-here-1`), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'x', command: 'worker', nonce: 'n' }));
  lockFolder(dir, 'eval').release();
  assert.deepEqual(readdirSync(dir), []);
  const remote = join(dir, `${LOCK_FILE}.worker-elsewhere-1`);
  writeFileSync(remote, JSON.stringify({ pid: 1, host: 'elsewhere.example', startedAt: 'x', command: 'worker', nonce: 'n' }));
  assert.throws(() => lockFolder(dir, 'eval'), (err: unknown) => err instanceof FolderInUseError && err.message.includes(`on another host, it cannot be checked from here: if it is gone, remove ${remote}`));
}));

test('a queue worker sees a live writer that does not coordinate workers', () => withDir((dir) => {
  const train = lockFolder(dir, 'train --resume');
  assert.equal(writerWithoutWorkers(dir)?.command, 'train --resume');
  train.release();
  fakeLock(dir, { pid: deadPid(), host: hostname() });
  assert.equal(writerWithoutWorkers(dir), undefined, 'a dead writer is no writer');
}));
