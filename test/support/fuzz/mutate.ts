/**
 * Mutations for the file-reader fuzzer: generic byte-level ones (bit flips, interesting bytes and
 * integers, truncation, chunk deletion/duplication/insertion/splicing) and format-aware ones that
 * edit the fields a hostile file would lie about (`.npy` shape/dtype/header length, pickle length
 * prefixes and opcodes, config numbers/keys/nesting/YAML aliases and tags).
 */
import { Rng } from '../../../src/util/rng.ts';
import { disassemble, OPCODES } from './pickle-ops.ts';

export type Format = 'npy' | 'pickle' | 'config';

/** One mutation: a new byte array from `b` (never modifies it); `corpus` is there for splicing. */
type Mutator = (b: Uint8Array, rng: Rng, corpus: readonly Uint8Array[]) => Uint8Array;

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x0a, 0x2e, 0x28];

/** Integers that break length checks: boundaries, sign bits, and sizes relative to the file. */
function interestingInts(fileLen: number): bigint[] {
  const n = BigInt(fileLen);
  return [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
    1n << 53n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, n - 1n, n, n + 1n, 2n * n, n << 20n];
}

function writeInt(b: Uint8Array, pos: number, width: 1 | 2 | 4 | 8, v: bigint, littleEndian = true): void {
  const mask = (1n << BigInt(8 * width)) - 1n;
  let x = v & mask;
  for (let i = 0; i < width && pos + i < b.length; i++) {
    b[littleEndian ? pos + i : pos + width - 1 - i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

const bitFlip: Mutator = (b, rng) => {
  const out = b.slice();
  if (!out.length) return out;
  for (let k = 1 + rng.int(8); k > 0; k--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
  return out;
};

const interestingByte: Mutator = (b, rng) => {
  const out = b.slice();
  if (!out.length) return out;
  for (let k = 1 + rng.int(4); k > 0; k--) out[rng.int(out.length)] = pick(rng, INTERESTING_BYTES);
  return out;
};

const interestingInt: Mutator = (b, rng) => {
  const out = b.slice();
  if (!out.length) return out;
  writeInt(out, rng.int(out.length), pick(rng, [1, 2, 4, 8] as const), pick(rng, interestingInts(b.length)), rng.next() < 0.8);
  return out;
};

const truncate: Mutator = (b, rng) => b.slice(0, rng.int(Math.max(1, b.length)));

function chunk(b: Uint8Array, rng: Rng): [number, number] {
  const start = rng.int(b.length + 1);
  const len = rng.int(Math.min(b.length - start, rng.next() < 0.8 ? 16 : 4096) + 1);
  return [start, start + len];
}

const deleteChunk: Mutator = (b, rng) => { const [s, e] = chunk(b, rng); return concat(b.subarray(0, s), b.subarray(e)); };

const duplicateChunk: Mutator = (b, rng) => {
  const [s, e] = chunk(b, rng);
  const at = rng.int(b.length + 1);
  const piece = b.subarray(s, e);
  const times = rng.next() < 0.9 ? 1 : 1 + rng.int(64);
  return concat(b.subarray(0, at), ...new Array<Uint8Array>(times).fill(piece), b.subarray(at));
};

const insertChunk: Mutator = (b, rng, corpus) => {
  const at = rng.int(b.length + 1);
  let piece: Uint8Array;
  if (rng.next() < 0.5) {
    piece = new Uint8Array(1 + rng.int(32));
    for (let i = 0; i < piece.length; i++) piece[i] = rng.next() < 0.5 ? pick(rng, INTERESTING_BYTES) : rng.int(256);
  } else {
    const other = pick(rng, corpus);
    const [s, e] = chunk(other, rng);
    piece = other.subarray(s, e);
  }
  return concat(b.subarray(0, at), piece, b.subarray(at));
};

/** Overwrites a chunk with a chunk from another valid file of the same format. */
const splice: Mutator = (b, rng, corpus) => {
  const other = pick(rng, corpus);
  const [s, e] = chunk(other, rng);
  const out = b.slice();
  const at = rng.int(out.length + 1);
  out.set(other.subarray(s, Math.min(e, s + out.length - at)), at);
  return out;
};

// ------------------------------------------------------------------ .npy header edits
const NPY_DESCRS = ["'<f4'", "'>f4'", "'<f8'", "'<f2'", "'|b1'", "'<i8'", "'>u2'", "'|u1'", "'<U1'", "'<U0'", "'<U100000000'", "'|S0'",
  "'|S9999999999'", "'|O'", "'<c8'", "'<M8[ns]'", "'<V8'", "'<f16'", "'<i3'", "'x'", "''", "[('a', '<f4')]", '3', 'None', "'<f4", "'<U2.5'"];
const NPY_SHAPES = ['()', '(0,)', '(1,)', '(8,)', '(-1,)', '(2.5,)', '(1099511627776,)', '(2147483648, 2147483648)', '(1000000, 1000000)',
  '(9007199254740993,)', '(1e400,)', "('a',)", '(True,)', '[8]', '8', `(${'2, '.repeat(60)})`, `(${'0, '.repeat(3)}1099511627776)`,
  '(67108864, 67108864, 67108864)', '(0, 9007199254740991)', `${'('.repeat(40)}1,${')'.repeat(40)}`];
const NPY_FORTRAN = ['True', 'False', '1', "'x'", 'None'];

const npyHeader: Mutator = (b, rng) => {
  const major = b[6];
  const start = major === 1 ? 10 : 12;
  if (b.length < start || (major !== 1 && major !== 2 && major !== 3)) return interestingInt(b, rng, []);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (start + hlen > b.length) return interestingInt(b, rng, []);
  const header = Buffer.from(b.subarray(start, start + hlen)).toString('latin1');
  const data = b.subarray(start + hlen);
  const choice = rng.int(5);
  let h = header;
  if (choice === 0) h = h.replace(/'descr':\s*[^,]*,/, `'descr': ${pick(rng, NPY_DESCRS)},`);
  else if (choice === 1) h = h.replace(/'shape':\s*\([^)]*\)/, `'shape': ${pick(rng, NPY_SHAPES)}`);
  else if (choice === 2) h = h.replace(/'fortran_order':\s*\w+/, `'fortran_order': ${pick(rng, NPY_FORTRAN)}`);
  else if (choice === 3) {
    // lie about the header length, keeping the bytes
    const out = b.slice();
    writeInt(out, 8, major === 1 ? 2 : 4, pick(rng, interestingInts(b.length)));
    return out;
  } else {
    // a data section of a different size than the shape says
    const cut = rng.int(data.length + 1);
    return concat(b.subarray(0, start + hlen), rng.next() < 0.5 ? data.subarray(0, cut) : concat(data, data.subarray(0, cut)));
  }
  const hb = ascii(h);
  const head = new Uint8Array(start);
  head.set(b.subarray(0, start));
  const fixLen = rng.next() < 0.9;
  writeInt(head, 8, major === 1 ? 2 : 4, BigInt(fixLen ? hb.length : hlen));
  return concat(head, hb, data);
};

// ------------------------------------------------------------------ pickle edits
/** Small opcode sequences, inserted at an opcode boundary to drive the machine into odd states. */
const PICKLE_SNIPPETS: Uint8Array[] = [
  '(', ')', ']', '}', '\x8f', '0', '1', '2', 'N', '\x88', 'a', 'e', 's', 'u', 't', 'l', 'd', 'R', 'b', '\x85', '\x86', '\x87',
  '\x94', 'h\x00', 'h\xff', 'q\x00', 'j\xff\xff\xff\xff', '\x93', '\x81', '.', 'K\x05', 'J\xff\xff\xff\xff', '\x90', '\x91',
  '\x8c\x0bnumpy.dtype\x8c\x02f8\x93', 'cnumpy\ndtype\n', 'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy.core.multiarray\nscalar\n',
  'cbuiltins\nset\n', 'cbuiltins\nbytearray\n', 'c_codecs\nencode\n', 'cnumpy._core.numeric\n_frombuffer\n',
  'X\x00\x00\x00\x00', 'B\x04\x00\x00\x00abcd', '\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\x7f', 'I99999999999999999999\n',
  'F1e400\n', 'Fnan\n', 'S\'\\x41\'\n', 'V\\u0041\\U0010ffff\n', 'g0\n', 'p0\n', 'G\x7f\xf8\x00\x00\x00\x00\x00\x00',
  '(K\x02K\x03t', '(X\x02\x00\x00\x00<f\x89K\x04t',
].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0)));

