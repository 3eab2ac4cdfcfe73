/**
 * The real binary on a generic-layout corpus (fixtures/data/generic/named: four named classes,
 * fixed splits, no video): train, predict with the corpus' class names, and the refusals.
 * One short run is shared by the tests of this file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = 'bin/hardy-mer.js';
const DATA = 'fixtures/data/generic/named';
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

let dir = '';
let runDir = '';
let cfg = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hardy-generic-e2e-'));
  runDir = join(dir, 'run');
  cfg = join(dir, 'cfg.yaml');
  writeFileSync(
    cfg,
    [
      'model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 }',
      'teacher: { epochs: 2, stage1Epochs: 1 }',
      'student: { epochs: 2, stage1Epochs: 1 }',
      'momke: { epochs: 2, stage1Epochs: 1 }',
      'finetune: { epochs: 1 }',
      'optim: { lr: 0.003, batchSize: 4 }',
    ].join('\n'),
  );
  const r = run('train', '--data', DATA, '--config', cfg, '--conditions', 'a,at', '--out', runDir, '--quiet', '--json');
  assert.equal(r.status, 0, r.stderr);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('generic corpus: the run keeps the class names and predict answers with them', () => {
  const runFile = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  assert.equal(runFile.identity.dataset, 'generic');
  assert.deepEqual(runFile.corpus.classNames, ['anger', 'joy', 'neutral', 'sad']);
  const input = join(dir, 'input');
  mkdirSync(join(input, 'a'), { recursive: true });
  copyFileSync(join(DATA, 'features/a/d4_u1.npy'), join(input, 'a', 'd4_u1.npy'));
  const p = run('predict', '--run', runDir, '--input', input, '--json');
  assert.equal(p.status, 0, p.stderr);
  const u = JSON.parse(p.stdout).utterances[0];
  assert.ok(['anger', 'joy', 'neutral', 'sad'].includes(u.label), JSON.stringify(u));
  assert.equal(u.probs.length, 4);
});

test('generic corpus: a condition needing the absent modality is refused before anything is written', () => {
  const out = join(dir, 'refused');
  const r = run('train', '--data', DATA, '--config', cfg, '--conditions', 'a,av', '--out', out, '--quiet');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /has features for a, t only; condition av needs a modality it lacks/);
  const t = run('train', '--data', DATA, '--task', 'regression', '--out', out, '--quiet');
  assert.notEqual(t.status, 0);
  assert.match(t.stderr, /labels\.csv:2: utterance 'd1_u1' has label 'joy', expected a number \(--task regression\)/);
});

test('generic corpus with groups and --task regression: every group is a fold unless --folds chooses', () => {
  const out = join(dir, 'groups');
  const r = run('train', '--data', 'fixtures/data/generic/regression', '--task', 'regression', '--method', 'momke', '--config', cfg, '--conditions', 'at', '--out', out, '--quiet', '--json');
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.deepEqual(res.conditions.at.folds.map((f: { fold: number }) => f.fold), [1, 2, 3]);
  assert.ok('MAE' in res.conditions.at.mean && 'Corr' in res.conditions.at.mean, 'regression metrics');
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).folds, [1, 2, 3], 'the folds run are the folds recorded');
  const two = run('train', '--data', 'fixtures/data/generic/regression', '--task', 'regression', '--method', 'momke', '--config', cfg, '--conditions', 'at', '--folds', '2', '--out', join(dir, 'fold2'), '--quiet', '--json');
  assert.equal(two.status, 0, two.stderr);
  assert.deepEqual(JSON.parse(two.stdout).conditions.at.folds.map((f: { fold: number }) => f.fold), [2]);
});
