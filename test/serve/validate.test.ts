import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePredictRequest, parseCondition, InvalidRequestError, type ValidateOptions } from '../../src/serve/validate.ts';
import { HardyError } from '../../src/util/errors.ts';

const dims = { a: 3, t: 2, v: 1 };
const opts: ValidateOptions = { dims, conditions: ['a', 't', 'v', 'at', 'av', 'tv'] };
const A = [0.5, -1, 2];
const T = [1, 0];
const V = [3];

function refuses(body: unknown, pattern: RegExp, o: ValidateOptions = opts): void {
  assert.throws(
    () => validatePredictRequest(body, o),
    (err: unknown) => {
      assert.ok(err instanceof InvalidRequestError && err instanceof HardyError, `not an InvalidRequestError: ${String(err)}`);
      assert.match((err as Error).message, pattern);
      return true;
    },
  );
}

test('dialogues form: condition inferred from the given modalities, values copied to Float32Array', () => {
  const req = validatePredictRequest(
    { dialogues: [{ id: 'd1', utterances: [{ id: 'u1', speaker: 'F', features: { t: T, a: A } }, { id: 'u2', features: { v: V } }] }] },
    opts,
  );
  assert.equal(req.dialogues.length, 1);
  const [u1, u2] = req.dialogues[0].utterances;
  assert.equal(u1.condition, 'at');
  assert.equal(u1.speaker, 'F');
  assert.ok(u1.features.a instanceof Float32Array);
  assert.deepEqual(Array.from(u1.features.a!), A);
  assert.deepEqual(Array.from(u1.features.t!), T);
  assert.equal(u2.condition, 'v');
  assert.deepEqual(Object.keys(u2.features), ['v']);
});

test('flat list: grouped by dialogue in order of appearance, else one dialogue per utterance', () => {
  const req = validatePredictRequest(
    {
      utterances: [
        { id: 'x1', dialogue: 'dx', features: { a: A } },
        { id: 'solo', features: { t: T } },
        { id: 'x2', dialogue: 'dx', features: { a: A } },
      ],
    },
    opts,
  );
  assert.deepEqual(
    req.dialogues.map((d) => [d.id, d.utterances.map((u) => u.id)]),
    [['dx', ['x1', 'x2']], ['solo', ['solo']]],
  );
  // An utterance without `dialogue` is its own dialogue: no other utterance may join it, in either order.
  refuses([{ id: 'u1', features: { v: V } }, { id: 'u2', dialogue: 'u1', features: { v: V } }], /utterance 'u2': dialogue id 'u1' is also an utterance given without a 'dialogue'/);
  refuses([{ id: 'u2', dialogue: 'u1', features: { v: V } }, { id: 'u1', features: { v: V } }], /utterance 'u1': dialogue id 'u1' is also an utterance/);
  // A bare array is the same as { utterances: [...] }.
  const bare = validatePredictRequest([{ id: 'x1', dialogue: 'dx', features: { a: A } }], opts);
  assert.equal(bare.dialogues[0].id, 'dx');
});

test('an explicit condition selects the model and drops the other modalities', () => {
  const req = validatePredictRequest({ condition: 'ta', utterances: [{ id: 'u', features: { a: A, t: T, v: V } }] }, opts);
  const u = req.dialogues[0].utterances[0];
  assert.equal(u.condition, 'at');
  assert.deepEqual(Object.keys(u.features).sort(), ['a', 't']);
  refuses({ condition: 'av', utterances: [{ id: 'u7', features: { a: A } }] }, /utterance 'u7'.*condition 'av' needs modality 'v'/);
});

test('parseCondition canonicalises and names a bad letter', () => {
  assert.equal(parseCondition('vta'), 'atv');
  assert.throws(() => parseCondition('ax'), /unknown modality 'x' in "ax"/);
  assert.throws(() => parseCondition(''), /non-empty string/);
});

test('wrong feature dimension names the utterance and the modality', () => {
  refuses({ utterances: [{ id: 'ok', features: { a: A } }, { id: 'u9', features: { a: [1, 2] } }] }, /utterance 'u9': modality 'a' has 2 values, expected 3/);
});

