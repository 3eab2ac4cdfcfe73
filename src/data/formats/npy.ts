/**
 * `.npy` reader and writer (format versions 1.0, 2.0, 3.0). Hand-written: the format is a magic
 * string, a Python-dict header and raw bytes, and the available library does not reorder
 * Fortran-order arrays. Every length is checked against the file before anything is allocated.
 */
import { writeFileSync } from 'node:fs';
import { openRegularFile } from '../../util/files.ts';
import { excerpt, HardyError } from '../../util/errors.ts';
import { decodeRaw, parseDtype, shapeSize, shapeText, type DtypeSpec, type NdArray } from './ndarray.ts';
import { parsePyLiteral } from './pyliteral.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Reads a `.npy` file: only a regular file (never a FIFO or a device), and only the bytes its
 * header accounts for (magic, header, then the data the shape and dtype declare; trailing bytes
 * are never read).
 */
export function readNpy(path: string): NdArray {
  const f = openRegularFile(path, '.npy file');
  try {
    const prefix = f.read(0, Math.min(f.size, 12));
    const { start, headerLen } = npyPreamble(prefix, path, f.size);
    const header = parseNpyHeader(f.read(start, headerLen), prefix[6]!, path);
    const dataStart = start + headerLen;
    if (f.size - dataStart < header.need) throw truncated(path, f.size - dataStart, header);
    return decodeRaw(f.read(dataStart, header.need), header.dtype, header.shape, header.fortran, path);
  } finally {
    f.close();
  }
}

interface NpyHeader { dtype: DtypeSpec; descr: string; shape: number[]; fortran: boolean; need: number }

/** Magic and header length from the first (up to) 12 bytes; `size` is the whole file's. */
function npyPreamble(bytes: Uint8Array, source: string, size: number): { start: number; headerLen: number } {
  if (size < 10 || bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new HardyError(`${source}: not a .npy file (missing the \\x93NUMPY magic; truncated or wrong format)`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (size < 12 || bytes.length < 12) throw new HardyError(`${source}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new HardyError(`${source}: unsupported .npy format version ${major}.${bytes[7]}`);
  }
  if (start + headerLen > size) throw new HardyError(`${source}: truncated .npy header (needs ${headerLen} bytes)`);
  return { start, headerLen };
}

function parseNpyHeader(headerBytes: Uint8Array, major: number, source: string): NpyHeader {
  const header = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : Buffer.from(headerBytes).toString('latin1');
  let dict: unknown;
  try {
    dict = parsePyLiteral(header);
  } catch (err) {
    throw new HardyError(`${source}: bad .npy header (${(err as Error).message})`);
  }
  if (!(dict instanceof Map)) throw new HardyError(`${source}: bad .npy header (not a dict)`);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw new HardyError(`${source}: .npy header has no simple 'descr' (structured arrays are not supported)`);
  if (typeof fortran !== 'boolean') throw new HardyError(`${source}: .npy header has no boolean 'fortran_order'`);
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number')) throw new HardyError(`${source}: .npy header has no integer 'shape' tuple`);
  const dtype = parseDtype(descr, source);
  if (dtype.kind === 'O') throw new HardyError(`${source}: object arrays in .npy need pickle and are refused`);
  const count = shapeSize(shape as number[], source);
  return { dtype, descr, shape: shape as number[], fortran, need: count * dtype.itemsize };
}

const truncated = (source: string, have: number, h: NpyHeader): HardyError =>
  new HardyError(`${source}: truncated .npy data: ${have} bytes for shape (${shapeText(h.shape)}) ${excerpt(h.descr)}, expected ${h.need}`);

export function parseNpy(bytes: Uint8Array, source: string): NdArray {
  const { start, headerLen } = npyPreamble(bytes, source, bytes.length);
  const h = parseNpyHeader(bytes.subarray(start, start + headerLen), bytes[6]!, source);
  const dataStart = start + headerLen;
  if (bytes.length - dataStart < h.need) throw truncated(source, bytes.length - dataStart, h);
  return decodeRaw(bytes.subarray(dataStart, dataStart + h.need), h.dtype, h.shape, h.fortran, source);
}

/** Encodes a little-endian float32 C-order `.npy` (version 1.0, header padded to 64 bytes as NumPy does). */
export function encodeNpyF32(data: Float32Array, shape: number[]): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export function writeNpyF32(path: string, data: Float32Array, shape: number[]): void {
  writeFileSync(path, encodeNpyF32(data, shape));
}
