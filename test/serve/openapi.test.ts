import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { createServer } from '../../src/serve/server.ts';
import { validatePredictRequest } from '../../src/serve/validate.ts';
import { makeFakePredictor } from '../support/fake-predictor.ts';

const vec = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.sin(i + s));

test('GET /openapi.json documents every route and method the server answers', async () => {
  const s = await createServer(makeFakePredictor({}), { port: 0, log: () => {} });
  try {
    const doc = (await (await fetch(s.url + '/openapi.json')).json()) as any;
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/predict', '/health', '/ready', '/models', '/openapi.json']) {
      assert.ok(doc.paths[path], `${path} documented`);
      // The methods the server answers: everything else is 405 with Allow.
      const allowed = (await fetch(s.url + path, { method: 'PATCH' })).headers.get('allow')!.toLowerCase().split(', ');
      assert.deepEqual(Object.keys(doc.paths[path]).sort(), allowed.sort(), path);
    }
  } finally {
    await s.close();
  }
});

test('the documented request schema and the validator agree, and real answers match the response schemas', async () => {
  const p = makeFakePredictor({ conditions: ['a', 'at', 'tv'], featureLimits: { a: 50, t: 2000, v: 1e6 } });
  const s = await createServer(p, { port: 0, log: () => {} });
  try {
    const doc = (await (await fetch(s.url + '/openapi.json')).json()) as any;
    const ajv = new Ajv({ strict: false });
    ajv.addSchema(doc, 'api');
    const check = (name: string) => ajv.getSchema(`api#/components/schemas/${name}`)!;
    const info = p.info();
    const opts = { dims: info.dims, conditions: info.models.map((m) => m.condition), limits: info.featureLimits };
    const accepts = (body: unknown) => {
      try {
        validatePredictRequest(body, opts);
        return true;
      } catch {
        return false;
      }
    };
    // Shapes: both say yes, or both say no (the document cannot see float32 range, counts or models).
    const bodies: unknown[] = [
      { utterances: [{ id: 'u', features: { a: vec(16, 1) } }] },
      [{ id: 'u', speaker: 'F', features: { t: vec(24, 1), v: vec(8, 2) } }],
      { condition: 'at', dialogues: [{ id: 'd', utterances: [{ id: 'u', features: { a: vec(16, 1), t: vec(24, 0) } }] }] },
      { utterances: [{ id: 'u', features: { a: vec(15, 1) } }] },
      { utterances: [{ id: 'u', features: { a: vec(16, 1), z: [1] } }] },
      { utterances: [{ id: '', features: { a: vec(16, 1) } }] },
      { utterances: [{ id: 'u', features: {} }] },
      { utterances: [{ id: 'u', features: { a: [...vec(15, 1), 'x'] } }] },
      { utterances: [], extra: 1 },
      { dialogues: [{ id: 'd', utterances: [] }] },
      { dialogues: [], utterances: [] },
      { condition: 'q', utterances: [{ id: 'u', features: { a: vec(16, 1) } }] },
      { utterances: [{ id: 'u', features: { a: vec(16, 1) }, mood: 'x' }] },
      // the run's feature range (from its training features) is in the document too
      { utterances: [{ id: 'u', features: { a: [...vec(15, 1), 50] } }] },
      { utterances: [{ id: 'u', features: { a: [...vec(15, 1), -51] } }] },
    ];
    for (const b of bodies) assert.equal(check('PredictRequest')(b), accepts(b), JSON.stringify(b).slice(0, 80));

    const r = (await (await fetch(s.url + '/predict', { method: 'POST', body: JSON.stringify(bodies[0]) })).json()) as any;
    assert.ok(check('PredictResponse')(r), JSON.stringify(check('PredictResponse').errors));
    assert.ok(check('Models')(await (await fetch(s.url + '/models')).json()));
    assert.ok(check('Health')(await (await fetch(s.url + '/health')).json()));
    const bad = await (await fetch(s.url + '/predict', { method: 'POST', body: '{' })).json();
    assert.ok(check('Error')(bad));
    // A response schema that could not fail would prove nothing.
    assert.equal(check('PredictResponse')({ ...r, utterances: [{ ...r.utterances[0], label: 'bored' }] }), false);
  } finally {
    await s.close();
  }
});