const u32le = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
/** Memo slots for the structural payloads, far above what the fixtures use. */
const MEMO_BASE = 1 << 20;

/**
 * Structural attacks (issue 15): opcodes that leave one value on the stack, small in bytes but
 * huge or deep as a structure, or unusual as a dict key:
 *   - `L = [L, L]` (or a tuple, or a dict) n times through the memo: 2^n nodes when walked;
 *   - a list nested n deep (stack overflow in any recursive consumer);
 *   - huge integers (LONG4 up to the reader's limit, text INT/LONG of thousands of digits);
 *   - a self-containing list; bytes, tuples, frozensets, None and floats as dict keys.
 */
function structuralValue(rng: Rng): number[] {
  const kind = rng.int(8);
  if (kind === 0 || kind === 1) {
    const depth = pick(rng, [8, 20, 30, 40, 64]);
    const close = kind === 0 ? 0x6c : pick(rng, [0x74, 0x86]); // LIST, or TUPLE / TUPLE2
    const b = [0x5d, 0x72, ...u32le(MEMO_BASE), 0x30];
    for (let i = 1; i <= depth; i++) {
      const get = [0x6a, ...u32le(MEMO_BASE + i - 1)];
      b.push(...(close === 0x86 ? [...get, ...get, 0x86] : [0x28, ...get, ...get, close]), 0x72, ...u32le(MEMO_BASE + i), 0x30);
    }
    b.push(0x6a, ...u32le(MEMO_BASE + depth));
    return b;
  }
  if (kind === 2) {
    const depth = pick(rng, [100, 10_000, 20_000]); // far past any recursive walker's stack (about 10,000 frames)
    return [...new Array<number>(depth).fill(0x5d), ...new Array<number>(depth - 1).fill(0x61)];
  }
  if (kind === 3) {
    const n = pick(rng, [9, 300, 65_536]);
    return [0x8b, ...u32le(n), ...Array.from({ length: n }, () => rng.int(256))];
  }
  if (kind === 4) return [...Uint8Array.from(`${pick(rng, ['I', 'L'])}-${'9'.repeat(pick(rng, [20, 1000, 4096]))}\n`, (c) => c.charCodeAt(0))];
  if (kind === 5) return [0x5d, 0x72, ...u32le(MEMO_BASE), 0x6a, ...u32le(MEMO_BASE), 0x61]; // L = []; L.append(L)
  // a dict whose key is bytes, a tuple DAG, a frozenset, None, a float or an int
  const key = pick(rng, [
    [0x43, 3, 0x1b, 0x5b, 0x41], // SHORT_BINBYTES b'\x1b[A'
    [0x28, 0x4b, 1, 0x4b, 2, 0x74], // (1, 2)
    [0x28, 0x4b, 1, 0x91], // frozenset({1})
    [0x4e], // None
    [0x47, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], // NaN
    [0x4a, 0xff, 0xff, 0xff, 0xff], // -1
  ]);
  return kind === 6 ? [0x7d, 0x28, ...key, 0x4b, 0, 0x75] : [0x7d, 0x28, ...structuralValue(rng), 0x4b, 0, 0x75];
}

