import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPredictInput, parseJson, type InputOptions } from '../../src/serve/input.ts';
import type { PredictRequest } from '../../src/serve/predictor.ts';
import { HardyError } from '../../src/util/errors.ts';

const F = 'fixtures/predict';
const opts: InputOptions = { dims: { a: 4, t: 3, v: 2 }, conditions: ['a', 't', 'v', 'at', 'av', 'tv'] };

/** Plain view of a request for comparisons: dialogue -> [id, condition, features as arrays]. */
const plain = (r: PredictRequest, speakers = true) =>
  r.dialogues.map((d) => ({
    id: d.id,
    utterances: d.utterances.map((u) => ({
      id: u.id,
      condition: u.condition,
      ...(speakers && u.speaker ? { speaker: u.speaker } : {}),
      features: Object.fromEntries(Object.entries(u.features).map(([m, x]) => [m, Array.from(x!)])),
    })),
  }));

function refuses(path: string, pattern: RegExp, o: InputOptions = opts): void {
  assert.throws(
    () => readPredictInput(path, o),
    (err: unknown) => {
      assert.ok(err instanceof HardyError, String(err));
      assert.match((err as Error).message, pattern);
      return true;
    },
  );
}

test('JSON body, JSONL lines and an npy folder (written by NumPy) give the same request', () => {
  const json = readPredictInput(`${F}/request.json`, opts);
  const jsonl = readPredictInput(`${F}/utterances.jsonl`, opts);
  const npy = readPredictInput(`${F}/npy`, opts);
  assert.deepEqual(plain(json), [
    {
      id: 'd1',
      utterances: [
        { id: 'u2', condition: 'av', features: { a: [0.5, -1.25, 2, 0], v: [1, -1] } },
        { id: 'u1', condition: 'at', speaker: 'F', features: { a: [0.25, 0.5, 0.75, 1], t: [-0.5, 0, 0.5] } },
      ],
    },
    { id: 'd2', utterances: [{ id: 'u3', condition: 't', features: { t: [1, 2, 3] } }] },
  ]);
  assert.deepEqual(plain(jsonl), plain(json));
  // .npy files carry no speaker; float64 and [1, d] files are accepted.
  assert.deepEqual(plain(npy, false), plain(json, false));
});

test('npy folder without dialogues.json: one dialogue per utterance in uid order, any modality subset', () => {
  const r = readPredictInput(`${F}/npy-nomap`, opts);
  assert.deepEqual(
    r.dialogues.map((d) => [d.id, d.utterances[0].id, d.utterances[0].condition]),
    [
      ['alpha', 'alpha', 'av'],
      ['zeta', 'zeta', 'v'],
    ],
  );
});

test('errors name the file, the line and the utterance id', () => {
  refuses(`${F}/bad-dim.jsonl`, /bad-dim\.jsonl: line 3: utterance 'short': modality 't' has 2 values, expected 3/);
  refuses(`${F}/bad-json.jsonl`, /bad-json\.jsonl: line 2: not valid JSON/);
  refuses(`${F}/bad-nan.json`, /bad-nan\.json: utterances\[1\]: utterance 'n2': modality 'a' value 1 is Infinity/);
  refuses(`${F}/npy-nan`, /npy-nan: a\/hasnan\.npy: utterance 'hasnan': modality 'a' value 1 is NaN; features must be finite/);
  refuses(`${F}/npy-matrix`, /m1\.npy: expected one numeric feature vector .* shape \[2, 4\]/);
  refuses(`${F}/npy`, /no model trained for condition 'av'/, { ...opts, conditions: ['at', 't'] });
  refuses(`${F}/npy`, /u2\.npy.*modality 'a' has 4 values, expected 5/, { ...opts, dims: { a: 5, t: 3, v: 2 } });
  refuses(`${F}/missing.json`, /missing\.json: input not found/);
  refuses(`${F}/npy/dialogues.json/x`, /dialogues\.json\/x: cannot stat input \(ENOTDIR\)/);
  refuses('package.json', /package\.json: request: unknown field/);
  refuses('README.md', /unknown input type '\.md'/);
  refuses(`${F}/npy`, /3 utterances, more than the limit of 2/, { ...opts, maxUtterances: 2 });
});

test('dialogues.json ids are never used as paths', () => {
  refuses(`${F}/npy-badmap`, /dialogues\.json: dialogue 'd1' lists utterance '\.\.\/\.\.\/\.\.\/etc\/passwd', which has no \.npy file/);
});

test('parseJson places the error at a line and column', () => {
  assert.throws(() => parseJson('{\n  "a": 1,\n  "b" 2\n}', 'x.json'), /x\.json: not valid JSON at line 3 column 7/);
});
