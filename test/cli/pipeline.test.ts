/**
 * The real binary end to end on a tiny synthetic corpus: train -> eval -> predict -> serve, the
 * run-folder guard, and bad flags. One short training run is shared by the tests of this file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../../src/data/index.ts';
import { hardyMer, startHardyMer, synthTiny, tempDir, writeConfig } from '../support/cli.ts';

const run = (...args: string[]) => hardyMer(args);

let dir = '';
let data = '';
let runDir = '';
let trainJson: { conditions: Record<string, { mean: Record<string, number> }>; average: Record<string, number>; selection: string };

before(() => {
  dir = tempDir('e2e');
  data = synthTiny(dir, 1);
  runDir = join(dir, 'run');
  const cfg = writeConfig(dir, [
    'model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 }',
    'teacher: { epochs: 2, stage1Epochs: 1 }',
    'student: { epochs: 2, stage1Epochs: 1 }',
    'finetune: { epochs: 1 }',
    'optim: { lr: 0.003, batchSize: 4 }',
  ]);
  // What a run killed while writing its first file leaves: only that file's temporary copy.
  mkdirSync(runDir);
  writeFileSync(join(runDir, '.run.json.4242.1764259200000.tmp'), '{"identi');
  const r = run('train', '--data', data, '--config', cfg, '--folds', '1,2', '--conditions', 'a,at', '--out', runDir, '--json', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  trainJson = JSON.parse(r.stdout);
  assert.ok(!readdirSync(runDir).some((n) => n.endsWith('.tmp')), 'the leftover temporary file is removed');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('train --json prints the results object and saves it as results.json', () => {
  assert.deepEqual(Object.keys(trainJson.conditions), ['a', 'at']);
  assert.equal(trainJson.selection, 'val');
  for (const c of ['a', 'at']) {
    for (const k of ['WA', 'UA', 'F1w', 'F1m']) {
      const v = trainJson.conditions[c]!.mean[k]!;
      assert.ok(v >= 0 && v <= 1, `${c} ${k} = ${v}`);
    }
  }
  assert.ok(Math.abs(trainJson.average.WA! - (trainJson.conditions.a!.mean.WA! + trainJson.conditions.at!.mean.WA!) / 2) < 1e-9);
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')), trainJson);
  assert.ok(existsSync(join(runDir, 'config.json')), 'resolved config written next to the results');
});

test('--version prints the version of package.json, which every run records in run.json', () => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.match(version, /^\d+\.\d+\.\d+/);
  const r = run('--version');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${version}\n`);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).provenance.version, version);
});

test('eval re-scores the saved models to the same numbers', () => {
  const r = run('eval', '--run', runDir, '--json');
  assert.equal(r.status, 0, r.stderr);
  const ev = JSON.parse(r.stdout);
  for (const c of ['a', 'at']) assert.deepEqual(ev.conditions[c].mean, trainJson.conditions[c]!.mean);
});

test('a second run into the same folder is refused; --resume with the same request skips finished units', () => {
  const again = run('train', '--data', data, '--folds', '1,2', '--conditions', 'a,at', '--out', runDir, '--quiet');
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /already holds a run; pass --resume/);
  const other = run('train', '--data', data, '--folds', '1', '--out', runDir, '--resume', '--quiet');
  assert.notEqual(other.status, 0);
  assert.match(other.stderr, /different run/);
});

/** A request with the first 3 utterances of the first test dialogue: audio only, audio+text. */
function request(): string {
  const corpus = loadCorpus(data);
  const d = corpus.dialogues.find((x) => x.session === 1)!;
  const utterances = d.utterances.slice(0, 3).map((u, i) => ({
    id: u.id,
    dialogue: d.id,
    features: i === 1 ? { a: Array.from(u.features.a) } : { a: Array.from(u.features.a), t: Array.from(u.features.t) },
  }));
  return JSON.stringify({ utterances });
}

test('predict: probabilities, label and modalities used per utterance; a missing condition is named', () => {
  const input = join(dir, 'req.json');
  writeFileSync(input, request());
  const r = run('predict', '--run', runDir, '--input', input, '--json');
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.utterances.length, 3);
  assert.deepEqual(res.utterances.map((u: { used: string[] }) => u.used.join('')), ['at', 'a', 'at']);
  for (const u of res.utterances) {
    assert.equal(u.probs.length, 4);
    assert.ok(Math.abs(u.probs.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-5);
    assert.equal(u.label, ['happy', 'sad', 'neutral', 'angry'][u.probs.indexOf(Math.max(...u.probs))]);
    // hardy runs have a teacher: the hardness of the nearest training utterances, in [0, 1]
    assert.ok(u.hardness > 0 && u.hardness < 1, `hardness ${u.hardness}`);
  }
  const vOnly = join(dir, 'v.json');
  writeFileSync(vOnly, JSON.stringify({ utterances: [{ id: 'x', features: { v: new Array(16).fill(0.1) } }] }));
  const bad = run('predict', '--run', runDir, '--input', vOnly);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /condition 'v'.*available: a, at/);
});