/** Opcodes that push one plain scalar: replacing one by a structural value keeps the pickle well formed. */
const SCALAR_OPS = new Set([0x4b, 0x4d, 0x4a, 0x8a, 0x58, 0x8c, 0x55, 0x54, 0x43, 0x42, 0x47, 0x4e, 0x88, 0x89]);

/** Replaces a scalar (a label, an id, a speaker, a dict key...) by a structural attack value. */
const pickleStructure: Mutator = (b, rng) => {
  const scalars = disassemble(b).filter((o) => SCALAR_OPS.has(o.op));
  if (!scalars.length) return bitFlip(b, rng, []);
  const o = pick(rng, scalars);
  return concat(b.subarray(0, o.pos), Uint8Array.from(structuralValue(rng)), b.subarray(o.end));
};

const pickleEdit: Mutator = (b, rng, corpus) => {
  if (rng.next() < 0.3) return pickleStructure(b, rng, corpus);
  const ops = disassemble(b);
  if (!ops.length) return bitFlip(b, rng, []);
  const choice = rng.int(5);
  const out = b.slice();
  if (choice === 0) {
    // a length prefix or integer argument set to a lie (huge, negative, one off, the file size)
    const withArg = ops.filter((o) => o.kind !== 'none' && o.kind !== 'line' && o.kind !== 'line2');
    if (!withArg.length) return bitFlip(b, rng, []);
    const o = pick(rng, withArg);
    const width = o.kind === 'u1' || o.kind === 'len1' ? 1 : o.kind === 'u2' ? 2 : o.kind === 'u4' || o.kind === 'len4' ? 4 : 8;
    writeInt(out, o.arg, width, pick(rng, interestingInts(b.length)));
    return out;
  }
  const o = pick(rng, ops);
  if (choice === 1) { out[o.pos] = pick(rng, OPCODES); return out; } // another opcode, same argument bytes
  if (choice === 2) return concat(b.subarray(0, o.pos), pick(rng, PICKLE_SNIPPETS), b.subarray(o.pos)); // insert
  if (choice === 3) return concat(b.subarray(0, o.pos), b.subarray(o.end)); // drop one opcode
  const p = pick(rng, ops); // duplicate a run of opcodes
  const [s, e] = o.pos <= p.pos ? [o.pos, p.end] : [p.pos, o.end];
  return concat(b.subarray(0, e), b.subarray(s, e), b.subarray(e));
};

// ------------------------------------------------------------------ config text edits
const CONFIG_NUMBERS = ['1e309', '-1e309', '-1', '0', '-0', '4294967296', '9007199254740993', '1e-400', '0.5', 'NaN', '.nan', '.inf', '-.inf',
  '0x10', '0o17', '1_000', '"3"', 'null', 'true', '[]', '{}', '1' + '0'.repeat(400), '~'];
