// A fast subset of bench/serve-load.ts (its machinery: test/support/serve-load.ts): concurrent clients mixing valid and malformed requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runServeLoad } from '../support/serve-load.ts';
import { makeFakePredictor } from '../support/fake-predictor.ts';

test('20 concurrent clients, valid and malformed mixed, 2 worker threads: no crash, every answer as expected, /health polled throughout', async () => {
  const fake = { dims: { a: 32, t: 48, v: 16 } };
  const r = await runServeLoad({
    spec: { module: new URL('../support/fake-predictor.ts', import.meta.url).href, options: fake },
    direct: () => makeFakePredictor(fake),
    pool: { workers: 2 },
    clients: 20,
    requestsPerClient: 8,
    maxSeconds: 60,
    seed: 3,
    maxBodyBytes: 64 * 1024,
    utterances: 3,
    aloneRequests: 6,
  });
  assert.deepEqual(r.failures, []);
  assert.equal(r.crashes, 0);
  assert.equal(r.networkErrors, 0);
  assert.equal(r.requests, 160);
  assert.equal(r.malformedOk, r.malformed);
  assert.equal(r.validIdentical, r.valid);
  assert.ok(r.valid > 40 && r.malformed > 40, `mix: ${JSON.stringify(r.byKind)}`);
  assert.ok((r.byKind.huge ?? 0) > 0, 'some bodies over the limit');
  assert.ok(r.healthPolls > 0 && Number.isFinite(r.latencyMs.healthMax), 'every /health poll answered');
  assert.equal(Math.round(r.predictionsPerSecond * r.seconds), r.valid * 3);
});
