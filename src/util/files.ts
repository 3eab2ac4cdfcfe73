/**
 * Reading files that untrusted input names (a corpus' pickles and `.npy` files, a `--config`, a
 * `--input`). Only regular files are read (a symlink to one is fine): a FIFO, a socket or a device
 * such as `/dev/zero` is refused with an error naming it, instead of blocking on open or being read
 * forever. The file is opened without blocking (O_NONBLOCK, so opening a FIFO cannot wait for a
 * writer) and checked again on the open descriptor (fstat), so swapping the path between the
 * check and the open does not help; and no read goes past the size the file had when it was opened.
 */
import { constants as bufferConstants } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { HardyError } from './errors.ts';

const code = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String((err as Error).message ?? err);

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** An open regular file: its descriptor and its size when opened. Close it with `close()`. */
export interface RegularFile {
  fd: number;
  size: number;
  path: string;
  /** Exactly `length` bytes at `position`; a file that shrank meanwhile is an error naming it. */
  read(position: number, length: number): Buffer;
  close(): void;
}

/**
 * Opens `path` for reading if it is (or links to) a regular file; `what` names it in errors
 * (e.g. `.npy file`). Throws HardyError `<path>: cannot read <what> (...)` otherwise.
 */
export function openRegularFile(path: string, what: string): RegularFile {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new HardyError(`${path}: cannot read ${what} (${code(err)})`);
  }
  if (!st.isFile()) throw new HardyError(`${path}: cannot read ${what}: it is ${kindOf(st)}, expected a regular file`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new HardyError(`${path}: cannot read ${what} (${code(err)})`);
  }
  const fst = fstatSync(fd);
  if (!fst.isFile()) {
    closeSync(fd);
    throw new HardyError(`${path}: cannot read ${what}: it is ${kindOf(fst)}, expected a regular file`);
  }
  const size = fst.size;
  return {
    fd,
    size,
    path,
    read(position: number, length: number): Buffer {
      if (position < 0 || length < 0 || position + length > size) {
        throw new HardyError(`${path}: ${what} is truncated (needs ${position + length} bytes, has ${size})`);
      }
      if (length > bufferConstants.MAX_LENGTH) throw new HardyError(`${path}: ${what} needs ${length} bytes in one piece, more than Node can hold (${bufferConstants.MAX_LENGTH})`);
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        let n: number;
        try {
          n = readSync(fd, buf, done, length - done, position + done);
        } catch (err) {
          throw new HardyError(`${path}: cannot read ${what} (${code(err)})`);
        }
        if (n === 0) throw new HardyError(`${path}: ${what} shrank while being read (has ${position + done} of ${position + length} bytes)`);
        done += n;
      }
      return buf;
    },
    close: () => closeSync(fd),
  };
}

/** The whole of a regular file (see `openRegularFile`), at most `maxBytes` of it (a larger file is refused). */
export function readRegularFile(path: string, what: string, maxBytes = Number.MAX_SAFE_INTEGER): Buffer {
  const f = openRegularFile(path, what);
  try {
    if (f.size > maxBytes) throw new HardyError(`${path}: ${what} of ${f.size} bytes is larger than the limit of ${maxBytes}`);
    return f.read(0, f.size);
  } finally {
    f.close();
  }
}

/** A regular file's text as UTF-8 (see `readRegularFile`). */
export function readRegularText(path: string, what: string, maxBytes?: number): string {
  return readRegularFile(path, what, maxBytes).toString('utf8');
}
