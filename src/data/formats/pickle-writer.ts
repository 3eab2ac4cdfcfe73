/**
 * A small pickle writer for the data the synthetic corpus and tests need: None, bool, int
 * (incl. bigint), float, str, bytes, list, tuple, dict, set and NumPy float64 scalars, in protocol
 * 2 (sets via `builtins.set`, as Python 3 writes them) or 4 (EMPTY_SET/ADDITEMS). The output is
 * what Python's pickle module writes for the same data, so Python and our reader both load it.
 */

/** Marks a JS array to be written as a Python tuple (plain arrays become lists). */
export class PyTuple {
  constructor(readonly items: PickleValue[]) {}
}
/** Forces a JS number to be written as a Python float even when it is integral. */
export class PyFloat {
  constructor(readonly value: number) {}
}
/** A NumPy float64 scalar (`numpy.float64(x)`), as CMU label pickles hold. */
export class NpFloat64 {
  constructor(readonly value: number) {}
}

/**
 * Opcodes written as they are, for tests of hostile structures the writer cannot express (shared
 * references through the memo, nesting deeper than a recursive writer goes). They must leave
 * exactly one value on the stack; the writer itself never uses the memo.
 */
export class PickleOps {
  constructor(readonly bytes: Uint8Array) {}
}

export type PickleValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PickleValue[] | PyTuple | PyFloat | NpFloat64 | PickleOps
  | Set<string | number> | Map<string | number, PickleValue>;

export function encodePickle(value: PickleValue, protocol: 2 | 4 = 2): Uint8Array {
  const chunks: number[] = [];
  const bytes = (b: ArrayLike<number>): void => { for (let i = 0; i < b.length; i++) chunks.push(b[i]!); };
  const u32 = (n: number): void => bytes([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255]);
  const op = (c: number): void => { chunks.push(c); };
  const text = (s: string): void => {
    const b = new TextEncoder().encode(s);
    if (protocol >= 4 && b.length < 256) { op(0x8c); op(b.length); } else { op(0x58); u32(b.length); }
    bytes(b);
  };
  const global = (module: string, name: string): void => {
    op(0x63);
    bytes(new TextEncoder().encode(`${module}\n${name}\n`));
  };
  const int = (n: number | bigint): void => {
    if (typeof n === 'number' && n >= 0 && n < 256) { op(0x4b); op(n); return; }
    if (typeof n === 'number' && n >= -(2 ** 31) && n < 2 ** 31) { op(0x4a); u32(n >>> 0); return; }
    // LONG1: little-endian two's complement
    let v = BigInt(n);
    const out: number[] = [];
    for (;;) {
      out.push(Number(v & 255n));
      v >>= 8n;
      const sign = out[out.length - 1]! & 0x80;
      if ((v === 0n && !sign) || (v === -1n && sign)) break;
    }
    op(0x8a); op(out.length); bytes(out);
  };
  const float = (x: number): void => {
    op(0x47);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    bytes(b);
  };
  /** Protocol 2 has no bytes opcode: Python 3 writes `_codecs.encode(latin-1 str, 'latin1')`. */
  const rawBytes = (b: Uint8Array): void => {
    if (protocol >= 4) { op(0x42); u32(b.length); bytes(b); return; }
    global('_codecs', 'encode');
    text(Buffer.from(b).toString('latin1'));
    text('latin1');
    op(0x86); op(0x52);
  };
  const write = (v: PickleValue): void => {
    if (v === null) op(0x4e);
    else if (v === true) op(0x88);
    else if (v === false) op(0x89);
    else if (typeof v === 'bigint') int(v);
    else if (typeof v === 'number') (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? int(v) : float(v));
    else if (typeof v === 'string') text(v);
    else if (v instanceof PyFloat) float(v.value);
    else if (v instanceof PickleOps) bytes(v.bytes);
    else if (v instanceof Uint8Array) rawBytes(v);
    else if (v instanceof NpFloat64) {
      // numpy.core.multiarray.scalar(dtype('f8') with state, raw little-endian bytes)
      global('numpy.core.multiarray', 'scalar');
      global('numpy', 'dtype');
      text('f8'); op(0x89); op(0x88); op(0x87); op(0x52);
      op(0x28); int(3); text('<'); op(0x4e); op(0x4e); op(0x4e); int(-1); int(-1); int(0); op(0x74); op(0x62);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v.value, true);
      rawBytes(b);
      op(0x86); op(0x52);
    } else if (v instanceof PyTuple) {
      op(0x28); for (const x of v.items) write(x); op(0x74);
    } else if (Array.isArray(v)) {
      op(0x5d);
      if (v.length) { op(0x28); for (const x of v) write(x); op(0x65); }
    } else if (v instanceof Set) {
      if (protocol >= 4) {
        op(0x8f);
        if (v.size) { op(0x28); for (const x of v) write(x); op(0x90); }
      } else {
        global('builtins', 'set');
        op(0x5d);
        if (v.size) { op(0x28); for (const x of v) write(x); op(0x65); }
        op(0x85); op(0x52);
      }
    } else if (v instanceof Map) {
      op(0x7d);
      if (v.size) { op(0x28); for (const [k, x] of v) { write(k); write(x); } op(0x75); }
    }
  };
  op(0x80); op(protocol);
  write(value);
  op(0x2e);
  return Uint8Array.from(chunks);
}
