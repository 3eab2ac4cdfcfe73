import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readPickle, parsePickle } from '../../src/data/formats/pickle.ts';
import { encodePickle, NpFloat64, PyTuple } from '../../src/data/formats/pickle-writer.ts';
import { isNdArray } from '../../src/data/formats/ndarray.ts';
import { HardyError } from '../../src/util/errors.ts';

const DIR = 'fixtures/data/pickles';
const expected = JSON.parse(readFileSync(join(DIR, 'basic_expected.json'), 'utf8')) as Record<string, unknown>;

/** Pickled values in the JSON form the fixture script writes. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Array.from(v);
  if (v instanceof Set) return [...v].map(plain).sort();
  if (Array.isArray(v)) return v.map(plain);
  if (isNdArray(v)) return { shape: v.shape, data: Array.from(v.data as ArrayLike<unknown>).map(plain), dtype: v.dtype };
  return v;
}

const files = readdirSync(DIR).filter((f) => f.startsWith('basic_') && f.endsWith('.pkl')).sort();

test('fixtures exist for NumPy 1 and NumPy 2 and protocols 0-5', () => {
  for (const f of ['basic_p0_np1.pkl', 'basic_p2_np1.pkl', 'basic_p4_np1.pkl', 'basic_p2_np2.pkl', 'basic_p3_np2.pkl', 'basic_p4_np2.pkl', 'basic_p5_np2.pkl']) {
    assert.ok(files.includes(f), f);
  }
});

for (const f of files) {
  test(`${f} loads to the values Python pickled`, () => {
    const v = readPickle(join(DIR, f));
    assert.ok(v instanceof Map);
    const m = v as Map<unknown, unknown>;
    for (const [k, exp] of Object.entries(expected)) assert.deepEqual(plain(m.get(k)), exp, `${f}: ${k}`);
    assert.equal(m.get(3), 'int key');
    assert.deepEqual(plain(m.get('nested')), new Map([['k', [new Map([['x', 1]])]]]) && plain(m.get('nested')));
    assert.equal(((m.get('nested') as Map<string, unknown>).get('k') as Array<Map<string, number>>)[0]!.get('x'), 1);
    const arr = m.get('arr_f32');
    assert.ok(isNdArray(arr) && arr.data instanceof Float32Array);
  });
}

test('Python 2 strings (SHORT_BINSTRING/BINSTRING/STRING) decode as latin-1', () => {
  const v = readPickle(join(DIR, 'py2_strings.pkl'));
  assert.deepEqual(v, ['café', 'abc', 'x\ny', true, 12345678901234567890n]);
});

test('writer output (protocols 2 and 4) round-trips, keeping sets, big ints and NumPy float64 scalars', () => {
  const value = new Map<string, any>([
    ['s', new Set(['a', 'b'])],
    ['big', 2n ** 80n + 3n],
    ['neg', -(2n ** 70n)],
    ['t', new PyTuple([1, 'x'])],
    ['f', [new NpFloat64(-1.5), 2.25, -7, 300, 70000]],
    ['b', Uint8Array.from([0, 200, 255])],
  ]);
  for (const p of [2, 4] as const) {
    const back = parsePickle(encodePickle(value, p), 'mem') as Map<string, unknown>;
    assert.deepEqual(back.get('s'), new Set(['a', 'b']));
    assert.equal(back.get('big'), 2n ** 80n + 3n);
    assert.equal(back.get('neg'), -(2n ** 70n));
    assert.deepEqual(back.get('t'), [1, 'x']);
    assert.deepEqual(back.get('f'), [-1.5, 2.25, -7, 300, 70000]);
    assert.deepEqual(back.get('b'), Uint8Array.from([0, 200, 255]));
  }
});

for (const [file, global] of [
  ['os_system.pkl', 'posix.system'],
  ['os_system_p4.pkl', 'posix.system'],
  ['os_system_p0.pkl', 'os.system'],
  ['eval_p0.pkl', 'builtins.eval'],
  ['ordered_dict.pkl', 'collections.OrderedDict'],
] as const) {
  test(`${file}: the global ${global} is refused by name, nothing runs`, () => {
    const path = join('fixtures/data/bad', file);
    assert.throws(
      () => readPickle(path),
      (e: unknown) => e instanceof HardyError && e.message.includes(path) && e.message.includes(`'${global}'`) && /not plain data/.test(e.message),
    );
  });
}

test('a truncated pickle is a HardyError naming the file', () => {
  const path = 'fixtures/data/bad/truncated.pkl';
  assert.throws(() => readPickle(path), (e: unknown) => e instanceof HardyError && e.message.startsWith(path) && /truncated/.test(e.message));
});

test('hostile length prefixes and integers are refused without allocating', () => {
  const huge = new Uint8Array([0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x2e]); // BINUNICODE8 of 2^60 bytes
  assert.throws(() => parsePickle(huge, 'h.pkl'), /h\.pkl: length \d+ exceeds the file size/);
  const long4 = new Uint8Array([0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0x7f, 0x2e]); // LONG4 of 2^31-1 bytes
  assert.throws(() => parsePickle(long4, 'l.pkl'), /l\.pkl: LONG4/);
  const bigText = new TextEncoder().encode(`L${'9'.repeat(100000)}L\n.`);
  assert.throws(() => parsePickle(bigText, 't.pkl'), /t\.pkl: bad integer literal/);
  const binbytes = new Uint8Array([0x80, 3, 0x42, 0xff, 0xff, 0xff, 0xff, 0x2e]); // BINBYTES of 4 GiB
  assert.throws(() => parsePickle(binbytes, 'b.pkl'), /b\.pkl: truncated pickle/);
});

test('object-building opcodes are refused', () => {
  // EMPTY_TUPLE then NEWOBJ on a non-global, and EXT1
  assert.throws(() => parsePickle(new Uint8Array([0x80, 2, 0x4e, 0x29, 0x81, 0x2e]), 'n.pkl'), /n\.pkl: .*NEWOBJ/);
  assert.throws(() => parsePickle(new Uint8Array([0x80, 2, 0x82, 1, 0x2e]), 'e.pkl'), /e\.pkl: .*extension registry/);
  assert.throws(() => parsePickle(new Uint8Array([0x80, 2, 0xff]), 'u.pkl'), /u\.pkl: unknown pickle opcode/);
});

test('a self-referencing list loads without hanging', () => {
  // ] q0 h0 a .  -> l = []; l.append(l)
  const v = parsePickle(new Uint8Array([0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e]), 'cyc') as unknown[];
  assert.equal(v[0], v);
});

test('LONG4 integers up to the limit decode in linear time, with sign', () => {
  const n = 60000;
  const bytes = new Uint8Array(3 + 4 + n + 1);
  bytes.set([0x80, 2, 0x8b]);
  new DataView(bytes.buffer).setInt32(3, n, true);
  bytes.fill(0xff, 7, 7 + n); // -1 in two's complement
  bytes[7 + n] = 0x2e;
  const t0 = performance.now();
  assert.equal(parsePickle(bytes, 'big'), -1);
  bytes[7] = 0xfe; // -2
  assert.equal(parsePickle(bytes, 'big'), -2);
  assert.ok(performance.now() - t0 < 500);
});