test('serve: health, models, predict identical to the CLI, 400 on malformed requests, clean shutdown', async () => {
  const child = startHardyMer(['serve', '--run', runDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /listening (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    // Listening comes first; /ready turns 200 once the worker has loaded the models.
    while ((await fetch(`${url}/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string; version: string };
    assert.equal(health.status, 'ok');
    assert.equal(health.version, JSON.parse(readFileSync('package.json', 'utf8')).version);
    const models = (await (await fetch(`${url}/models`)).json()) as { models: Array<{ condition: string }> };
    assert.deepEqual(models.models.map((m: { condition: string }) => m.condition), ['a', 'at']);
    const body = request();
    const res = await fetch(`${url}/predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    const input = join(dir, 'req2.json');
    writeFileSync(input, body);
    const cli = JSON.parse(run('predict', '--run', runDir, '--input', input, '--json').stdout);
    assert.deepEqual(await res.json(), cli);
    for (const bad of ['{', '{"utterances":[{"id":"x","features":{"a":[1,2]}}]}', '{"utterances":[]}']) {
      const r = await fetch(`${url}/predict`, { method: 'POST', body: bad });
      assert.equal(r.status, 400, bad);
      assert.ok(((await r.json()) as { message: string }).message.length > 0);
    }
  } finally {
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
  }
});

test('help on every command; bad flags give usage and a non-zero exit', () => {
  for (const cmd of ['synth', 'inspect', 'train', 'eval', 'report', 'predict', 'serve', 'demo']) {
    const r = run(cmd, '--help');
    assert.equal(r.status, 0, cmd);
    assert.match(r.stdout, new RegExp(`Usage: hardy-mer ${cmd}`));
  }
  const unknown = run('train', '--data', data, '--bogus');
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /unknown option '--bogus'/);
  const badCond = run('train', '--data', data, '--conditions', 'a,x', '--out', join(dir, 'nope'));
  assert.notEqual(badCond.status, 0);
  assert.match(badCond.stderr, /unknown condition 'x'/);
  const badMethod = run('train', '--data', data, '--method', 'magic');
  assert.notEqual(badMethod.status, 0);
  assert.match(badMethod.stderr, /Allowed choices are/);
});

test('finite but huge features: refused naming the utterance (range from the run), never answered with NaN', async () => {
  const saved = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).corpus.featureAbsMax;
  assert.ok(saved.a > 0 && saved.t > 0 && saved.v > 0, 'the run records its features\' range');
  const req = JSON.parse(request()) as { utterances: Array<{ id: string; features: { a: number[] } }> };
  req.utterances[1]!.features.a[0] = 1e21;
  const input = join(dir, 'huge.json');
  writeFileSync(input, JSON.stringify(req));
  const r = run('predict', '--run', runDir, '--input', input, '--json');
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`utterance '${req.utterances[1]!.id}': modality 'a' value 0 is 1e\\+21, outside the range this run accepts`));
  // behind validation, the predictor itself refuses an overflow for the whole dialogue instead of returning NaN
  const { initEngine } = await import('../../src/engine/backend.ts');
  const { RunPredictor } = await import('../../src/serve/run-predictor.ts');
  await initEngine();
  const p = RunPredictor.load(runDir);
  try {
    const a = Float32Array.from(req.utterances[0]!.features.a);
    const ok = { id: 'ok', condition: 'a' as const, features: { a } };
    const huge = { id: 'huge', condition: 'a' as const, features: { a: new Float32Array(a.length).fill(1e30) } };
    await assert.rejects(p.predict({ dialogues: [{ id: 'd', utterances: [ok, huge] }] }), /dialogue 'd': the model's output is not finite for utterance .*'huge'/);
    const alone = await p.predict({ dialogues: [{ id: 'd', utterances: [ok] }] });
    assert.ok(alone.utterances[0]!.probs!.every(Number.isFinite));
  } finally {
    p.dispose();
  }
});

test('a dialogue gets the same answer alone and among other dialogues (as when the server merges requests): features, neighbours and hardness bit-identical', async () => {
  const { initEngine } = await import('../../src/engine/backend.ts');
  const { RunPredictor } = await import('../../src/serve/run-predictor.ts');
  await initEngine();
  const p = RunPredictor.load(runDir);
  try {
    // Whole dialogues, every utterance with audio and half with text too: both conditions, many rows.
    const dialogues = loadCorpus(data).dialogues.slice(0, 5).map((d) => ({
      id: d.id,
      utterances: d.utterances.map((u, i) => ({ id: u.id, condition: (i % 2 ? 'a' : 'at') as 'a' | 'at', features: i % 2 ? { a: u.features.a } : { a: u.features.a, t: u.features.t } })),
    }));
    const alone = await p.predict({ dialogues: [dialogues[2]!], explain: true });
    const among = await p.predict({ dialogues, explain: true });
    const mine = among.utterances.filter((u) => u.dialogue === dialogues[2]!.id);
    assert.equal(mine.length, alone.utterances.length);
    alone.utterances.forEach((u, i) => {
      const v = mine[i]!;
      // The neighbour distances come straight from the transformed features: any change in their
      // last bits (a pipeline run over several dialogues at once) shows here.
      assert.deepEqual(v.neighbours, u.neighbours, `${u.id}: neighbours`);
      assert.equal(v.hardness, u.hardness, `${u.id}: hardness`);
      assert.equal(v.label, u.label);
      u.probs!.forEach((q, k) => assert.ok(Math.abs(q - v.probs![k]!) < 1e-6, `${u.id} class ${k}: ${q} vs ${v.probs![k]}`));
    });
  } finally {
    p.dispose();
  }
});
