/**
 * The real binary on a generic-layout corpus (fixtures/data/generic/named: four named classes,
 * fixed splits, no video): train, predict with the corpus' class names, and the refusals.
 * One short run is shared by the tests of this file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hardyMer, tempDir, writeConfig } from '../support/cli.ts';

const DATA = 'fixtures/data/generic/named';
const run = (...args: string[]) => hardyMer(args);

let dir = '';
let runDir = '';
let cfg = '';

before(() => {
  dir = tempDir('generic-e2e');
  runDir = join(dir, 'run');
  cfg = writeConfig(dir, [
    'model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 }',
    'teacher: { epochs: 2, stage1Epochs: 1 }',
    'student: { epochs: 2, stage1Epochs: 1 }',
    'momke: { epochs: 2, stage1Epochs: 1 }',
    'finetune: { epochs: 1 }',
    'optim: { lr: 0.003, batchSize: 4 }',
  ]);
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

test('provenance in run.json: version, commit when in git, node, engine path and threads, data fingerprint, command line', () => {
  const p = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).provenance;
  assert.match(p.version, /^\d+\.\d+\.\d+/);
  assert.equal(p.node, process.version);
  assert.ok(['native', 'xnnpack', 'stock'].includes(p.engine.matmul) && p.engine.threads >= 1, JSON.stringify(p.engine));
  assert.equal(p.data.labelFile, join(DATA, 'labels.csv'));
  assert.equal(p.data.labelSha256, createHash('sha256').update(readFileSync(join(DATA, 'labels.csv'))).digest('hex'));
  assert.deepEqual([p.data.utterances, p.data.features, p.data.dims], [9, 18, { a: 4, t: 3 }]);
  assert.match(p.data.featureSha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(p.command.slice(0, 3), ['train', '--data', DATA]);
  if (existsSync('.git')) assert.match(p.commit, /^[0-9a-f]{40}(\+dirty)?$/);
});

test('eval --missing-rates and --conditions, compare --format md/json/csv, and the reports show curves and provenance', () => {
  const momke = join(dir, 'momke');
  const md = run('eval', '--run', runDir, '--format', 'md');
  assert.match(md.stdout, /^\| condition \| WA \| UA \| F1w \| F1m \|$/m);
  assert.equal(run('train', '--data', DATA, '--method', 'momke', '--config', cfg, '--conditions', 'a,at', '--out', momke, '--quiet').status, 0);
  for (const r of [runDir, momke]) {
    const e = run('eval', '--run', r, '--conditions', 'a,at,t', '--missing-rates', '0,0.5', '--format', 'json');
    assert.equal(e.status, 0, e.stderr);
    const res = JSON.parse(e.stdout);
    assert.deepEqual(Object.keys(res.conditions).sort(), ['a', 'at', 't'], 'own models for a, at; t answered by both');
    assert.deepEqual(res.robustness.rates, [0, 0.5]);
    assert.deepEqual(Object.keys(res.robustness.byRate), ['r=0', 'r=0.5']);
    assert.deepEqual(JSON.parse(readFileSync(join(r, 'eval.json'), 'utf8')), res);
  }
  // the masks depend on (seed, fold, rate) only: both runs were scored on the same ones
  const masks = (r: string) => readFileSync(join(r, 'eval-masks/seed-1/fold-1/rate-0.5.json'), 'utf8');
  assert.equal(masks(runDir), masks(momke));
  const page = join(dir, 'cmp.html');
  const c = run('compare', runDir, momke, '--format', 'md', '--out', page);
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stdout, /^\| method \| a \| at \| t \| r=0 \| r=0\.5 \| average \|$/m);
  assert.match(c.stdout, /^\| vs momke \|/m);
  assert.match(c.stdout, /^\| hardy \| [+−]\d+\.\d\d \(n=1\) \|/m, 'one seed, one fold: a difference without an interval');
  const json = JSON.parse(run('compare', runDir, momke, '--format', 'json', '--baseline', 'hardy', '--out', page).stdout);
  assert.equal(json.baseline, 'hardy');
  assert.equal(json.rows.length, 2);
  const csv = run('compare', runDir, momke, '--format', 'csv', '--out', page).stdout.trim().split('\n');
  assert.equal(csv.length, 1 + 2 * 6);
  const html = readFileSync(page, 'utf8');
  assert.match(html, /<section id="robustness"><h2>[^<]*<\/h2><figure class="chart"><svg/);
  assert.ok(html.includes('labelSha256'));
  const rep = run('report', '--run', runDir, '--baseline', momke);
  assert.equal(rep.status, 0, rep.stderr);
  const report = readFileSync(join(runDir, 'report.html'), 'utf8');
  assert.match(report, /<section id="robustness"><h2>[^<]*<\/h2>(<p class="intro">[^<]*<\/p>)?<figure class="chart"><svg/);
  assert.match(report, /<section id="provenance">.*featureSha256/s);
  const bad = run('compare', runDir);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /compare needs at least two run folders/);
});
