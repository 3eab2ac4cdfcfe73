import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type RunningServer } from '../../src/serve/server.ts';
import { PredictorPool, type PoolOptions } from '../../src/serve/pool.ts';
import { validatePredictRequest } from '../../src/serve/validate.ts';
import { makeFakePredictor, type FakeOptions } from '../support/fake-predictor.ts';
import { threadNice } from '../../src/serve/threads.ts';

const FAKE = new URL('../support/fake-predictor.ts', import.meta.url).href;
const vec = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + s));
const one = (id: string, s: number) => ({ utterances: [{ id, features: { a: vec(16, s), t: vec(24, s + 1) } }] });

async function withPool(fake: FakeOptions, pool: PoolOptions, fn: (s: RunningServer, p: PredictorPool) => Promise<void>, wait = true) {
  const p = new PredictorPool({ module: FAKE, options: fake }, pool);
  const s = await createServer(p, { port: 0, log: () => {} });
  try {
    if (wait) await p.start();
    await fn(s, p);
  } finally {
    await s.close();
    await p.close();
  }
}

const post = (s: RunningServer, body: unknown) =>
  fetch(s.url + '/predict', { method: 'POST', body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), json: (await r.json()) as any }));

test('concurrent requests are merged into batches, and each answer equals a direct predictor call', async () => {
  // One busy worker: while it runs the first request, the next ones queue and go as one batch.
  await withPool({ busyMs: 150 }, { workers: 1, maxBatchUtterances: 64 }, async (s, p) => {
    const bodies = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0
        ? { dialogues: [{ id: 'same', utterances: [{ id: 'x', features: { a: vec(16, i) } }, { id: 'y', features: { a: vec(16, i + 9) } }] }] }
        : one('x', i),
    );
    const answers = await Promise.all(bodies.map((b) => post(s, b)));
    const direct = makeFakePredictor({});
    const info = direct.info();
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 200);
      const req = validatePredictRequest(bodies[i], { dims: info.dims, conditions: info.models.map((m) => m.condition) });
      assert.deepEqual(a.json, JSON.parse(JSON.stringify(await direct.predict(req))), `request ${i}`);
    }
    const st = p.stats();
    assert.ok((st.batches as number) < bodies.length, `requests were merged: ${JSON.stringify(st)}`);
  });
});

test('/health and /models answer at once while the worker is busy', async () => {
  await withPool({ busyMs: 600 }, { workers: 1 }, async (s) => {
    const pending = post(s, one('u', 1));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const h = await fetch(s.url + '/health').then((r) => r.json() as any);
    const m = await fetch(s.url + '/models').then((r) => r.status);
    const ms = performance.now() - t0;
    assert.equal(m, 200);
    assert.equal(h.workersBusy, 1);
    assert.ok(ms < 300, `health + models took ${ms.toFixed(0)} ms during a 600 ms prediction`);
    assert.equal((await pending).status, 200);
  });
});

test('a full queue answers 503 with Retry-After; a request past its deadline answers 503 timeout', async () => {
  // Waits on the pool's state, not on the clock: under a loaded machine 50 ms proved too short.
  await withPool({ busyMs: 1500 }, { workers: 1, maxQueueUtterances: 2, timeoutMs: 10_000 }, async (s, p) => {
    const first = post(s, one('u0', 0));
    while (p.stats().workersBusy !== 1) await new Promise((r) => setTimeout(r, 10)); // u0 is in the worker, the queue is empty
    const rest = await Promise.all([1, 2, 3, 4].map((i) => post(s, one(`u${i}`, i))));
    assert.equal((await first).status, 200);
    assert.deepEqual(rest.map((r) => r.status), [200, 200, 503, 503]);
    assert.equal(rest[2].json.error, 'overloaded');
    assert.ok(Number(rest[2].retry) >= 1, `Retry-After ${rest[2].retry}`);
    assert.equal(p.stats().overloaded, 2);
  });
  await withPool({ busyMs: 1500 }, { workers: 1, timeoutMs: 200 }, async (s) => {
    const [a, b] = await Promise.all([post(s, one('a', 0)), post(s, one('b', 1))]);
    assert.equal(a.status, 503); // running past its deadline: answered 503, the late result dropped
    assert.equal(b.status, 503);
    assert.equal(b.json.error, 'timeout');
    assert.ok(Number(b.retry) >= 1);
  });
});

test('/ready is 503 while the workers load the models, 200 after; /predict waits with 503', async () => {
  await withPool({ loadMs: 800 }, { workers: 2 }, async (s, p) => {
    const r0 = await fetch(s.url + '/ready');
    assert.equal(r0.status, 503);
    assert.ok(Number(r0.headers.get('retry-after')) >= 1);
    assert.equal((await post(s, one('u', 1))).status, 503);
    assert.equal((await fetch(s.url + '/health')).status, 200);
    await p.start();
    assert.equal((await fetch(s.url + '/ready')).status, 200);
    assert.equal((await post(s, one('u', 1))).status, 200);
    assert.equal(p.stats().workers, 2);
  }, false);
});

test('the worker threads run workerNice steps below the main thread (Linux), so it gets a core first', { skip: threadNice() === undefined ? 'no per-thread nice here' : false }, async () => {
  const main = threadNice()!;
  await withPool({}, { workers: 1, workerNice: 5 }, async (_s, p) => {
    assert.equal(p.info().models[0]!.threadNice, Math.min(19, main + 5));
  });
  assert.equal(threadNice(), main, 'the main thread keeps its priority');
});

test('a run that cannot be loaded rejects start() with the loader\'s message', async () => {
  const p = new PredictorPool({ module: new URL('../../src/serve/run-predictor.ts', import.meta.url).href, options: { runDir: '/nonexistent/run' } }, { log: () => {} });
  await assert.rejects(p.start(), /nonexistent\/run/);
  await p.close();
});

test('a worker shares the process environment: what the engine sets for OpenBLAS when it loads there reaches the native library', async () => {
  // Native code reads the process environment; a worker's own copy of process.env never gets there.
  // The engine sets OPENBLAS_NUM_THREADS before it loads the addon (native-addon.ts): loaded first
  // in a worker, the value must still be the process's (here: visible to the main thread).
  const saved = process.env.OPENBLAS_NUM_THREADS;
  delete process.env.OPENBLAS_NUM_THREADS;
  try {
    await withPool({ startEngine: true }, { workers: 1 }, async () => {
      assert.equal(process.env.OPENBLAS_NUM_THREADS, '1');
    });
  } finally {
    if (saved === undefined) delete process.env.OPENBLAS_NUM_THREADS;
    else process.env.OPENBLAS_NUM_THREADS = saved;
  }
});
