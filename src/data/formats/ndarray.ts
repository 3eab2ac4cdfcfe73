/**
 * A NumPy array as plain JS data, shared by the `.npy` reader and the pickle reader (both carry
 * NumPy's dtype strings such as `<f4` and raw bytes in C or Fortran order).
 *
 * Numeric arrays come back as Float32Array (float32) or Float64Array (every other numeric dtype,
 * so int64 and float64 keep their values up to 2^53); string arrays as string[]; object arrays as
 * the unpickled values. Data is always in C (row-major) order.
 */
import { excerpt, HardyError } from '../../util/errors.ts';

export interface NdArray {
  readonly kind: 'ndarray';
  /** Canonical dtype: float32, float64, float16, int8..int64, uint8..uint64, bool, str, bytes, object. */
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array | unknown[];
}

/** A parsed dtype descriptor such as `<f4`, `|b1`, `>i8`, `<U5`. */
export interface DtypeSpec {
  kind: 'f' | 'i' | 'u' | 'b' | 'U' | 'S' | 'O';
  /** Bytes per element. */
  itemsize: number;
  littleEndian: boolean;
}

/** A shape for an error message; a file can declare thousands of dimensions. */
export function shapeText(shape: readonly unknown[]): string {
  const dims = shape.slice(0, 8).map((d) => excerpt(String(d), 24)).join(', ');
  return shape.length > 8 ? `${dims}, ... (${shape.length} dimensions)` : dims;
}

export function isNdArray(x: unknown): x is NdArray {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'ndarray';
}

/**
 * Parses a dtype string. `byteorder` overrides the one in the string (pickled dtypes carry it in
 * their state). Unsupported descriptors (structured, complex, datetime) are refused by name.
 */
