import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, parseNpy, encodeNpyF32 } from '../../src/data/formats/npy.ts';
import { HardyError } from '../../src/util/errors.ts';

const DIR = 'fixtures/data/npy';
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, { shape: number[]; data: number[] }>;

test('every NumPy-written .npy fixture reads to the values NumPy holds (C order)', () => {
  const names = readdirSync(DIR).filter((f) => f.endsWith('.npy'));
  assert.equal(names.length, Object.keys(expected).length);
  for (const [name, exp] of Object.entries(expected)) {
    const a = readNpy(join(DIR, `${name}.npy`));
    assert.deepEqual(a.shape, exp.shape, name);
    assert.deepEqual(Array.from(a.data as ArrayLike<number>), exp.data, name);
  }
});

test('dtypes: float32 stays Float32Array, others become Float64Array', () => {
  assert.ok(readNpy(join(DIR, 'f32_1d.npy')).data instanceof Float32Array);
  assert.ok(readNpy(join(DIR, 'f32_big_endian.npy')).data instanceof Float32Array);
  const i = readNpy(join(DIR, 'i64_2d.npy'));
  assert.equal(i.dtype, 'int64');
  assert.equal((i.data as Float64Array)[3], 2 ** 40);
});

test('writer round-trips and pads the header to 64 bytes like NumPy', () => {
  const x = Float32Array.from([1, -2, 3.5, 4, 5, 6]);
  const bytes = encodeNpyF32(x, [2, 3]);
  assert.equal((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64, 0);
  const a = parseNpy(bytes, 'mem');
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual(Array.from(a.data as Float32Array), Array.from(x));
});

for (const [file, pattern] of [
  ['truncated.npy', /truncated \.npy data/],
  ['truncated_header.npy', /truncated \.npy header/],
  ['bad_header.npy', /bad \.npy header|truncated/],
  ['not_npy.npy', /not a \.npy file/],
] as const) {
  test(`bad input ${file} gives one HardyError naming the file`, () => {
    const path = join('fixtures/data/bad', file);
    assert.throws(() => readNpy(path), (e: unknown) => e instanceof HardyError && e.message.includes(path) && pattern.test(e.message));
  });
}

test('a header claiming a huge shape is refused before allocating', () => {
  const ok = encodeNpyF32(new Float32Array(2), [2]);
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 1000000), }`.padEnd(118) + '\n';
  const bytes = new Uint8Array(10 + header.length + 8);
  bytes.set(ok.subarray(0, 8));
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  assert.throws(() => parseNpy(bytes, 'huge.npy'), /huge\.npy: (truncated|array shape)/);
});

test('a missing file is a HardyError naming it', () => {
  assert.throws(() => readNpy('fixtures/data/npy/nope.npy'), (e: unknown) => e instanceof HardyError && /nope\.npy: cannot read/.test(e.message));
});
