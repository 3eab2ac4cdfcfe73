/**
 * A safe pickle reader (protocols 0-5) that only ever builds data.
 *
 * Why hand-written: Python's own `pickle.load` runs arbitrary code (any global can be called with
 * any arguments), so a pickle from elsewhere must never reach it; and the JavaScript parsers we
 * tried silently turn protocol-2/3 sets into `{}`, throw on ints wider than 8 bytes, and do not
 * reliably refuse unknown globals. This reader is a plain stack machine over the opcodes: the only
 * "callables" it knows are a fixed list of data constructors (set, frozenset, bytearray,
 * `_codecs.encode`, and NumPy's array/dtype/scalar reconstructors, implemented here in TS); every
 * other global is refused with an error naming it and the file. Nothing is ever executed.
 *
 * Result types: dict -> Map, list and tuple -> Array, set/frozenset -> Set, str -> string,
 * bytes/bytearray -> Uint8Array (a copy), int -> number (bigint beyond 2^53), float -> number,
 * bool -> boolean, None -> null, NumPy array -> NdArray, NumPy scalar -> number | string | boolean.
 * Python 2 `str` (STRING/BINSTRING opcodes) is decoded as latin-1, as `encoding='latin1'` does.
 *
 * Hostile input is bounded: every length prefix is checked against the bytes that remain before
 * anything is allocated, text integers are length-limited (BigInt parsing is quadratic), the
 * machine never recurses, and everything built by copying an existing object (set(list),
 * bytearray(b), arrays decoded from memoized bytes, bytes as dict keys) is charged against a budget
 * proportional to the file size, since a few bytes of BINGET + REDUCE can copy a large object
 * again. So a crafted file cannot hang the reader or exhaust memory.
 */
import { excerpt, HardyError } from '../../util/errors.ts';
import { readRegularFile } from '../../util/files.ts';
import { decodeRaw, isNdArray, parseDtype, shapeSize, shapeText, type DtypeSpec, type NdArray } from './ndarray.ts';

/** A whitelisted global, pushed by GLOBAL/STACK_GLOBAL and applied by REDUCE. */
class PyCallable {
  constructor(readonly name: string, readonly fn: (args: unknown[], ctx: Ctx) => unknown) {}
}

/** `numpy.dtype(...)` before and after BUILD (its state carries the byte order). */
class PyDtype {
  constructor(public descr: string, public byteorder: string | undefined, public itemsize: number | undefined) {}
  spec(source: string): DtypeSpec {
    const d = parseDtype(this.descr, source, this.byteorder);
    // string dtypes pickled as 'U'/'S' without a size carry it in the state (elsize)
    if ((d.kind === 'U' || d.kind === 'S') && d.itemsize === 0 && this.itemsize !== undefined) d.itemsize = this.itemsize;
    return d;
  }
}

/** The empty array `_reconstruct` returns; BUILD (ndarray.__setstate__) fills it in. */
class PendingArray {
  array: NdArray | undefined;
}

const MARK = Symbol('mark');
const MAX_TEXT_INT = 4096; // digits in a text INT/LONG opcode
const MAX_LONG_BYTES = 1 << 16; // bytes in LONG1/LONG4 (a 524,288-bit integer)
/** Bytes that copies may build, per byte of file and in total besides (real data pickles use < 10x). */
const COPY_BUDGET_PER_BYTE = 32;
const COPY_BUDGET_SLACK = 1 << 24;

interface Ctx {
  source: string;
  /** Bytes that copying constructors may still allocate. */
  budget: number;
}

function fail(ctx: Ctx, msg: string): never {
  throw new HardyError(`${ctx.source}: ${msg}`);
}

/** Charges `bytes` of newly built data against the copy budget. */
function charge(ctx: Ctx, bytes: number): void {
  ctx.budget -= bytes;
  if (ctx.budget < 0) fail(ctx, 'pickle builds far more data than the file holds (the same object copied over and over); refusing it');
}

/**
 * decodeRaw, charged for its output (at most 8 bytes per element, plus the raw bytes for strings).
 * Data that does not match its shape is left to decodeRaw, which refuses it before allocating.
 */
function decodeCharged(raw: Uint8Array, spec: DtypeSpec, shape: number[], fortran: boolean, ctx: Ctx): NdArray {
  const count = shapeSize(shape, ctx.source);
  if (raw.length === count * spec.itemsize) charge(ctx, 8 * count + raw.length);
  return decodeRaw(raw, spec, shape, fortran, ctx.source);
}

