/**
 * Every function the native addon exports checks its arguments: a wrong count, a wrong type, a
 * value out of its range or an operand outside the heap is a JS TypeError or RangeError naming the
 * function and the argument, never a crash or a write outside the operands; and a call that
 * fails leaves its output untouched. Calls with valid arguments give the documented values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon } from '../../src/engine/native-addon.ts';

// HARDY_MER_REQUIRE_NATIVE=1 (CI with OpenBLAS installed) turns a missing addon into a failure.
const load = loadAddon();
const skip = load.addon || process.env.HARDY_MER_REQUIRE_NATIVE === '1' ? false : `native addon not built (${load.error})`;
const addon = load.addon!;

const heap = (n = 64): Float32Array => new Float32Array(n).map((_, i) => (i % 7) - 3);
const hyper = (): Float32Array => Float32Array.of(1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001);
const layout = (): [Int32Array, Int32Array] => [Int32Array.of(0, 2), Int32Array.of(0, 2 * 2 * 2)];

/** Valid arguments of each exported function, small enough to run on a 64-float heap. */
const valid: Record<string, () => unknown[]> = {
  matmul: () => [heap(), Uint32Array.of(0), Uint32Array.of(8), 40, 2, 2, 2, false, false],
  gelu: () => [heap(), 0, 32, 8],
  geluGrad: () => [heap(), 0, 8, 32, 8],
  dropout: () => [heap(), 0, 32, 8, 0.5, 7],
  sumAxes: () => [heap(), 0, 32, 2, 3, 4],
  adam: () => [heap(), Uint32Array.of(0, 4, 8, 12, 16, 20, 24), 4, hyper()],
  attention: () => [heap(), 0, 4, 8, 12, 14, 18, ...layout(), 2, 2, 0.7],
  attentionGrad: () => [heap(), 0, 4, 8, 12, 16, 24, 28, 32, ...layout(), 2, 2, 0.7],
  knn: () => [new Float32Array(12).fill(1), null, new Float32Array(6).fill(1), 4, 2, 3, 2, new Float32Array(4), new Int32Array(4)],
  info: () => [],
  // the process' own count again: the other tests' kernels run as before
  setThreads: () => [addon.info().threads],
};

type Fn = (...args: unknown[]) => unknown;
const call = (name: string, args: unknown[]): unknown => (addon as unknown as Record<string, Fn>)[name]!(...args);

test('every exported function has its checks here', { skip }, () => {
  assert.deepEqual(Object.keys(addon).sort(), Object.keys(valid).sort());
});

test('valid arguments are accepted', { skip }, () => {
  for (const [name, args] of Object.entries(valid)) assert.doesNotThrow(() => call(name, args()), name);
});

test('a wrong argument count is a TypeError naming the function and the count', { skip }, () => {
  for (const [name, args] of Object.entries(valid)) {
    const a = args();
    assert.throws(() => call(name, [...a, 0]), (e: Error) => e instanceof TypeError && e.message.startsWith(`${name}(`) && e.message.includes(`expected ${a.length} arguments, got ${a.length + 1}`), name);
    if (a.length) assert.throws(() => call(name, a.slice(0, -1)), TypeError, name);
  }
});

test('an argument of the wrong type is a TypeError naming it', { skip }, () => {
  for (const [name, args] of Object.entries(valid)) {
    const a = args();
    for (let i = 0; i < a.length; i++) {
      // A string is wrong for every parameter; so is a Float64Array (no kernel reads doubles).
      for (const bad of ['1', new Float64Array(a.length)]) {
        const b = [...a];
        b[i] = bad;
        assert.throws(() => call(name, b), (e: Error) => e instanceof TypeError && e.message.includes(`${name}: argument ${i + 1} (`), `${name} argument ${i + 1}`);
      }
    }
  }
});

test('negative, fractional and non-finite numbers are refused', { skip }, () => {
  assert.throws(() => addon.gelu(heap(), -1, 32, 8), /gelu: argument 2 \(x\) must be a non-negative integer/);
  assert.throws(() => addon.gelu(heap(), 0.5, 32, 8), /gelu: argument 2 \(x\) must be a non-negative integer/);
  assert.throws(() => addon.matmul(heap(), Uint32Array.of(0), Uint32Array.of(8), 40, -2, 2, 2, false, false), /matmul: argument 5 \(M\)/);
  assert.throws(() => addon.dropout(heap(), 0, 32, 8, Number.NaN, 7), /dropout: argument 5 \(rate\) must be a finite number/);
  assert.throws(() => addon.dropout(heap(), 0, 32, 8, 1, 7), (e: Error) => e instanceof RangeError && /rate must be in \[0, 1\)/.test(e.message));
  assert.throws(() => addon.dropout(heap(), 0, 32, 8, 0.5, 2 ** 32), /seed must be a 32-bit unsigned integer/);
  assert.throws(() => addon.knn(new Float32Array(12), null, new Float32Array(6), 4, 2, 3, 0, new Float32Array(4), new Int32Array(4)), /knn: argument 7 \(kk\)/);
});

