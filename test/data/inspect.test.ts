import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCorpus } from '../../src/data/load.ts';
import { inspectCorpus, formatReport } from '../../src/data/inspect.ts';

test('inspect report on the IEMOCAP fixture: hand-counted sessions, labels, zero vectors', () => {
  const r = inspectCorpus(loadCorpus('fixtures/data/gcnet_iemocap'));
  assert.deepEqual(r.groups, [
    { name: 'session 1', dialogues: 2, utterances: 5 },
    { name: 'session 2', dialogues: 1, utterances: 2 },
  ]);
  // labels written by the fixture script: [0, 2, 1], [3, 3], [2, 0]
  assert.deepEqual(r.labels, [{ label: 'happy', count: 2 }, { label: 'sad', count: 1 }, { label: 'neutral', count: 2 }, { label: 'angry', count: 2 }]);
  assert.deepEqual(r.zeroVectors, { a: 0, t: 0, v: 1 });
  assert.deepEqual(r.dialogueLength, { mean: 7 / 3, min: 2, max: 3 });
  assert.equal(r.nonFinite, 0);
  assert.equal(r.problems.length, 1); // the empty face folder
  assert.match(formatReport(r), /session 2\s+1 dialogues\s+2 utterances/);
});
