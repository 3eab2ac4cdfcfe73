/**
 * An exclusive lock on a folder, for every process that writes a run folder (train, train
 * --resume, eval writing eval.json, report writing report.html; later the parallel and
 * distributed runners): a second writer gets "run folder in use by pid N on host H" instead of
 * interleaving its files with the first one's.
 *
 *   const lock = lockFolder(dir, 'train');   // throws FolderInUseError if another process holds it
 *   try { ... write into dir ... } finally { lock.release(); }
 *   // or: await withFolderLock(dir, 'eval', async () => { ... });
 *
 * The lock is the file `<dir>/.hardy-mer.lock`, created with O_EXCL ('wx'), so of two processes
 * racing for it exactly one succeeds, on a local or an NFSv3+ file system. It holds the owner's
 * pid, host name, start time and command, and the start time of the process as the kernel counts
 * it (Linux /proc), so a pid reused after a crash (common in containers, where every run is pid 1
 * or so) is not mistaken for the owner. A lock is stale, and taken over, when its host is this
 * host and its process is gone; a lock held from another host is never broken automatically (we
 * cannot see its processes): the message says which file to remove once that run is known dead.
 * A killed process (kill -9, a power cut) leaves the file behind; the next writer on the same
 * host takes it over. Release happens on `release()` and, as a fallback, when the process exits.
 *
 * Locks are per process, not re-entrant: a second `lockFolder` on the same folder in the same
 * process is refused like any other writer (two writers in one process race just the same).
 */
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HardyError } from './errors.ts';

/** The lock file's name inside the locked folder. */
export const LOCK_FILE = '.hardy-mer.lock';

/** Whether a folder entry belongs to the lock (the lock itself or a stale copy being removed): never run data. */
export function isLockFile(name: string): boolean {
  return name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.stale-`);
}

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** What holds it, e.g. `train`, `eval`. */
  command: string;
  /** The owner's start time in clock ticks since boot (Linux /proc/<pid>/stat field 22), when known. */
  procStart?: number;
  /** Random: tells this lock from a later one of the same pid. */
  nonce: string;
}

/** A second writer: names the owner. */
export class FolderInUseError extends HardyError {
  constructor(readonly dir: string, readonly owner: LockOwner | undefined, detail: string) {
    super(
      owner
        ? `${dir}: run folder in use by pid ${owner.pid} on host ${owner.host} (${owner.command}, since ${owner.startedAt})${detail}`
        : `${dir}: run folder in use (its lock ${join(dir, LOCK_FILE)} is being written by another process)${detail}`,
    );
    this.name = 'FolderInUseError';
  }
}

export interface FolderLock {
  readonly dir: string;
  readonly owner: LockOwner;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): void;
}

/** A lock file that is empty or unreadable this long after it was created was left by a process killed while writing it. */
const UNWRITTEN_STALE_MS = 10_000;

/** Linux: the process' start time in clock ticks since boot; undefined elsewhere or when it is gone. */
function procStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]); // field 22 overall
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the owner (on this host) is still running: its pid exists and, where /proc tells, started when the owner did. */
function alive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  if (owner.procStart === undefined) return true;
  const now = procStart(owner.pid);
  return now === undefined || now === owner.procStart;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(o.pid) && typeof o.host === 'string' && typeof o.nonce === 'string') return o as LockOwner;
  } catch {
    // empty or half-written: handled by the caller
  }
  return undefined;
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
};

/**
 * Moves a stale lock out of the way without ever removing a live one: rename it to a unique name
 * (atomic), and if what was renamed is not the stale lock we judged (another process replaced it
 * meanwhile), link it back (fails harmlessly if a third lock appeared).
 */
function removeStale(path: string, judged: string): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it first
    throw err;
  }
  if (readText(aside) !== judged) {
    try {
      linkSync(aside, path);
    } catch {
      // a newer lock is in place: it wins
    }
  }
  unlinkSync(aside);
}

/**
 * Takes the lock of the existing folder `dir` for `command`; throws FolderInUseError when a live
 * process holds it. Release it with `release()` (it is also released when the process exits).
 */
export function lockFolder(dir: string, command: string): FolderLock {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new HardyError(`${dir}: run folder not found`);
  const path = join(dir, LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command,
    procStart: procStart(process.pid),
    nonce: randomBytes(8).toString('hex'),
  };
  const text = JSON.stringify(owner) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = readText(path);
      if (held === undefined) continue; // released meanwhile: try again
      const other = parseOwner(held);
      if (!other) {
        let age = 0;
        try { age = Date.now() - statSync(path).mtimeMs; } catch { continue; }
        if (age < UNWRITTEN_STALE_MS) throw new FolderInUseError(dir, undefined, '');
      } else if (other.host !== owner.host) {
        throw new FolderInUseError(dir, other, `; it cannot be checked from here: if that run is gone, remove ${path}`);
      } else if (alive(other)) {
        throw new FolderInUseError(dir, other, '');
      }
      removeStale(path, held);
      continue;
    }
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      process.off('exit', release);
      // only our own lock: never one a later process took over after judging ours stale
      try {
        if (readText(path) === text) unlinkSync(path);
      } catch {
        // gone already, or the folder itself was removed
      }
    };
    process.on('exit', release);
    return { dir, owner, release };
  }
  throw new FolderInUseError(dir, parseOwner(readText(path) ?? ''), ' (it changed hands while we tried to take it)');
}

/** Runs `fn` holding the lock of `dir`; releases it however `fn` ends. */
export async function withFolderLock<T>(dir: string, command: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = lockFolder(dir, command);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** The current owner of `dir`'s lock, if any (for status displays). */
export function lockOwner(dir: string): LockOwner | undefined {
  return parseOwner(readText(join(dir, LOCK_FILE)) ?? '');
}