test('an operand outside the heap is a RangeError naming it, and nothing is written', { skip }, () => {
  const h = heap();
  const before = h.slice();
  assert.throws(() => addon.gelu(h, 0, 60, 8), (e: Error) => e instanceof RangeError && /gelu: out \[60, \+8\) lies outside the heap of 64 floats/.test(e.message));
  assert.throws(() => addon.geluGrad(h, 0, 2 ** 52, 32, 8), /geluGrad: dy .* outside the heap/);
  assert.throws(() => addon.sumAxes(h, 0, 32, 4, 5, 4), /sumAxes: x .* outside the heap/);
  assert.throws(() => addon.matmul(h, Uint32Array.of(0, 61), Uint32Array.of(8, 8), 40, 2, 2, 2, false, false), /matmul: an A operand/);
  assert.throws(() => addon.matmul(h, Uint32Array.of(0), Uint32Array.of(8, 8), 40, 2, 2, 2, false, false), /aOffsets and bOffsets differ in length/);
  assert.throws(() => addon.adam(h, Uint32Array.of(0, 4, 8, 12, 16, 20, 62), 4, hyper()), /adam: vOut .* outside the heap/);
  assert.throws(() => addon.attention(h, 0, 4, 8, 12, 14, 60, ...layout(), 2, 2, 0.7), /attention: p .* outside the heap/);
  assert.deepEqual(h, before);
});

test('malformed structures are RangeErrors: Adam slots and hyper-parameters, attention layout, kNN sizes', { skip }, () => {
  assert.throws(() => addon.adam(heap(), Uint32Array.of(0, 4, 8), 4, hyper()), /adam: slots must hold 7 offsets/);
  assert.throws(() => addon.adam(heap(), Uint32Array.of(0, 4, 8, 12, 16, 20, 24), 4, hyper().subarray(1)), /adam: hyper must hold 7 values/);
  assert.throws(() => addon.attention(heap(), 0, 4, 8, 12, 14, 18, Int32Array.of(0, 2), Int32Array.of(0, 8), 3, 2, 0.7), /D must be a multiple of H/);
  assert.throws(() => addon.attention(heap(), 0, 4, 8, 12, 14, 18, Int32Array.of(0, 2), Int32Array.of(0), 2, 2, 0.7), /starts and pStarts must both hold B \+ 1 values/);
  assert.throws(() => addon.attention(heap(), 0, 4, 8, 12, 14, 18, Int32Array.of(0, 2), Int32Array.of(0, 6), 2, 2, 0.7), /pStarts by H n\^2/);
  assert.throws(() => addon.attention(heap(), 0, 4, 8, 12, 14, 18, Int32Array.of(1, 2), Int32Array.of(0, 2), 2, 2, 0.7), /starts must ascend from 0/);
  assert.throws(() => addon.knn(new Float32Array(12), null, new Float32Array(6), 4, 2, 3, 5, new Float32Array(10), new Int32Array(10)), /kk is larger than n/);
  assert.throws(() => addon.knn(new Float32Array(11), null, new Float32Array(6), 4, 2, 3, 2, new Float32Array(4), new Int32Array(4)), /db holds fewer than n \* dim floats/);
  assert.throws(() => addon.knn(new Float32Array(12), new Float32Array(3), new Float32Array(6), 4, 2, 3, 2, new Float32Array(4), new Int32Array(4)), /dbSq holds fewer than n floats/);
  assert.throws(() => addon.knn(new Float32Array(12), null, new Float32Array(6), 4, 2, 3, 2, new Float32Array(4), new Int32Array(3)), /outVals or outIdx/);
});

test('the checked calls compute: GELU at 0 and 1, a 2x2 product, Adam from zero moments, kNN ranks', { skip }, () => {
  const h = new Float32Array(64);
  h.set([0, 1, -1]);
  addon.gelu(h, 0, 32, 3);
  assert.deepEqual([...h.subarray(32, 35)].map((x) => +x.toFixed(5)), [0, 0.84134, -0.15866]);

  h.set([1, 2, 3, 4], 0);
  h.set([5, 6, 7, 8], 8);
  addon.matmul(h, Uint32Array.of(0), Uint32Array.of(8), 40, 2, 2, 2, false, false);
  assert.deepEqual([...h.subarray(40, 44)], [19, 22, 43, 50]);

  // w = 1, g = 2, m = v = 0, lr 0.1, b1 0.9, b2 0.999, eps 0, step 1 (bc1 0.1, bc2 0.001): m = 0.2,
  // v = 0.004, w = 1 - (0.1 / 0.1) * 0.2 / sqrt(0.004 / 0.001) = 1 - 0.2 / 2 = 0.9.
  const a = new Float32Array(28);
  a.fill(1, 0, 4).fill(2, 4, 8);
  addon.adam(a, Uint32Array.of(0, 4, 8, 12, 16, 20, 24), 4, Float32Array.of(0.1, 0.9, 0.999, 0, 0, 0.1, 0.001));
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(a[16 + i]! - 0.9) < 1e-6, `w ${a[16 + i]}`);
    assert.ok(Math.abs(a[20 + i]! - 0.2) < 1e-6 && Math.abs(a[24 + i]! - 0.004) < 1e-6);
  }

  // Inner products of (1, 1) with rows (0, 0), (3, 0), (1, 1), (0, 2): 0, 3, 2, 2 -> top-3 rows 1, 2, 3.
  const vals = new Float32Array(3);
  const idx = new Int32Array(3);
  addon.knn(Float32Array.of(0, 0, 3, 0, 1, 1, 0, 2), null, Float32Array.of(1, 1), 4, 1, 2, 3, vals, idx);
  assert.deepEqual([...idx], [1, 2, 3]);
  assert.deepEqual([...vals], [3, 2, 2]);
});

test('setThreads takes a thread count in [1, 1024], and info() reports it', { skip }, () => {
  const before = addon.info().threads;
  assert.throws(() => addon.setThreads(0), (e: Error) => e instanceof TypeError && /setThreads: argument 1 \(n\) must be an integer in \[1, 1024\]/.test(e.message));
  try {
    addon.setThreads(1);
    assert.equal(addon.info().threads, 1);
  } finally {
    addon.setThreads(before);
  }
  assert.equal(addon.info().threads, before);
});
