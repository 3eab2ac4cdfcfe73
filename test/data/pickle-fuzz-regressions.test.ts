// Regressions for pickle-reader bugs found while fuzzing and reviewing it for issue 8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePickle } from '../../src/data/formats/pickle.ts';
import { HardyError } from '../../src/util/errors.ts';

/** Pickle bytes from text pieces (each char one byte) and numbers (one byte each). */
function pk(...parts: (string | number | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}
const f64be = (x: number): Uint8Array => { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, x); return b; };
const u32le = (x: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, x, true); return b; };

const hardy = (source: string, pattern: RegExp) => (e: unknown): boolean =>
  e instanceof HardyError && e.message.startsWith(source) && pattern.test(e.message);

/** `_reconstruct(ndarray, (0,), b'b')` then BUILD with (1, shape, dtype('U0') with `elsize`, False, raw). */
function stringArrayWithElsize(elsize: Uint8Array, shape: number, raw: Uint8Array): Uint8Array {
  return pk('\x80\x02', 'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 'K\x00\x85', 'C\x01b', '\x87R',
    '(K\x01', 'K', shape, '\x85',
    'cnumpy\ndtype\n', 'X', u32le(2), 'U0', '\x85R', // dtype('U0')
    '(K\x03X', u32le(1), '<NNN', elsize, 'K\x04K\x08tb', // .__setstate__((3, '<', None, None, None, elsize, 4, 8))
    '\x89B', u32le(raw.length), raw, 'tb.');
}

test('a NumPy dtype whose pickled element size is not a whole number is refused (was a RangeError)', () => {
  // elsize 2.5 bytes: 2 elements "fit" 5 bytes, and decoding read past the end of the data
  const bad = stringArrayWithElsize(pk('G', f64be(2.5)), 2, new Uint8Array(5));
  assert.throws(() => parsePickle(bad, 'elsize.pkl'), hardy('elsize.pkl', /element size/));
  // a whole element size still works: 2 strings of one UTF-32 character each
  const good = stringArrayWithElsize(pk('K\x04'), 2, pk('a\0\0\0b\0\0\0'));
  const v = parsePickle(good, 'ok.pkl') as { data: unknown[] };
  assert.deepEqual(v.data, ['a', 'b']);
});

test('a pickle that copies one list thousands of times is refused instead of exhausting memory', () => {
  // l = [1] * n (memo 0); then [set(l), set(l), ...] k times: ~6 bytes of file per n-element copy
  const n = 20000;
  const k = 4000;
  const items = new Array<string>(n).fill('K\x01').join('');
  const sets = new Array<string>(k).fill('h\x01h\x00\x85R').join('');
  const bytes = pk('\x80\x02]q\x00(', items, 'e', 'cbuiltins\nset\nq\x01', '](', sets, 'e.');
  const t0 = performance.now();
  assert.throws(() => parsePickle(bytes, 'bomb.pkl'), hardy('bomb.pkl', /far more data than the file holds/));
  assert.ok(performance.now() - t0 < 2000, 'refused quickly');
  // the same construction with a handful of copies is ordinary data and loads
  const few = pk('\x80\x02]q\x00(', items, 'e', 'cbuiltins\nset\nq\x01', '](', new Array<string>(3).fill('h\x01h\x00\x85R').join(''), 'e.');
  const v = parsePickle(few, 'few.pkl') as Set<unknown>[];
  assert.deepEqual(v, [new Set([1]), new Set([1]), new Set([1])]);
});

test('bytes used as dict keys over and over are charged against the same budget', () => {
  // b = bytes of 60 kB (memo 0); then k dicts {b: None}: each key is a 60 kB string built from the bytes
  const big = new Uint8Array(60000).fill(0x61);
  const k = 20000;
  const dicts = new Array<string>(k).fill('}h\x00Ns').join('');
  const bytes = pk('\x80\x03B', u32le(big.length), big, 'q\x00](', dicts, 'e.');
  const t0 = performance.now();
  assert.throws(() => parsePickle(bytes, 'keys.pkl'), hardy('keys.pkl', /far more data than the file holds/));
  assert.ok(performance.now() - t0 < 2000, 'refused quickly');
});

test('a refused global with a huge or binary name gives a short, printable message (was 19,000 characters)', () => {
  const name = 'set' + '\x01\x02'.repeat(20000);
  const bytes = pk('\x80\x02cbuiltins\n', name, '\n)R.');
  assert.throws(() => parsePickle(bytes, 'name.pkl'), (e: unknown) =>
    e instanceof HardyError && e.message.startsWith("name.pkl: pickle names the global 'builtins.set\\x01\\x02") && e.message.length < 500 && !/[\x00-\x1f]/.test(e.message));
});

test('a NumPy array state declaring far more elements than its data holds is refused before allocating', () => {
  const before = process.memoryUsage().arrayBuffers;
  for (const [shape, dtype] of [[pk('\x8a\x06\x00\x00\x00\x00\x00\x01'), 'f8'], [pk('J\xff\xff\xff\x7f'), 'U8'], [pk('\x8a\x07\x00\x00\x00\x00\x00\x00\x04'), 'b1']] as const) {
    const bytes = pk('\x80\x02', 'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 'K\x00\x85', 'C\x01b', '\x87R',
      '(K\x01', shape, '\x85', 'cnumpy\ndtype\n', 'X', u32le(dtype.length), dtype, '\x85R', '\x89C\x08', '12345678', 'tb.');
    assert.throws(() => parsePickle(bytes, 'huge.pkl'), hardy('huge.pkl', /array data holds 8 bytes, expected|array shape .* is too large/));
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
});
