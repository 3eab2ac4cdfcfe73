/**
 * The baselines through the real binary on the tiny corpus: `--method mmin` under the random-missing
 * protocol and `--method gcnet` under fixed conditions, then eval, predict and a report that puts
 * the two runs side by side.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../../src/data/index.ts';
import { hardyMer, synthTiny, tempDir, writeConfig } from '../support/cli.ts';

const run = (...args: string[]) => hardyMer(args);

let dir = '';
let data = '';
const results: Record<string, { protocol: string; conditions: Record<string, { mean: Record<string, number> }> }> = {};

before(() => {
  dir = tempDir('baselines');
  data = synthTiny(dir, 1);
  const cfg = writeConfig(dir, ['model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 }', 'mmin: { epochs: 3, stage1Epochs: 1 }', 'gcnet: { epochs: 2, stage1Epochs: 0 }', 'finetune: { epochs: 1 }', 'optim: { lr: 0.003, batchSize: 4 }']);
  for (const [method, extra] of [['mmin', ['--protocol', 'random:0.5']], ['gcnet', ['--conditions', 'a,at']]] as const) {
    const r = run('train', '--data', data, '--config', cfg, '--method', method, '--folds', '1', ...extra, '--out', join(dir, method), '--json', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    results[method] = JSON.parse(r.stdout);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('train: both protocols, metrics in range; eval re-scores to the same numbers', () => {
  assert.equal(results.mmin!.protocol, 'random:0.5');
  assert.deepEqual(Object.keys(results.gcnet!.conditions), ['a', 'at']);
  for (const method of ['mmin', 'gcnet']) {
    const ev = run('eval', '--run', join(dir, method), '--json');
    assert.equal(ev.status, 0, ev.stderr);
    const got = JSON.parse(ev.stdout) as (typeof results)[string];
    for (const [c, r] of Object.entries(results[method]!.conditions)) {
      const wa = r.mean.WA!;
      assert.ok(wa >= 0 && wa <= 1, `${method} ${c} WA ${wa}`);
      assert.deepEqual(got.conditions[c]!.mean, r.mean, `${method} ${c}`);
    }
  }
});

test('predict: a random-missing MMIN run serves any subset; GCNet serves its conditions, with speakers', () => {
  const corpus = loadCorpus(data);
  const d = corpus.dialogues.find((x) => x.session === 1)!;
  const utterances = d.utterances.slice(0, 3).map((u, i) => ({
    id: u.id,
    dialogue: d.id,
    speaker: u.speaker,
    features: i === 1 ? { a: Array.from(u.features.a) } : { a: Array.from(u.features.a), t: Array.from(u.features.t) },
  }));
  const input = join(dir, 'req.json');
  writeFileSync(input, JSON.stringify({ utterances }));
  for (const method of ['mmin', 'gcnet']) {
    const r = run('predict', '--run', join(dir, method), '--input', input, '--json');
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { utterances: { probs: number[]; used: string[] }[] };
    assert.deepEqual(res.utterances.map((u) => u.used.join('')), ['at', 'a', 'at']);
    for (const u of res.utterances) assert.ok(Math.abs(u.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
});

test('report: the GCNet run beside the MMIN run', () => {
  const out = join(dir, 'report.html');
  const r = run('report', '--run', join(dir, 'gcnet'), '--baseline', join(dir, 'mmin'), '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /gcnet/);
  assert.match(html, /mmin/);
});
