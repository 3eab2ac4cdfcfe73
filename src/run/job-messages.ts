/** What a job process (job-process.ts) and its parent (pool.ts) say to each other. */
import { HardyError } from '../util/errors.ts';

export type ToJobProcess = { type: 'run'; runDir: string; id: string };

/** A failure as it crosses the process boundary: `user` = a HardyError (bad input; exit 1), else a bug (with its stack). */
export interface JobFailure {
  message: string;
  user: boolean;
  stack?: string;
}

export type FromJobProcess = { type: 'ready' } | { type: 'done'; id: string } | ({ type: 'failed'; id: string } & JobFailure);

export const failureOf = (err: unknown): JobFailure =>
  err instanceof HardyError ? { message: err.message, user: true } : { message: err instanceof Error ? err.message : String(err), user: false, stack: (err as Error)?.stack };

/** The error a failure report stands for, on this side of the boundary. */
export function errorOf(f: JobFailure, job: string): Error {
  if (f.user) return new HardyError(f.message);
  const e = new Error(`job ${job}: ${f.message}`);
  if (f.stack) e.stack = `job ${job}: ${f.stack}`;
  return e;
}