function latin1Bytes(s: string, ctx: Ctx): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) fail(ctx, 'a latin-1 byte string holds a character above U+00FF');
    out[i] = c;
  }
  return out;
}

function asBytes(x: unknown, ctx: Ctx, what: string): Uint8Array {
  if (x instanceof Uint8Array) return x;
  if (typeof x === 'string') return latin1Bytes(x, ctx); // Python 2 str
  return fail(ctx, `${what}: expected bytes, found ${describe(x)}`);
}

function describe(x: unknown): string {
  if (x === null) return 'None';
  if (Array.isArray(x)) return 'a list/tuple';
  if (x instanceof Map) return 'a dict';
  if (x instanceof Set) return 'a set';
  if (x instanceof PyCallable) return `the global ${x.name}`;
  return typeof x;
}

function iterable(x: unknown, ctx: Ctx, what: string): unknown[] {
  if (Array.isArray(x)) return x;
  if (x instanceof Set) { charge(ctx, 8 * x.size); return [...x]; }
  if (isNdArray(x) && Array.isArray(x.data)) return x.data;
  return fail(ctx, `${what}: expected a list, found ${describe(x)}`);
}

function reconstruct(_args: unknown[]): PendingArray {
  return new PendingArray();
}

function makeDtype(args: unknown[], ctx: Ctx): PyDtype {
  const spec = args[0];
  if (typeof spec !== 'string') fail(ctx, `numpy.dtype: expected a type string, found ${describe(spec)}`);
  return new PyDtype(spec, undefined, undefined);
}

/** numpy scalar(dtype, bytes-or-object) -> a JS value. */
function makeScalar(args: unknown[], ctx: Ctx): unknown {
  const [dt, payload] = args;
  if (!(dt instanceof PyDtype)) return fail(ctx, 'numpy scalar: first argument is not a dtype');
  const spec = dt.spec(ctx.source);
  if (spec.kind === 'O') return payload;
  const raw = asBytes(payload, ctx, 'numpy scalar');
  const a = decodeCharged(raw, spec, [], false, ctx);
  const v = a.data[0];
  return spec.kind === 'b' ? v === 1 : v;
}

/** ndarray.__setstate__((version,) shape, dtype, is_fortran, rawdata | list). */
function setArrayState(pending: PendingArray, state: unknown, ctx: Ctx): void {
  if (!Array.isArray(state)) fail(ctx, 'numpy array state is not a tuple');
  const st = state.length === 5 ? state.slice(1) : state;
  if (st.length !== 4) fail(ctx, `numpy array state has ${state.length} fields, expected 4 or 5`);
  const [shapeRaw, dt, fortran, raw] = st;
  if (!Array.isArray(shapeRaw) || !shapeRaw.every((s) => typeof s === 'number')) fail(ctx, 'numpy array state: bad shape');
  if (!(dt instanceof PyDtype)) fail(ctx, 'numpy array state: bad dtype');
  const shape = shapeRaw as number[];
  const spec = (dt as PyDtype).spec(ctx.source);
  if (Array.isArray(raw) || spec.kind === 'O') {
    // object arrays (and some old pickles) store a list of elements
    const items = iterable(raw, ctx, 'numpy object array');
    const n = shapeSize(shape, ctx.source);
    charge(ctx, 8 * items.length);
    if (items.length !== n) fail(ctx, `numpy object array holds ${items.length} items for shape (${shapeText(shape)})`);
    let data: unknown[] | Float64Array = items;
    if (spec.kind !== 'O' && spec.kind !== 'U' && spec.kind !== 'S') {
      if (!items.every((x) => typeof x === 'number')) fail(ctx, 'numpy numeric array state holds non-numbers');
      data = Float64Array.from(items as number[]);
    }
    const arr: NdArray = { kind: 'ndarray', dtype: spec.kind === 'O' ? 'object' : 'float64', shape, data };
    pending.array = fortran === true && shape.length > 1 ? decodeObjectFortran(arr) : arr;
    return;
  }
  pending.array = decodeCharged(asBytes(raw, ctx, 'numpy array data'), spec, shape, fortran === true, ctx);
}

/** Reorders a list-backed array given in Fortran order. */
function decodeObjectFortran(a: NdArray): NdArray {
  const [rows, cols] = [a.shape[0]!, a.data.length / a.shape[0]!];
  if (a.shape.length !== 2) return a; // higher-rank object arrays in Fortran order do not occur in practice
  const src = a.data as unknown[];
  const out = new Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = src[c * rows + r];
  return { ...a, data: out };
}