const CONFIG_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'seed', 'model', 'protocol', 'kind', '<<', '? complex'];
const CONFIG_STRINGS = ['fixed', 'random', 'val', 'test', 'shared', 'complement', 'hardness', 'own', 'a', 'atv', '', 'x'.repeat(10000)];
const YAML_PIECES = ['&a [1, 2]', '*a', '*undefined_alias', '!!binary aGVsbG8=', '!!set {a, b}', '!!omap [a: 1]', '!!js/function "f(){}"',
  '!!timestamp 2001-12-14', '!<tag:yaml.org,2002:str> x', '!!int "12"', '!!float "nan"', '%YAML 1.1\n---\n', '---\n', '...\n', '<<: *a',
  '? [a, b]\n: c', '|\n  text', '>-\n  folded', '"\\u0000"', "'it''s'", '{a: 1, a: 2}', '- - - -', '\t', '#', '@', '`'];

/** `a: &a [x,x,...]`, `b: &b [*a,*a,...]`, ... — a billion-laughs document if aliases were expanded. */
function aliasBomb(rng: Rng): string {
  const depth = 2 + rng.int(9);
  let s = 'l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < depth; i++) s += `l${i}: &l${i} [${new Array<string>(10).fill(`*l${i - 1}`).join(', ')}]\n`;
  return s;
}

const configEdit: Mutator = (b, rng) => {
  const text = Buffer.from(b).toString('utf8');
  const choice = rng.int(7);
  const at = rng.int(text.length + 1);
  let t: string;
  if (choice === 0) {
    const nums = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
    if (!nums.length) return bitFlip(b, rng, []);
    const m = pick(rng, nums);
    t = text.slice(0, m.index) + pick(rng, CONFIG_NUMBERS) + text.slice(m.index! + m[0].length);
  } else if (choice === 1) {
    const keys = [...text.matchAll(/"?([A-Za-z0-9_]+)"?\s*:/g)];
    if (!keys.length) return bitFlip(b, rng, []);
    const m = pick(rng, keys);
    const k = pick(rng, CONFIG_KEYS);
    t = text.slice(0, m.index) + (m[0].startsWith('"') ? JSON.stringify(k) : k) + ':' + text.slice(m.index! + m[0].length);
  } else if (choice === 2) {
    const strs = [...text.matchAll(/\b(fixed|random|val|test|shared|complement|hardness|fixed|query|own|atv|at|av|tv|a|t|v)\b/g)];
    if (!strs.length) return bitFlip(b, rng, []);
    const m = pick(rng, strs);
    t = text.slice(0, m.index) + pick(rng, CONFIG_STRINGS) + text.slice(m.index! + m[0].length);
  } else if (choice === 3) {
    // deep nesting: stack depth is the classic way to crash a recursive parser or validator
    const n = pick(rng, [10, 100, 1000, 10000, 100000]);
    const [o, c] = pick(rng, [['[', ']'], ['{"a":', '}'], ['- ', ''], ['{a: ', '}']]);
    t = text.slice(0, at) + o.repeat(n) + '1' + c.repeat(rng.next() < 0.8 ? n : rng.int(n)) + text.slice(at);
  } else if (choice === 4) {
    t = text.slice(0, at) + pick(rng, YAML_PIECES) + text.slice(at);
  } else if (choice === 5) {
    t = rng.next() < 0.5 ? aliasBomb(rng) + text : text.slice(0, at) + aliasBomb(rng) + text.slice(at);
  } else {
    // swap, duplicate or re-indent lines
    const lines = text.split('\n');
    const i = rng.int(lines.length);
    const j = rng.int(lines.length);
    const r = rng.int(3);
    if (r === 0) [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    else if (r === 1) lines.splice(j, 0, lines[i]!);
    else lines[i] = ' '.repeat(rng.int(9)) + lines[i]!.trimStart();
    t = lines.join('\n');
  }
  return new TextEncoder().encode(t);
};

const GENERIC: Mutator[] = [bitFlip, interestingByte, interestingInt, truncate, deleteChunk, duplicateChunk, insertChunk, splice];
const STRUCTURED: Record<Format, Mutator> = { npy: npyHeader, pickle: pickleEdit, config: configEdit };

/** 1-4 stacked mutations of `seed`; about 40% of them format-aware. */
export function mutate(format: Format, seed: Uint8Array, rng: Rng, corpus: readonly Uint8Array[]): Uint8Array {
  let b = seed;
  const n = rng.next() < 0.5 ? 1 : 1 + rng.int(4);
  for (let i = 0; i < n; i++) b = (rng.next() < 0.4 ? STRUCTURED[format] : pick(rng, GENERIC))(b, rng, corpus);
  return b;
}
