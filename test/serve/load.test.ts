// A fast subset of bench/serve-load.ts: concurrent clients mixing valid and malformed requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runServeLoad } from '../../bench/serve-load.ts';
import { makeFakePredictor } from './fake-predictor.ts';

test('20 concurrent clients, valid and malformed mixed: no crash, every answer as expected', async () => {
  const r = await runServeLoad(() => makeFakePredictor({ dims: { a: 32, t: 48, v: 16 } }), {
    clients: 20,
    requestsPerClient: 8,
    maxSeconds: 60,
    seed: 3,
    maxBodyBytes: 64 * 1024,
    maxUtterances: 4,
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
});
