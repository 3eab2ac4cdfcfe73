/**
 * The server's own threads (prediction workers, pool.ts; the body-parsing thread, parse-thread.ts):
 * how they are started, and their scheduling priority (Linux gives each thread its own nice value).
 * The server's request work (prediction workers, the body-parsing thread) can run `workerNice`
 * steps below the main thread, so the main thread (HTTP, /health) gets a core first when both want
 * one (docs/serve.md, "Threads"). Threads started from a lowered thread afterwards inherit its nice
 * value: the native addon's helper thread when the addon first runs a kernel there, and the libuv
 * threads when that thread is the first of the process to use them. Checked with
 * /proc/self/task/<tid>/stat (field 19).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** `.ts` when running from the sources (through tsx), `.js` in the compiled package (dist/). */
export const MODULE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * The code of the thread module `./<name>` for `new Worker`. From the sources, the thread
 * registers tsx first: workers do not inherit a loader registered in code (bin/hardy-mer.js does
 * that); compiled, it is plain JS.
 */
export function threadCode(name: string): { code: string | URL; eval: boolean } {
  const url = new URL(`./${name}${MODULE_EXT}`, import.meta.url);
  if (MODULE_EXT === '.js') return { code: url, eval: false };
  return { code: `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, eval: true };
}

/** This thread's id for the kernel (not Node's threadId), or undefined without /proc. */
function threadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

/** This thread's nice value (Linux), or undefined elsewhere. */
export function threadNice(): number | undefined {
  const tid = threadId();
  return tid === undefined ? undefined : getPriority(tid);
}

/** Lowers this thread's priority by `by` nice steps (at most to 19); elsewhere than Linux, nothing. */
export function lowerThreadPriority(by: number): void {
  const tid = threadId();
  if (by <= 0 || tid === undefined) return;
  setPriority(tid, Math.min(19, getPriority(tid) + by));
}
