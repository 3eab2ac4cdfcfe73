// The engine's copy-free replacements of wasm kernels (Identity, Cast, Slice, SplitV, Unpack, GatherV2, ScatterNd) against
// plain-JS references, including ranks the stock kernel special-cases, other dtypes and gradients.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../src/engine/backend.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomTensor } from '../support/random.ts';

before(async () => {
  await initEngine();
});

/** x[begin : begin + size] by index arithmetic on the flat values. */
function referenceSlice(values: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const total = size.reduce((p, d) => p * d, 1);
  for (let o = 0; o < total; o++) {
    let rem = o;
    let src = 0;
    let stride = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = rem % size[d]!;
      rem = Math.floor(rem / size[d]!);
      src += (begin[d]! + c) * stride;
      stride *= shape[d]!;
    }
    out.push(values[src]!);
  }
  return out;
}

test('slice matches the reference for ranks 1-5, contiguous or strided, float32/int32/bool', () => {
  const rng = new Rng(21);
  for (let rank = 1; rank <= 5; rank++) {
    for (let trial = 0; trial < 6; trial++) {
      tf.tidy(() => {
        const shape = Array.from({ length: rank }, () => 1 + rng.int(5));
        const begin = shape.map((d) => rng.int(d));
        const size = shape.map((d, i) => (trial === 0 ? -1 : 1 + rng.int(d - begin[i]!)));
        const full = size.map((s, i) => (s === -1 ? shape[i]! - begin[i]! : s));
        const x = randomTensor(shape, rng);
        for (const t of [x, tf.cast(tf.mul(x, 10), 'int32'), tf.greater(x, 0)]) {
          const got = tf.slice(t, begin, size);
          assert.deepEqual(got.shape, full);
          assert.equal(got.dtype, t.dtype);
          assert.deepEqual(Array.from(got.dataSync()), referenceSlice(t.dataSync(), shape, begin, full), `[${shape}] from [${begin}] size [${size}] ${t.dtype}`);
        }
      });
    }
  }
});

test('split: parts concatenate back to the input along any axis; gradients flow to the right parts', () => {
  tf.tidy(() => {
    const x = randomTensor([4, 6, 10], new Rng(22));
    for (const [sizes, axis] of [[[2, 3, 5], -1], [[1, 5], 1], [[3, -1], 0], [2, 2]] as const) {
      const parts = tf.split(x, sizes as number | number[], axis);
      assert.deepEqual(tf.concat(parts, axis).dataSync(), x.dataSync(), `split ${sizes} on ${axis}`);
    }
    const g = tf.grad((t: tf.Tensor) => {
      const [a, b] = tf.split(t, [4, 6], -1);
      return tf.add(tf.sum(tf.mul(a!, 2)), tf.sum(b!));
    })(x);
    const gv = g.arraySync() as number[][][];
    assert.ok(gv.flat().every((row) => row.every((v, i) => v === (i < 4 ? 2 : 1))));
  });
});

test('unstack: each part is the slice at i along any axis, for ranks 1-4 and every dtype; its gradient stacks', () => {
  const rng = new Rng(24);
  for (let rank = 1; rank <= 4; rank++) {
    tf.tidy(() => {
      const shape = Array.from({ length: rank }, () => 1 + rng.int(4));
      const x = randomTensor(shape, rng);
      for (const t of [x, tf.cast(tf.mul(x, 10), 'int32'), tf.greater(x, 0)]) {
        for (let axis = -rank; axis < rank; axis++) {
          const ax = axis < 0 ? axis + rank : axis;
          const parts = tf.unstack(t, axis);
          assert.equal(parts.length, shape[ax]);
          parts.forEach((p, i) => {
            const begin = shape.map((_, d) => (d === ax ? i : 0));
            const size = shape.map((n, d) => (d === ax ? 1 : n));
            assert.deepEqual(p.shape, shape.filter((_, d) => d !== ax));
            assert.equal(p.dtype, t.dtype);
            assert.deepEqual(Array.from(p.dataSync()), referenceSlice(t.dataSync(), shape, begin, size), `[${shape}] axis ${axis} part ${i} ${t.dtype}`);
          });
        }
      }
    });
  }
  tf.tidy(() => {
    const x = randomTensor([2, 3, 4], new Rng(25));
    // d/dx sum_i (i + 1) * sum(part_i) along axis 1 is i + 1 at every element of part i.
    const g = tf.grad((t: tf.Tensor) => tf.addN(tf.unstack(t, 1).map((p, i) => tf.mul(tf.sum(p), i + 1))) as tf.Scalar)(x);
    assert.ok((g.arraySync() as number[][][]).every((b) => b.every((row, i) => row.every((v) => v === i + 1))));
  });
});

