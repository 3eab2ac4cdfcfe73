// Results must not depend on how a run is executed (issue 14): a job process with a budget of one
// thread (--jobs 2 on two cores) and one with two (--jobs 1) must compute the same bits. OpenBLAS's
// threaded sgemm did not (0.3.21: an 800x256x256 product differed in 13,008 of 204,800 elements
// between 1 and 2 threads), so the addon runs it single-threaded and splits products itself, by
// their shape (native/common.h). Properties, each under setThreads(1) and setThreads(2):
// - every kernel that splits its work (products of every transposition, batched and with a row
//   count off the block grid, kNN, GELU, Sum, Adam, attention) gives byte-identical outputs;
// - a whole training step of a model big enough for the splits gives byte-identical weights;
// - the pure-wasm path runs one thread under Node whatever the budget (tfjs-backend-wasm loads its
//   threaded binary only in browsers), so its numbers cannot depend on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.ts';
import { loadAddon } from '../../src/engine/native-addon.ts';
import { trainingLoss } from '../../src/model/objective.ts';
import { Student } from '../../src/model/student.ts';
import { Adam } from '../../src/train/adam.ts';
import { stepOn } from '../../src/train/step.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomBatch, tinyConfig } from '../support/model-batch.ts';

const load = loadAddon();
const skip = load.addon || process.env.HARDY_MER_REQUIRE_NATIVE === '1' ? false : `native addon not built (${load.error})`;

function uniform(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.next() - 0.5);
}

/** f's result under a budget of 1 thread and of 2 (the process' own budget restored after). */
function underBoth<T>(f: () => T): [T, T] {
  const addon = load.addon!;
  const before = addon.info().threads;
  try {
    addon.setThreads(1);
    const one = f();
    addon.setThreads(2);
    return [one, f()];
  } finally {
    addon.setThreads(before);
  }
}

/** Byte equality with a count of differing elements in the message (assert.deepEqual treats -0 == 0). */
function sameBits(one: Float32Array | Int32Array, two: Float32Array | Int32Array, what: string): void {
  const a = new Uint32Array(one.buffer, one.byteOffset, one.length);
  const b = new Uint32Array(two.buffer, two.byteOffset, two.length);
  let differing = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
  assert.equal(differing, 0, `${what}: ${differing} of ${a.length} elements differ between 1 and 2 threads`);
}

test('every splitting kernel: byte-identical with 1 and 2 threads', { skip }, () => {
  const addon = load.addon!;
  // Products: 800 rows (the split's two blocks), 299 rows (an edge off the 48-row grid), each
  // transposition; a batch of two slices. Sizes above the split threshold (2^22 multiply-adds).
  for (const [M, N, K, batch] of [[800, 256, 256, 1], [299, 200, 160, 1], [256, 128, 192, 2]] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const heap = uniform(batch * (M * K + K * N + M * N), M + N);
        const out = batch * (M * K + K * N);
        const aOff = Uint32Array.from({ length: batch }, (_, i) => i * M * K);
        const bOff = Uint32Array.from({ length: batch }, (_, i) => batch * M * K + i * K * N);
        const [one, two] = underBoth(() => {
          addon.matmul(heap, aOff, bOff, out, M, N, K, transA, transB);
          return heap.slice(out);
        });
        sameBits(one, two, `matmul ${batch}x${M}x${N}x${K} transA=${transA} transB=${transB}`);
      }
    }
  }
  // kNN: the scores' product (600 x 3000 x 64) and the selection split over queries.
  const [n, nq, dim, kk] = [3000, 600, 64, 9];
  const db = uniform(n * dim, 1);
  const queries = uniform(nq * dim, 2);
  const dbSq = Float32Array.from({ length: n }, (_, j) => db.subarray(j * dim, (j + 1) * dim).reduce((s, x) => s + x * x, 0));
  const knn = () => {
    const vals = new Float32Array(nq * kk);
    const idx = new Int32Array(nq * kk);
    addon.knn(db, dbSq, queries, n, nq, dim, kk, vals, idx);
    return [vals, idx] as const;
  };
  const [k1, k2] = underBoth(knn);
  sameBits(k1[0], k2[0], 'knn scores');
  sameBits(k1[1], k2[1], 'knn neighbours');
  // Elementwise kernels and Sum on 2^17 floats (above Parallel's threshold).
  const size = 1 << 17;
  const heap = uniform(8 * size, 3);
  const hyper = Float32Array.of(1e-3, 0.9, 0.999, 1e-8, 1e-5, 0.1, 0.001);
  heap.fill(0.5, 3 * size, 4 * size); // Adam's second moments: positive
  const [e1, e2] = underBoth(() => {
    const h = heap.slice();
    addon.gelu(h, 0, 4 * size, size);
    addon.geluGrad(h, 0, size, 5 * size, size);
    addon.sumAxes(h, 0, 6 * size, 1, 256, size / 256);
    addon.sumAxes(h, size, 6 * size + size / 256, 256, 256, 2);
    addon.adam(h, Uint32Array.of(0, size, 2 * size, 3 * size, 7 * size, 2 * size, 3 * size), size, hyper);
    return h;
  });
  sameBits(e1, e2, 'gelu, geluGrad, sumAxes, adam');
});

test('a training step of a model big enough for the splits: byte-identical weights with 1 and 2 threads', { skip }, async () => {
  await initEngine({ matmul: 'native' });
  // 12 dialogues of 20-40 utterances (~360 rows), hidden 128, inputs 96-160: the step's products
  // (rows x 128 x 160, their gradients 160 x 128 x rows) are split in two.
  const config = tinyConfig({ hidden: 128, depth: 2, heads: 2, dropout: 0.3, dims: { a: 96, t: 160, v: 128 }, decoderHidden: 256, numClasses: 4 });
  const lens = [40, 20, 33, 27, 38, 25, 31, 40, 22, 36, 29, 39];
  const batch = randomBatch(config, lens, 5, (b, s) => [(b + s) % 3 !== 0 ? 1 : 0, 1, (b * s) % 4 !== 1 ? 1 : 0]);
  const weights = underBoth(() => {
    const model = new Student(config, 7);
    const adam = new Adam(model.params, { lr: 1e-3, weightDecay: 1e-5 });
    const rng = new Rng(11);
    for (let i = 0; i < 2; i++) stepOn(model, adam, () => trainingLoss(model, batch, { stage: 2, rng }));
    const w = model.params.getWeights();
    model.dispose();
    adam.dispose();
    return w;
  });
  assert.deepEqual([...weights[0].keys()], [...weights[1].keys()]);
  for (const [name, w] of weights[0]) sameBits(w.values, weights[1].get(name)!.values, name);
});

test('the pure-wasm path runs one thread under Node', async () => {
  const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  await initEngine({ matmul: 'xnnpack' });
  assert.equal(getThreadsCount(), 1);
});