test('NaN, Infinity and non-numbers are refused with the index', () => {
  refuses(JSON.parse('{"utterances":[{"id":"inf","features":{"a":[1,1e999,0]}}]}'), /utterance 'inf': modality 'a' value 1 is Infinity; features must be finite/);
  refuses({ utterances: [{ id: 'n', features: { a: [1, NaN, 0] } }] }, /utterance 'n': modality 'a' value 1 is NaN/);
  refuses({ utterances: [{ id: 'f32', features: { t: [1e39, 0] } }] }, /utterance 'f32': modality 't' value 0 is 1e\+39; features must be finite/);
  refuses({ utterances: [{ id: 's', features: { v: ['3'] } }] }, /utterance 's': modality 'v' value 0 is string, expected a number/);
  refuses({ utterances: [{ id: 'o', features: { v: 3 } }] }, /modality 'v' must be an array of numbers, got number/);
});

test('unknown modality, unknown condition and missing model are explained', () => {
  refuses({ utterances: [{ id: 'u1', features: { x: [1] } }] }, /utterance 'u1': unknown modality 'x'/);
  refuses({ condition: 'q', utterances: [{ id: 'u1', features: { a: A } }] }, /condition: unknown modality 'q'/);
  refuses({ utterances: [{ id: 'u1', features: { a: A, t: T, v: V } }] }, /no model trained for condition 'atv' \(available: a, t, v, at, av, tv\)/);
});

test('empty input, empty features, duplicates, unknown fields and too many utterances are refused', () => {
  refuses({ utterances: [] }, /no utterances/);
  refuses([], /no utterances/);
  refuses({ dialogues: [{ id: 'd', utterances: [] }] }, /dialogue 'd' needs a non-empty 'utterances' array/);
  refuses({ utterances: [{ id: 'u1', features: {} }] }, /utterance 'u1': no features given/);
  refuses({ utterances: [{ id: 'u1', features: { a: A } }, { id: 'u1', features: { a: A } }] }, /utterance 'u1': duplicate utterance id/);
  refuses({ utterances: [{ id: 'u1', features: { a: A }, label: 2 }] }, /unknown field 'label'/);
  refuses({ utterances: [{ features: { a: A } }] }, /utterances\[0\]: 'id' must be a non-empty string/);
  refuses({ utterance: [] }, /request: unknown field 'utterance'/);
  refuses({ dialogues: [], utterances: [] }, /exactly one of 'dialogues' or 'utterances'/);
  refuses('hello', /expected a JSON object/);
  const many = Array.from({ length: 4 }, (_, i) => ({ id: `u${i}`, features: { v: V } }));
  refuses({ utterances: many }, /utterance 'u3': too many utterances \(at most 3/, { ...opts, maxUtterances: 3 });
});

test('source and locate prefix the message (used by the CLI for file and line)', () => {
  refuses([{ id: 'a', features: { a: A } }, { id: 'b', features: { a: [1] } }], /^in\.jsonl: line 2: utterance 'b': modality 'a' has 1 values/, {
    ...opts,
    source: 'in.jsonl',
    locate: (i) => `line ${i + 1}`,
  });
});

test('validation does not keep references to the caller arrays', () => {
  const a = [...A];
  const req = validatePredictRequest({ utterances: [{ id: 'u', features: { a } }] }, opts);
  a[0] = 99;
  assert.equal(req.dialogues[0].utterances[0].features.a![0], 0.5);
});

test('feature limits: 1000x the run\'s largest |value| (at least 1, at most 1e9); 1e6 for runs without statistics', async () => {
  const { featureLimits } = await import('../../src/serve/validate.ts');
  assert.deepEqual(featureLimits({ a: 5, t: 0.2, v: 1e8 }), { a: 5000, t: 1000, v: 1e9 });
  assert.deepEqual(featureLimits(undefined), { a: 1e6, t: 1e6, v: 1e6 });
  const opts = { dims: { a: 2, t: 2, v: 2 }, conditions: ['a' as const], limits: featureLimits({ a: 2, t: 1, v: 1 }) };
  assert.doesNotThrow(() => validatePredictRequest({ utterances: [{ id: 'u', features: { a: [2000, -2000] } }] }, opts));
  assert.throws(() => validatePredictRequest({ utterances: [{ id: 'u', features: { a: [1, -2001] } }] }, opts), /utterance 'u': modality 'a' value 1 is -2001, outside the range this run accepts \(\|value\| <= 2000/);
});