test('gather: rows along axis 0 for any rank, repeats, index shapes and dtypes; other axes and bad indices', () => {
  tf.tidy(() => {
    const x = randomTensor([5, 3, 2], new Rng(23));
    const xv = x.arraySync() as number[][][];
    const idx = [4, 0, 0, 2];
    assert.deepEqual(tf.gather(x, idx).arraySync(), idx.map((i) => xv[i]));
    assert.deepEqual(tf.gather(x, tf.tensor2d([[1, 3], [3, 1]], [2, 2], 'int32')).arraySync(), [[xv[1], xv[3]], [xv[3], xv[1]]]);
    assert.deepEqual(tf.gather(tf.tensor1d([7, 8, 9], 'int32'), [2, 2, 0]).arraySync(), [9, 9, 7]);
    assert.deepEqual(tf.gather(tf.tensor1d([true, false]), [1, 0]).arraySync(), [0, 1]);
    assert.deepEqual(tf.gather(x, tf.tensor1d([], 'int32')).shape, [0, 3, 2]);
    // Other axes keep the stock kernel.
    assert.deepEqual(tf.gather(x, [1], 1).arraySync(), xv.map((a) => [a[1]]));
    assert.throws(() => tf.gather(x, [5]).dataSync(), /index 5 is not in \[0, 5\)/);
  });
});

test('scatterND: rows into zeros, repeated rows add up; other forms keep the stock kernel', () => {
  tf.tidy(() => {
    const upd = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(tf.scatterND(tf.tensor2d([[2], [0], [2]], [3, 1], 'int32'), upd, [4, 2]).arraySync(), [[3, 4], [0, 0], [6, 8], [0, 0]]);
    assert.deepEqual(tf.scatterND(tf.tensor2d([[1]], [1, 1], 'int32'), tf.tensor3d([[[1, 2], [3, 4]]]), [2, 2, 2]).arraySync(), [[[0, 0], [0, 0]], [[1, 2], [3, 4]]]);
    assert.deepEqual(tf.scatterND(tf.tensor2d([[0, 1]], [1, 2], 'int32'), tf.tensor1d([7]), [2, 2]).arraySync(), [[0, 7], [0, 0]]);
    assert.throws(() => tf.scatterND(tf.tensor2d([[4]], [1, 1], 'int32'), tf.tensor2d([[1, 1]]), [4, 2]).dataSync(), /index 4 is not in \[0, 4\)/);
  });
});

test('clone and same-dtype cast share storage safely: the copy outlives its source, no buffer leaks', () => {
  const buffers = tf.backend().numDataIds();
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const y = tf.clone(x);
  const z = tf.cast(x, 'float32');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(z.dataSync()), [1, 2, 3, 4]);
  y.dispose();
  assert.deepEqual(Array.from(z.dataSync()), [1, 2, 3, 4]);
  z.dispose();
  assert.equal(tf.backend().numDataIds(), buffers);
  tf.tidy(() => {
    assert.deepEqual(Array.from(tf.cast(tf.tensor1d([1.7, -2.2, 3]), 'int32').dataSync()), [1, -2, 3]);
    assert.deepEqual(Array.from(tf.cast(tf.tensor1d([true, false], 'bool'), 'float32').dataSync()), [1, 0]);
  });
});
