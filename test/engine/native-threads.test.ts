// The addon used from several threads of one process at once, as the server's prediction workers
// use it (issue 18). Attention once lowered OpenBLAS's process-wide thread count while it ran, and
// a product overlapping it on another thread changed its last bits (OpenBLAS 0.3.21: 442 of 3200
// elements of a 50x128x64 product differ between 1 and 2 threads); now OpenBLAS always runs one
// thread and the addon's helper threads serve one caller at a time (native/common.h, common.cc).
// Property: every product of two threads that interleave attention calls is bit-identical to the
// same product computed alone, and the thread budget is the same after as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { loadAddon } from '../../src/engine/native-addon.ts';

const load = loadAddon();
const skip = load.addon || process.env.HARDY_MER_REQUIRE_NATIVE === '1' ? false : `native addon not built (${load.error})`;

// Runs in each worker (plain JS: workers do not inherit the tsx loader). Data from a fixed LCG.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.path);
let s = 12345;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
const M = 50, K = 128, N = 64, D = 64, H = 2, R = 40;
const heap = new Float32Array(M * K + K * N + M * N);
for (let i = 0; i < M * K + K * N; i++) heap[i] = rnd();
const out = M * K + K * N;
const ah = new Float32Array(5 * R * D + R * R * H);
for (let i = 0; i < 3 * R * D; i++) ah[i] = rnd();
ah.fill(1, 3 * R * D, 3 * R * D + R);
const starts = new Int32Array([0, R]), pStarts = new Int32Array([0, R * R * H]);
const product = () => {
  addon.matmul(heap, new Uint32Array([0]), new Uint32Array([M * K]), out, M, N, K, false, false);
  return heap.slice(out);
};
parentPort.once('message', (reference) => {
  let differing = 0;
  for (let i = 0; i < workerData.iterations; i++) {
    addon.attention(ah, 0, R * D, 2 * R * D, 3 * R * D, 3 * R * D + R, 4 * R * D + R, starts, pStarts, D, H, 0.125);
    const p = product();
    if (p.some((x, j) => x !== reference[j])) differing++;
  }
  parentPort.postMessage(differing);
});
parentPort.postMessage(product());
`;

test('two threads interleaving attention and products: every product bit-identical to a lone one, thread count kept', { skip }, async () => {
  const addon = load.addon!;
  const before = addon.info().threads;
  const path = (await import('node:module')).createRequire(import.meta.url).resolve(process.env.HARDY_MER_ADDON || '../../build/Release/hardy_native.node');
  const workers = [0, 1].map(() => new Worker(WORKER, { eval: true, workerData: { path, iterations: 400 } }));
  try {
    const lone = await Promise.all(workers.map((w) => new Promise<Float32Array>((r) => w.once('message', r))));
    assert.deepEqual(lone[0], lone[1]);
    const differing = await Promise.all(workers.map((w) => new Promise<number>((r) => { w.once('message', r); w.postMessage(lone[0]); })));
    assert.deepEqual(differing, [0, 0], 'products that differ from the lone one, per thread');
    assert.equal(addon.info().threads, before, 'thread budget after the threads are done');
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});
