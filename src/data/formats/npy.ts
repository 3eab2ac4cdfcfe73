/**
 * `.npy` reader and writer (format versions 1.0, 2.0, 3.0). Hand-written: the format is a magic
 * string, a Python-dict header and raw bytes, and the available library does not reorder
 * Fortran-order arrays. Every length is checked against the file before anything is allocated.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { excerpt, HardyError } from '../../util/errors.ts';
import { decodeRaw, parseDtype, shapeSize, shapeText, type NdArray } from './ndarray.ts';
import { parsePyLiteral } from './pyliteral.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function readNpy(path: string): NdArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new HardyError(`${path}: cannot read .npy file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseNpy(bytes, path);
}

export function parseNpy(bytes: Uint8Array, source: string): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
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
    if (bytes.length < 12) throw new HardyError(`${source}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new HardyError(`${source}: unsupported .npy format version ${major}.${bytes[7]}`);
  }
  if (start + headerLen > bytes.length) throw new HardyError(`${source}: truncated .npy header (needs ${headerLen} bytes)`);
  const headerBytes = bytes.subarray(start, start + headerLen);
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
  const dataStart = start + headerLen;
  const need = count * dtype.itemsize;
  const have = bytes.length - dataStart;
  if (have < need) throw new HardyError(`${source}: truncated .npy data: ${have} bytes for shape (${shapeText(shape)}) ${excerpt(descr)}, expected ${need}`);
  return decodeRaw(bytes.subarray(dataStart, dataStart + need), dtype, shape as number[], fortran, source);
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
