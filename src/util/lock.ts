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
 *
 * Queue workers (src/run/queue.ts) write a run folder while its coordinator holds the lock, so they
 * cannot take it; each marks the folder instead while it runs jobs there (`markWorker`: the file
 * `<dir>/.hardy-mer.lock.worker-<host>-<pid>`). A worker's mark keeps every other writer out (a
 * `train --resume` without the queue, `eval`, `report`: `lockFolder` refuses while a live or
 * uncheckable mark is there), except the coordinator, which takes the lock with `queueWorkers:
 * 'allow'` and says so in the lock file; a worker in turn runs no job while the lock is held by a
 * writer that does not allow workers (`writerWithoutWorkers`). Each side writes its own file first
 * and then reads the other's, so of a worker and a writer that start together at least one sees
 * the other.
 */
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HardyError } from './errors.ts';

/** The lock file's name inside the locked folder. */
export const LOCK_FILE = '.hardy-mer.lock';

/** Whether a folder entry belongs to the lock (the lock itself, a stale copy being removed, a worker's mark): never run data. */
export function isLockFile(name: string): boolean {
  return name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`);
}

const WORKER_MARK = `${LOCK_FILE}.worker-`;

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
  /** The holder is a queue coordinator: the folder's queue workers write for it. */
  queueWorkers?: boolean;
}

export interface LockOptions {
  /** 'allow': the caller coordinates the folder's queue workers, whose marks are then not other writers. */
  queueWorkers?: 'allow';
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
export function lockFolder(dir: string, command: string, options: LockOptions = {}): FolderLock {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new HardyError(`${dir}: run folder not found`);
  const path = join(dir, LOCK_FILE);
  const owner: LockOwner = { ...ownerRecord(command), ...(options.queueWorkers === 'allow' ? { queueWorkers: true } : {}) };
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
    if (options.queueWorkers !== 'allow') {
      const worker = liveWorkerMark(dir);
      if (worker) {
        release();
        const detail = worker.owner.host === owner.host
          ? '; a queue worker still runs jobs of this run: stop it, or attach to the run with train --resume --queue URL'
          : `; a queue worker on another host, it cannot be checked from here: if it is gone, remove ${worker.path}`;
        throw new FolderInUseError(dir, worker.owner, detail);
      }
    }
    return { dir, owner, release };
  }
  throw new FolderInUseError(dir, parseOwner(readText(path) ?? ''), ' (it changed hands while we tried to take it)');
}

function ownerRecord(command: string): LockOwner {
  return { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command, procStart: procStart(process.pid), nonce: randomBytes(8).toString('hex') };
}

/** Whether an owner may still be running: alive on this host, or on another host (cannot be checked). */
const mayRun = (o: LockOwner): boolean => o.host !== hostname() || alive(o);

/** The first worker mark in `dir` whose worker may still run; marks of dead workers on this host are removed. */
function liveWorkerMark(dir: string): { owner: LockOwner; path: string } | undefined {
  for (const name of readdirSync(dir).filter((n) => n.startsWith(WORKER_MARK)).sort()) {
    const path = join(dir, name);
    const owner = parseOwner(readText(path) ?? '');
    if (!owner) continue; // being written (its worker checks the lock next) or removed meanwhile
    if (mayRun(owner)) return { owner, path };
    rmSync(path, { force: true }); // one file per worker process: nobody else writes it
  }
  return undefined;
}

/** Worker marks of this process, per folder: one file each, removed when the last job there ends. */
const marks = new Map<string, { count: number; path: string }>();

/**
 * Marks `dir` as written by this queue worker (`command` names it) until `release()`; calls nest
 * (one mark per folder, however many of its jobs run at once). Removed at exit as a fallback.
 */
export function markWorker(dir: string, command: string): { release(): void } {
  let mark = marks.get(dir);
  if (!mark) {
    const path = join(dir, `${WORKER_MARK}${hostname().replace(/[^\w.-]/g, '_')}-${process.pid}`);
    writeFileSync(path, JSON.stringify(ownerRecord(command)) + '\n');
    marks.set(dir, (mark = { count: 0, path }));
  }
  mark.count++;
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      if (--mark!.count === 0) {
        marks.delete(dir);
        rmSync(mark!.path, { force: true });
      }
    },
  };
}
process.on('exit', () => {
  for (const m of marks.values()) rmSync(m.path, { force: true });
});

/**
 * The holder of `dir`'s lock when it may be running and does not coordinate queue workers (a
 * `train` without the queue, `eval`, `report`): a queue worker must not write beside it.
 */
export function writerWithoutWorkers(dir: string): LockOwner | undefined {
  const o = lockOwner(dir);
  return o && !o.queueWorkers && mayRun(o) ? o : undefined;
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