/** numpy.core.numeric._frombuffer(buf, dtype, shape, order): protocol-5 arrays. */
function fromBuffer(args: unknown[], ctx: Ctx): NdArray {
  const [buf, dt, shape, order] = args;
  if (!(dt instanceof PyDtype)) return fail(ctx, '_frombuffer: second argument is not a dtype');
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number')) return fail(ctx, '_frombuffer: bad shape');
  return decodeCharged(asBytes(buf, ctx, '_frombuffer'), dt.spec(ctx.source), shape as number[], order === 'F', ctx);
}

function codecsEncode(args: unknown[], ctx: Ctx): Uint8Array {
  const [s, enc] = args;
  if (typeof s !== 'string') return fail(ctx, '_codecs.encode: expected a str');
  const e = typeof enc === 'string' ? enc.toLowerCase().replace(/[-_]/g, '') : 'utf8';
  charge(ctx, 3 * s.length);
  if (e === 'latin1' || e === 'iso88591') return latin1Bytes(s, ctx);
  if (e === 'utf8') return new TextEncoder().encode(s);
  return fail(ctx, `_codecs.encode: unsupported encoding '${excerpt(String(enc))}'`);
}

const makeSet = (args: unknown[], ctx: Ctx): Set<unknown> => {
  const items = args.length ? iterable(args[0], ctx, 'set') : [];
  charge(ctx, 16 * items.length);
  return new Set(items.map((x) => hashKey(x, ctx)));
};
const makeBytearray = (args: unknown[], ctx: Ctx): Uint8Array => {
  if (args.length === 0) return new Uint8Array(0);
  if (typeof args[0] === 'string') return codecsEncode(args, ctx);
  const b = asBytes(args[0], ctx, 'bytearray');
  charge(ctx, b.length);
  return b.slice();
};

/** The only globals a data pickle may name. NumPy 1 (`numpy.core`) and NumPy 2 (`numpy._core`) spellings. */
const SAFE_GLOBALS = new Map<string, (args: unknown[], ctx: Ctx) => unknown>();
for (const core of ['numpy.core', 'numpy._core']) {
  SAFE_GLOBALS.set(`${core}.multiarray._reconstruct`, reconstruct);
  SAFE_GLOBALS.set(`${core}.multiarray.scalar`, makeScalar);
  SAFE_GLOBALS.set(`${core}.numeric._frombuffer`, fromBuffer);
}
SAFE_GLOBALS.set('numpy.ndarray', (_args, ctx) => fail(ctx, 'numpy.ndarray is only valid as the first argument of _reconstruct'));
SAFE_GLOBALS.set('numpy.dtype', makeDtype);
SAFE_GLOBALS.set('_codecs.encode', codecsEncode);
for (const b of ['builtins', '__builtin__']) {
  SAFE_GLOBALS.set(`${b}.set`, makeSet);
  SAFE_GLOBALS.set(`${b}.frozenset`, makeSet);
  SAFE_GLOBALS.set(`${b}.bytearray`, makeBytearray);
  SAFE_GLOBALS.set(`${b}.bytes`, makeBytearray); // protocols 0-2 write b'' as bytes()
}

function lookupGlobal(module: string, name: string, ctx: Ctx): PyCallable {
  const full = `${module}.${name}`;
  const fn = SAFE_GLOBALS.get(full);
  if (!fn) fail(ctx, `pickle names the global '${excerpt(full, 200)}', which is not plain data; refusing to load it (allowed: dict/list/tuple/set/str/bytes/numbers and NumPy arrays/scalars)`);
  return new PyCallable(full, fn);
}

export function readPickle(path: string): unknown {
  return parsePickle(readRegularFile(path, 'pickle'), path);
}

