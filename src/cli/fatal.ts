/**
 * The CLI's last line of defence: whatever escapes a command becomes one line on stderr and an
 * exit code, never a stack trace (nor, through the WebAssembly glue's own handler, a 36 KB line
 * of minified code). Exit codes, documented in the README:
 *
 *   0   success
 *   1   an error the user can act on: bad input, config or corpus (HardyError), a run folder in
 *       use, or the system refusing a file operation (disk full, read-only file system,
 *       permission denied: the line names the path and the code)
 *   2   usage error (unknown flag or command, missing argument)
 *   70  an unexpected internal error (a bug): the line names a log file holding the stack
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { excerpt, HardyError, printable } from '../util/errors.ts';

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

/** System error codes that describe the machine, not a bug: reported with their path, exit 1. */
const SYSTEM: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
};

/** Writes the details of an unexpected error to a fresh log file; returns its path, or why it could not. */
function writeLog(err: unknown, argv: readonly string[]): string {
  const path = join(tmpdir(), `hardy-mer-error-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
  const e = err as Error;
  const text = `hardy-mer ${argv.join(' ')}\n${new Date().toISOString()} node ${process.version} pid ${process.pid}\n\n${e?.stack ?? String(err)}\n`;
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o600 });
    return path;
  } catch (werr) {
    return `none: could not write ${path} (${(werr as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

/** The one line and exit code for an error that reached the top level. */
export function reportFatal(err: unknown, argv: readonly string[], write: (line: string) => void = (l) => process.stderr.write(l)): number {
  if (err instanceof HardyError) {
    write(`hardy-mer: ${printable(err.message)}\n`);
    return EXIT_ERROR;
  }
  const sys = err as NodeJS.ErrnoException;
  const what = typeof sys?.code === 'string' ? SYSTEM[sys.code] : undefined;
  if (what) {
    const where = sys.path ? `${sys.syscall ? `${sys.syscall} ` : ''}${sys.path}` : (sys.syscall ?? 'a file operation');
    write(`hardy-mer: ${printable(where)}: ${what} (${sys.code}); nothing half-written is kept, fix it and re-run (train: --resume)\n`);
    return EXIT_ERROR;
  }
  const first = excerpt(String((err as Error)?.message ?? err).split('\n')[0] ?? '', 200);
  write(`hardy-mer: internal error: ${(err as Error)?.name ?? 'Error'}: ${first} (details: ${writeLog(err, argv)})\n`);
  return EXIT_INTERNAL;
}

/**
 * Errors thrown outside the awaited command (a timer, a stream callback) end the process the same
 * way. Installed before any engine is loaded so it runs before the WebAssembly glue's handler.
 */
export function installFatalHandler(argv: readonly string[]): void {
  const die = (err: unknown): void => {
    process.exit(reportFatal(err, argv));
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}