export function parseDtype(descr: string, source: string, byteorder?: string): DtypeSpec {
  const m = /^([<>|=!]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (!m) throw new HardyError(`${source}: unsupported NumPy dtype '${excerpt(descr)}' (expected a numeric, string or object dtype)`);
  let order = byteorder ?? m[1] ?? '';
  const ch = m[2]!;
  let size = m[3] ? Number(m[3]) : NaN;
  const kinds: Record<string, DtypeSpec['kind']> = { f: 'f', d: 'f', e: 'f', i: 'i', u: 'u', b: 'i', B: 'u', h: 'i', H: 'u', l: 'i', L: 'u', q: 'i', Q: 'u', '?': 'b', U: 'U', S: 'S', a: 'S', O: 'O' };
  let kind = kinds[ch];
  // single-character codes: b/B are int8/uint8 only when no size follows ('b1' is bool)
  if (ch === 'b' && m[3] === '1') kind = 'b';
  const charSizes: Record<string, number> = { d: 8, e: 2, b: 1, B: 1, h: 2, H: 2, l: 8, L: 8, q: 8, Q: 8, O: 8 };
  if (!m[3] && charSizes[ch] !== undefined) size = charSizes[ch]!;
  if (kind === 'b' || ch === '?') { kind = 'b'; size = 1; }
  if (kind === 'O') size = 8;
  if (!kind || !Number.isFinite(size) || size < 0) throw new HardyError(`${source}: unsupported NumPy dtype '${excerpt(descr)}'`);
  if (kind === 'U') size *= 4; // 'U5' counts characters (UTF-32)
  if (kind === 'f' && ![2, 4, 8].includes(size)) throw new HardyError(`${source}: unsupported float size in dtype '${excerpt(descr)}'`);
  if ((kind === 'i' || kind === 'u') && ![1, 2, 4, 8].includes(size)) throw new HardyError(`${source}: unsupported integer size in dtype '${excerpt(descr)}'`);
  if (order === '=' || order === '|' || order === '') order = '<'; // native = little on every platform we run on
  return { kind, itemsize: size, littleEndian: order !== '>' };
}

export function dtypeName(d: DtypeSpec): string {
  switch (d.kind) {
    case 'f': return `float${d.itemsize * 8}`;
    case 'i': return `int${d.itemsize * 8}`;
    case 'u': return `uint${d.itemsize * 8}`;
    case 'b': return 'bool';
    case 'U': return 'str';
    case 'S': return 'bytes';
    case 'O': return 'object';
  }
}

export function shapeSize(shape: readonly number[], source: string): number {
  let n = 1;
  for (const s of shape) {
    if (!Number.isSafeInteger(s) || s < 0) throw new HardyError(`${source}: invalid array shape (${shapeText(shape)})`);
    n *= s;
    if (!Number.isSafeInteger(n)) throw new HardyError(`${source}: array shape (${shapeText(shape)}) is too large`);
  }
  return n;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Decodes `count` elements of raw bytes into C-order data. The caller has already checked that
 * `bytes` holds exactly count * itemsize bytes, so nothing here allocates more than the input.
 */
export function decodeRaw(bytes: Uint8Array, d: DtypeSpec, shape: number[], fortran: boolean, source: string): NdArray {
  if (d.kind === 'O') throw new HardyError(`${source}: object arrays cannot be read from raw bytes`);
  const count = shapeSize(shape, source);
  // zero-size elements would let a tiny file claim a huge array
  if (d.itemsize === 0 && count > 0) throw new HardyError(`${source}: array of ${count} zero-size elements`);
  if (bytes.length !== count * d.itemsize) {
    throw new HardyError(`${source}: array data holds ${bytes.length} bytes, expected ${count * d.itemsize} for shape (${shapeText(shape)}) of ${dtypeName(d)} (truncated or corrupt)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = d.littleEndian;
  let data: Float32Array | Float64Array | unknown[];
  if (d.kind === 'f' && d.itemsize === 4) {
    if (le && bytes.byteOffset % 4 === 0) data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    else {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, le);
    }
  } else if (d.kind === 'U' || d.kind === 'S') {
    const out: string[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const off = i * d.itemsize;
      let s = '';
      if (d.kind === 'U') {
        for (let j = 0; j < d.itemsize; j += 4) {
          const cp = view.getUint32(off + j, le);
          if (cp === 0) break;
          if (cp > 0x10ffff) throw new HardyError(`${source}: invalid character in a NumPy string array`);
          s += String.fromCodePoint(cp);
        }
      } else {
        for (let j = 0; j < d.itemsize; j++) {
          const b = bytes[off + j]!;
          if (b === 0) break;
          s += String.fromCharCode(b);
        }
      }
      out[i] = s;
    }
    data = out;
  } else {
    const out = new Float64Array(count);
    const sz = d.itemsize;
    for (let i = 0; i < count; i++) {
      const o = i * sz;
      switch (d.kind) {
        case 'f': out[i] = sz === 8 ? view.getFloat64(o, le) : halfToFloat(view.getUint16(o, le)); break;
        case 'b': out[i] = bytes[o]! ? 1 : 0; break;
        case 'i': out[i] = sz === 1 ? view.getInt8(o) : sz === 2 ? view.getInt16(o, le) : sz === 4 ? view.getInt32(o, le) : Number(view.getBigInt64(o, le)); break;
        case 'u': out[i] = sz === 1 ? bytes[o]! : sz === 2 ? view.getUint16(o, le) : sz === 4 ? view.getUint32(o, le) : Number(view.getBigUint64(o, le)); break;
      }
    }
    data = out;
  }
  const arr: NdArray = { kind: 'ndarray', dtype: dtypeName(d), shape: [...shape], data };
  return fortran && shape.length > 1 ? toCOrder(arr) : arr;
}

/** Reorders data stored in Fortran (column-major) order into C order. */
function toCOrder(a: NdArray): NdArray {
  const shape = a.shape;
  const n = shape.length;
  const src = a.data;
  const dst: Float32Array | Float64Array | unknown[] =
    src instanceof Float32Array ? new Float32Array(src.length) : src instanceof Float64Array ? new Float64Array(src.length) : new Array(src.length);
  // Fortran strides: stride[0] = 1, stride[k] = stride[k-1] * shape[k-1]
  const fstride: number[] = new Array(n);
  let s = 1;
  for (let k = 0; k < n; k++) { fstride[k] = s; s *= shape[k]!; }
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < src.length; c++) {
    let f = 0;
    for (let k = 0; k < n; k++) f += idx[k]! * fstride[k]!;
    (dst as { [i: number]: unknown })[c] = src[f];
    for (let k = n - 1; k >= 0; k--) {
      idx[k] += 1;
      if (idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return { ...a, data: dst };
}

/** Numeric data as Float32Array (copy unless already float32). */
export function toFloat32(a: NdArray, source: string): Float32Array {
  if (a.data instanceof Float32Array) return a.data;
  if (a.data instanceof Float64Array) return Float32Array.from(a.data);
  throw new HardyError(`${source}: expected a numeric array, found dtype ${a.dtype}`);
}