export function parsePickle(bytes: Uint8Array, source: string): unknown {
  const ctx: Ctx = { source, budget: COPY_BUDGET_PER_BYTE * bytes.length + COPY_BUDGET_SLACK };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) fail(ctx, `truncated pickle (needs ${n} more bytes at offset ${pos})`);
  };
  const u8 = (): number => { need(1); return bytes[pos++]!; };
  const u16 = (): number => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const i32 = (): number => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(ctx, `length ${v} exceeds the file size`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => { need(n); const b = bytes.subarray(pos, pos + n); pos += n; return b; };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(ctx, 'truncated pickle (unterminated text line)');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail(ctx, 'invalid UTF-8 in a unicode string');
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail(ctx, 'corrupt pickle (stack underflow)');
    const v = stack.pop();
    if (v === MARK) fail(ctx, 'corrupt pickle (unexpected mark)');
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0) fail(ctx, 'corrupt pickle (stack underflow)');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) fail(ctx, 'corrupt pickle (no mark)');
    stack = prev;
    return items;
  };
  const intFromBytes = (b: Uint8Array): number | bigint => {
    // little-endian two's complement; via one hex string (linear, unlike repeated BigInt shifts)
    if (b.length === 0) return 0;
    let v = BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return narrow(v);
  };
  const narrow = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const textInt = (s: string): number | bigint | boolean => {
    const t = s.trim().replace(/L$/, '');
    if (t === '00') return false; // protocol 0 bools
    if (t === '01') return true;
    if (t.length > MAX_TEXT_INT || !/^[-+]?\d+$/.test(t)) fail(ctx, `bad integer literal in pickle`);
    return narrow(BigInt(t));
  };
  const quoted = (s: string): string => {
    // protocol 0 STRING: a Python repr; we accept the common quoting and escapes
    const q = s[0];
    if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) fail(ctx, 'bad STRING literal in pickle');
    return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[\\'"nrt0])/g, (_m, e: string) =>
      e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16)) : ({ n: '\n', r: '\r', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e);
  };
  const unicodeEscape = (s: string): string =>
    s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})|\\x([0-9a-fA-F]{2})|\\\\/g, (m, a?: string, b?: string, c?: string) =>
      a ? String.fromCharCode(parseInt(a, 16)) : b ? String.fromCodePoint(Math.min(parseInt(b, 16), 0x10ffff)) : c ? String.fromCharCode(parseInt(c, 16)) : m === '\\\\' ? '\\' : m);
  const setItems = (d: unknown, items: unknown[]): void => {
    if (!(d instanceof Map)) fail(ctx, `SETITEM on ${describe(d)}`);
    if (items.length % 2) fail(ctx, 'odd number of dict items');
    for (let i = 0; i < items.length; i += 2) (d as Map<unknown, unknown>).set(hashKey(items[i], ctx), items[i + 1]);
  };
  const addItems = (s: unknown, items: unknown[]): void => {
    if (!(s instanceof Set)) fail(ctx, `ADDITEMS on ${describe(s)}`);
    for (const x of items) (s as Set<unknown>).add(hashKey(x, ctx));
  };
  const append = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l)) fail(ctx, `APPEND on ${describe(l)}`);
    for (const x of items) (l as unknown[]).push(x);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(ctx, `corrupt pickle (memo ${i} not set)`);
    return memo.get(i);
  };
  const build = (obj: unknown, state: unknown): void => {
    if (obj instanceof PendingArray) return setArrayState(obj, state, ctx);
    if (obj instanceof PyDtype) {
      if (!Array.isArray(state) || state.length < 2) fail(ctx, 'numpy dtype state is not a tuple');
      const bo = state[1];
      if (typeof bo === 'string') obj.byteorder = bo;
      const el = state[5];
      if (typeof el === 'number' && el > 0) {
        if (!Number.isSafeInteger(el)) fail(ctx, `numpy dtype state gives the element size ${el}, expected a whole number of bytes`);
        obj.itemsize = el;
      }
      return;
    }
    fail(ctx, `BUILD on ${describe(obj)} (only NumPy arrays and dtypes take state)`);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyCallable)) return fail(ctx, `REDUCE on ${describe(fn)}, not an allowed global`);
    if (!Array.isArray(args)) return fail(ctx, `REDUCE arguments for ${fn.name} are not a tuple`);
    return fn.fn(args, ctx);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p > 5) fail(ctx, `unsupported pickle protocol ${p}`);
        break;
      }
      case 0x95: u64(); break; // FRAME: framing is only a read-ahead hint
      case 0x2e: { // STOP
        return resolve(pop(), ctx);
      }
      case 0x28: metastack.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x49: stack.push(textInt(line())); break; // INT
      case 0x4c: { const v = textInt(line()); stack.push(typeof v === 'boolean' ? Number(v) : v); break; } // LONG
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(intFromBytes(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0 || n > MAX_LONG_BYTES) fail(ctx, `LONG4 of ${n} bytes exceeds the ${MAX_LONG_BYTES}-byte limit`);
        stack.push(intFromBytes(take(n)));
        break;
      }
      case 0x46: { // FLOAT
        const s = line().trim();
        const v = Number(s);
        if (Number.isNaN(v) && !/^[-+]?nan$/i.test(s)) fail(ctx, `bad float literal '${excerpt(s, 20)}'`);
        stack.push(v);
        break;
      }
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x53: stack.push(quoted(line())); break; // STRING (py2 str, latin-1)
      case 0x54: { const n = i32(); if (n < 0) fail(ctx, 'negative BINSTRING length'); stack.push(latin1.decode(take(n))); break; }
      case 0x55: stack.push(latin1.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x56: stack.push(unicodeEscape(line())); break; // UNICODE (raw-unicode-escape)
      case 0x58: stack.push(str(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(str(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(str(take(u64()))); break; // BINUNICODE8
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x97: fail(ctx, 'pickle uses out-of-band buffers (NEXT_BUFFER), which a file cannot supply'); break;
      case 0x98: break; // READONLY_BUFFER: a no-op on in-band data
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      // (popMark swaps `stack`, so its result is taken before `stack.push` is looked up)
      case 0x6c: case 0x74: { const items = popMark(); stack.push(items); break; } // LIST / TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; }
      case 0x64: { const items = popMark(); const d = new Map(); setItems(d, items); stack.push(d); break; } // DICT
      case 0x91: { const items = popMark(); const s = new Set(); addItems(s, items); stack.push(s); break; } // FROZENSET
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x90: { const items = popMark(); addItems(top(), items); break; } // ADDITEMS
      case 0x67: stack.push(memoGet(Number(line()))); break; // GET
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(lookupGlobal(module, name, ctx));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail(ctx, 'STACK_GLOBAL needs two strings');
        stack.push(lookupGlobal(module as string, name as string, ctx));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x62: { const state = pop(); build(top(), state); break; } // BUILD
      case 0x81: case 0x92: { // NEWOBJ / NEWOBJ_EX: cls.__new__ -- never for plain data
        if (op === 0x92) pop();
        pop();
        const cls = pop();
        fail(ctx, `pickle creates an instance of ${describe(cls)} (NEWOBJ); only plain data is allowed`);
        break;
      }
      case 0x69: { // INST "module\nname\n": instantiates a class
        const module = line();
        const name = line();
        lookupGlobal(module, name, ctx);
        fail(ctx, `pickle instantiates ${excerpt(`${module}.${name}`, 200)} (INST); only plain data is allowed`);
        break;
      }
      case 0x6f: fail(ctx, 'pickle instantiates an object (OBJ); only plain data is allowed'); break;
      case 0x50: case 0x51: fail(ctx, 'pickle uses persistent ids, which need application code'); break;
      case 0x82: case 0x83: case 0x84: fail(ctx, 'pickle uses the extension registry (EXT), which names arbitrary globals'); break;
      default:
        fail(ctx, `unknown pickle opcode 0x${op.toString(16)} at offset ${pos - 1} (corrupt or not a pickle)`);
    }
  }
}

/** Replaces finished `_reconstruct` placeholders by their arrays, iteratively (no recursion). */
function resolve(root: unknown, ctx: Ctx): unknown {
  const seen = new Set<unknown>();
  const work: unknown[] = [root];
  const fix = (v: unknown): unknown => {
    if (!(v instanceof PendingArray)) return v;
    if (!v.array) fail(ctx, 'a NumPy array was reconstructed but never given its data (missing BUILD)');
    return v.array;
  };
  while (work.length) {
    const x = work.pop();
    if (typeof x !== 'object' || x === null || seen.has(x)) continue;
    seen.add(x);
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) { x[i] = fix(x[i]); work.push(x[i]); }
    } else if (x instanceof Map) {
      for (const [k, v] of x) { const f = fix(v); if (f !== v) x.set(k, f); work.push(f); }
    } else if (x instanceof Set) {
      for (const v of x) work.push(v);
    } else if (isNdArray(x) && Array.isArray(x.data)) {
      const d = x.data;
      for (let i = 0; i < d.length; i++) { d[i] = fix(d[i]); work.push(d[i]); }
    }
  }
  return fix(root);
}

/** Dict keys and set members: strings and numbers compare by value in a JS Map/Set, as in Python. */
function hashKey(k: unknown, ctx: Ctx): unknown {
  if (typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean' || k === null) return k;
  if (typeof k === 'bigint') return k;
  if (Array.isArray(k)) return k; // tuple keys keep identity semantics
  if (k instanceof Uint8Array) { charge(ctx, 2 * k.length); return latin1Decode(k); }
  return fail(ctx, `unhashable dict key or set member (${describe(k)})`);
}

function latin1Decode(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

export type { NdArray };
