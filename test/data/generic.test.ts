import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertModalities, loadCorpus } from '../../src/data/load.ts';
import { makeFolds } from '../../src/data/splits.ts';
import { inspectCorpus } from '../../src/data/inspect.ts';
import { HardyError } from '../../src/util/errors.ts';

const NAMED = 'fixtures/data/generic/named';
const REGRESSION = 'fixtures/data/generic/regression';

function close(actual: Float32Array, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) < 1e-5, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

/** A copy of a fixture tree to break one thing in; removed after `fn`. */
function withCopy(src: string, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hardy-generic-'));
  try {
    cpSync(src, dir, { recursive: true });
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const edit = (file: string, f: (s: string) => string): void => writeFileSync(file, f(readFileSync(file, 'utf8')));

test('generic CSV (CRLF, as Python and spreadsheets write it) with splits: detected, class names from the data (sorted), row order within dialogues, dev = valid, quoted fields', () => {
  const exp = JSON.parse(readFileSync(join(NAMED, 'expected.json'), 'utf8'));
  for (const c of [loadCorpus(NAMED), loadCorpus(NAMED, 'generic')]) {
    assert.equal(c.dataset, 'generic');
    assert.equal(c.task, 'classification');
    assert.deepEqual(c.classNames, ['anger', 'joy', 'neutral', 'sad']);
    assert.equal(c.numClasses, 4);
    assert.deepEqual(c.modalities, ['a', 't']);
    assert.deepEqual({ a: c.dims.a, t: c.dims.t }, exp.dims);
    // interleaved rows: each dialogue keeps its own rows' order
    assert.deepEqual(c.dialogues.map((d) => [d.id, d.utterances.map((u) => u.id)]), exp.dialogues);
    assert.deepEqual(Object.fromEntries(c.dialogues.map((d) => [d.id, d.split])), exp.splits);
    for (const u of c.dialogues.flatMap((d) => d.utterances)) {
      const e = exp.utterances[u.id];
      assert.equal(u.label, e.label, u.id);
      assert.equal(u.speaker, e.speaker);
      close(u.features.a, e.a, `${u.id}.a`);
      close(u.features.t, e.t, `${u.id}.t`);
      assert.deepEqual([...u.features.v], [0], 'absent modality: a single zero');
    }
  }
  const folds = makeFolds(loadCorpus(NAMED));
  assert.deepEqual(folds.map((f) => [f.train.map((d) => d.id), f.valid.map((d) => d.id), f.test.map((d) => d.id)]), [[['d1', 'd2'], ['d3'], ['d4']]]);
  const report = inspectCorpus(loadCorpus(NAMED));
  assert.deepEqual(report.labels, [{ label: 'anger', count: 2 }, { label: 'joy', count: 3 }, { label: 'neutral', count: 2 }, { label: 'sad', count: 2 }]);
  assert.ok(report.problems.some((p) => /no features\/v/.test(p)), report.problems.join('; '));
});

test('generic classes.txt fixes the class order; a label outside it is an unknown class naming file, line and id', () => {
  withCopy(NAMED, (dir) => {
    writeFileSync(join(dir, 'classes.txt'), 'neutral\njoy\nsad\nanger\n');
    const c = loadCorpus(dir);
    assert.deepEqual(c.classNames, ['neutral', 'joy', 'sad', 'anger']);
    assert.equal(c.dialogues[0]!.utterances[0]!.label, 1); // d1_u1 joy
    writeFileSync(join(dir, 'classes.txt'), 'neutral\njoy\nsad\n');
    assert.throws(() => loadCorpus(dir), (e: unknown) => e instanceof HardyError && /labels\.csv:3: utterance 'd2_u1' has unknown class 'anger', expected one of neutral, joy, sad/.test(e.message));
  });
});

test('generic JSONL with groups and --task regression: numeric labels, leave-one-group-out folds in natural group order', () => {
  const exp = JSON.parse(readFileSync(join(REGRESSION, 'expected.json'), 'utf8'));
  const c = loadCorpus(REGRESSION, undefined, { task: 'regression' });
  assert.equal(c.task, 'regression');
  assert.equal(c.numClasses, 1);
  assert.deepEqual(c.classNames, []);
  assert.deepEqual(c.dims, exp.dims);
  for (const u of c.dialogues.flatMap((d) => d.utterances)) {
    const e = exp.utterances[u.id];
    assert.equal(u.label, e.label);
    for (const m of ['a', 't', 'v'] as const) close(u.features[m], e[m], `${u.id}.${m}`);
  }
  const folds = makeFolds(c, { seed: 3, validFraction: 0.25 });
  assert.deepEqual(folds.map((f) => [f.index, f.name, f.test.map((d) => d.id)]), exp.folds.map(([g, ds]: [string, string[]], i: number) => [i + 1, g, ds]));
  for (const f of folds) {
    const ids = [...f.train, ...f.valid].map((d) => d.id).sort();
    assert.deepEqual(ids, c.dialogues.filter((d) => d.group !== f.name).map((d) => d.id).sort(), 'train + valid = every other group');
    assert.equal(f.valid.length, 1); // round(4 * 0.25) or round(3 * 0.25) -> at least 1
  }
  assert.deepEqual(makeFolds(c, { seed: 3, validFraction: 0.25 }), folds, 'same seed, same folds');
  assert.deepEqual(inspectCorpus(c).groups.map((g) => g.name), ['group S1', 'group S2', 'group S10']);
  // without --task regression the numbers are class names, in numeric order
  const asClasses = loadCorpus(REGRESSION);
  assert.equal(asClasses.task, 'classification');
  assert.deepEqual(asClasses.classNames, [...asClasses.classNames].sort((a, b) => Number(a) - Number(b)));
});

test('generic without a valid split: a seeded tenth of the training dialogues validates', () => {
  withCopy(NAMED, (dir) => {
    edit(join(dir, 'labels.csv'), (s) => s.replace(/,dev(\r?)$/gm, ',train$1'));
    const [f] = makeFolds(loadCorpus(dir), { seed: 1 });
    assert.equal(f!.valid.length, 1);
    assert.equal(f!.train.length, 2);
    assert.deepEqual([...f!.train, ...f!.valid].map((d) => d.id).sort(), ['d1', 'd2', 'd3']);
    assert.deepEqual(f!.test.map((d) => d.id), ['d4']);
  });
});

test('generic errors name the file, the id and what was expected', () => {
  const cases: Array<[string, string, (dir: string) => void, RegExp]> = [
    ['id in labels but no feature', NAMED, (d) => unlinkSync(join(d, 'features/t/d2_u2.npy')), /features\/t\/d2_u2\.npy: no feature for utterance 'd2_u2'/],
    ['a feature with no label', NAMED, (d) => copyFileSync(join(d, 'features/a/d1_u1.npy'), join(d, 'features/a/stray.npy')), /features\/a\/stray\.npy: a feature for utterance 'stray', which .*labels\.csv does not list/],
    ['mixed dimensions', NAMED, (d) => copyFileSync('fixtures/data/bad/dim5_feature.npy', join(d, 'features/a/d4_u2.npy')), /features\/a\/d4_u2\.npy: feature for utterance 'd4_u2' has dimension 5, expected 4/],
    ['an empty split', NAMED, (d) => edit(join(d, 'labels.csv'), (s) => s.replace(/,test(\r?)$/gm, ',train$1')), /labels\.csv: the test split has no utterances/],
    ['a row without a group', REGRESSION, (d) => edit(join(d, 'labels.jsonl'), (s) => s.replace('"group": "S10"', '"group": ""')), /labels\.jsonl:5: utterance 's10a_0' has no group/],
    ['a single group', REGRESSION, (d) => edit(join(d, 'labels.jsonl'), (s) => s.replace(/"group": "S\d+"/g, '"group": "S1"')), /every utterance is in group 'S1'; leave-one-group-out needs at least two groups/],
    ['a dialogue in two splits', NAMED, (d) => edit(join(d, 'labels.csv'), (s) => s.replace('d2_u2,d2,A,sad,train', 'd2_u2,d2,A,sad,test')), /labels\.csv:6: utterance 'd2_u2' puts dialogue 'd2' in split 'test', but its earlier rows are in 'train'/],
    ['an unknown split', NAMED, (d) => edit(join(d, 'labels.csv'), (s) => s.replace('d4_u2,d4,C,joy,test', 'd4_u2,d4,C,joy,holdout')), /labels\.csv:10: utterance 'd4_u2' has split 'holdout', expected train, valid \(or dev\) or test/],
    ['a missing label', NAMED, (d) => edit(join(d, 'labels.csv'), (s) => s.replace('d4_u2,d4,C,joy,test', 'd4_u2,d4,C,,test')), /utterance 'd4_u2' has no label/],
    ['a duplicated id', NAMED, (d) => edit(join(d, 'labels.csv'), (s) => s.replace('d4_u2,d4', 'd4_u1,d4')), /labels\.csv:10: utterance 'd4_u1' appears twice/],
    ['a path in an id', NAMED, (d) => edit(join(d, 'labels.csv'), (s) => s.replace('d4_u2,d4', '../x,d4')), /may not contain '\/'/],
    ['no split or group column', NAMED, (d) => edit(join(d, 'labels.csv'), (s) => s.replace(',split', ',part')), /needs exactly one of the columns 'split' .* or 'group'/],
    ['no feature folder', NAMED, (d) => rmSync(join(d, 'features'), { recursive: true }), /no feature folder \(expected features\/a, features\/t and\/or features\/v/],
    ['a bad JSON line', REGRESSION, (d) => edit(join(d, 'labels.jsonl'), (s) => s.replace('"s2b_0"', 's2b_0')), /labels\.jsonl:3: not valid JSON/],
  ];
  for (const [what, src, breakIt, message] of cases) {
    withCopy(src, (dir) => {
      breakIt(dir);
      assert.throws(() => loadCorpus(dir), (e: unknown) => e instanceof HardyError && message.test(e.message), what);
    });
  }
  withCopy(REGRESSION, (dir) => {
    edit(join(dir, 'labels.jsonl'), (s) => s.replace('"label": 2,', '"label": "two",'));
    assert.throws(() => loadCorpus(dir, 'generic', { task: 'regression' }), /labels\.jsonl:1: utterance 's2a_0' has label 'two', expected a number \(--task regression\)/);
  });
  assert.throws(() => loadCorpus('fixtures/data/gcnet_mosi', undefined, { task: 'regression' }), /--task applies to the generic layout only/);
});

test('generic corpus without a modality: conditions that need it are refused, the others pass', () => {
  const c = loadCorpus(NAMED);
  assert.doesNotThrow(() => assertModalities(c, ['a', 't', 'at'], false));
  assert.throws(() => assertModalities(c, ['a', 'av', 'tv'], false), /has features for a, t only; condition av, tv needs a modality it lacks/);
  assert.throws(() => assertModalities(c, ['atv'], true), /the random protocol draws from all three modalities/);
  assert.doesNotThrow(() => assertModalities(loadCorpus(REGRESSION), ['v', 'atv'], true));
});
