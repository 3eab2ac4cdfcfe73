/**
 * `hardy-mer export` / `import` on a real tiny run (two folds, two conditions, two expert layers):
 * the file is safetensors in PyTorch's layout, the import predicts exactly what the run predicts,
 * and NumPy alone (scripts/export_forward.py) rebuilds the student's probabilities to 1e-5.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../../src/data/index.ts';
import { decodeSafetensors } from '../../src/data/formats/safetensors.ts';
import { hardyMer, synthTiny, tempDir, writeConfig } from '../support/cli.ts';

const run = (...args: string[]) => hardyMer(args);

let dir = '';
let data = '';
let runDir = '';
let request = '';

before(() => {
  dir = tempDir('export');
  data = synthTiny(dir, 3);
  runDir = join(dir, 'run');
  const cfg = writeConfig(dir, ['model: { hidden: 16, depth: 2, heads: 2, dropout: 0.1 }', 'teacher: { epochs: 2, stage1Epochs: 1 }', 'student: { epochs: 2, stage1Epochs: 1 }', 'finetune: { epochs: 1 }', 'optim: { lr: 0.003, batchSize: 4 }']);
  const r = run('train', '--data', data, '--config', cfg, '--folds', '1,2', '--conditions', 'a,at', '--out', runDir, '--quiet');
  assert.equal(r.status, 0, r.stderr);
  // One test dialogue: utterances alternate between audio+text and audio only (both conditions in one dialogue).
  const d = loadCorpus(data).dialogues.find((x) => x.session === 1)!;
  const utterances = d.utterances.map((u, i) => ({ id: u.id, features: i % 3 === 1 ? { a: Array.from(u.features.a) } : { a: Array.from(u.features.a), t: Array.from(u.features.t) } }));
  request = join(dir, 'request.json');
  writeFileSync(request, JSON.stringify({ dialogues: [{ id: d.id, utterances }] }));
});

after(() => rmSync(dir, { recursive: true, force: true }));

type Prediction = { id: string; probs: number[]; label: string; hardness?: number };
const predict = (r: string): Prediction[] => {
  const p = run('predict', '--run', r, '--input', request, '--json');
  assert.equal(p.status, 0, p.stderr);
  return JSON.parse(p.stdout).utterances;
};

test('export: safetensors in PyTorch layout (weight [out, in]) and a sidecar naming every member', () => {
  const out = join(dir, 'exp', 'model.safetensors');
  const r = run('export', '--run', runDir, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(out)), out);
  assert.equal(metadata.format, 'pt');
  // d_a = 12, hidden = 16, 4 classes: nn.Linear(12, 16).weight is [16, 12]
  assert.deepEqual(tensors.get('models.at.seed1.fold2.proj.a.weight')!.shape, [16, 12]);
  assert.deepEqual(tensors.get('models.at.seed1.fold2.proj.a.bias')!.shape, [16]);
  assert.deepEqual(tensors.get('models.a.seed1.fold1.expert.t.l1.mlp.fc2.weight')!.shape, [16, 16]);
  assert.deepEqual(tensors.get('models.a.seed1.fold1.fusion.out.weight')!.shape, [4, 48]);
  assert.deepEqual(tensors.get('features.seed1.fold1.t.fc1.weight')!.shape, [16, 16]);
  assert.ok(![...tensors.keys()].some((k) => k.endsWith('.W') || k.endsWith('.b') || k.includes('.ft.')));
  const side = JSON.parse(readFileSync(join(dir, 'exp', 'model.json'), 'utf8'));
  assert.equal(side.weights, 'model.safetensors');
  assert.equal(side.kind, 'student');
  assert.deepEqual(side.corpus.classNames, ['happy', 'sad', 'neutral', 'angry']);
  assert.deepEqual(side.members.map((m: { unit: string; fold: number }) => `${m.unit}/${m.fold}`), ['a/1', 'at/1', 'a/2', 'at/2']);
  assert.deepEqual(side.architecture.dims, { a: 12, t: 16, v: 16 });
  assert.equal(side.featurePipeline.finetune, true);
  // every tensor belongs to a member's model or a fold's feature pipeline
  const prefixes = side.members.flatMap((m: { model: string; features: string }) => [m.model, m.features]);
  for (const k of tensors.keys()) assert.ok(prefixes.some((p: string) => k.startsWith(p)), k);
});

test('import: the rebuilt run predicts exactly what the trained run predicts (without the teacher\'s hardness)', () => {
  const out = join(dir, 'all.safetensors');
  assert.equal(run('export', '--run', runDir, '--out', out).status, 0);
  const imported = join(dir, 'imported');
  const r = run('import', '--model', out, '--out', imported);
  assert.equal(r.status, 0, r.stderr);
  const want = predict(runDir);
  const got = predict(imported);
  assert.deepEqual(got.map((u) => [u.id, u.label, u.probs]), want.map((u) => [u.id, u.label, u.probs]));
  assert.ok(want.every((u) => u.hardness !== undefined) && got.every((u) => u.hardness === undefined));
  assert.equal(JSON.parse(readFileSync(join(imported, 'run.json'), 'utf8')).provenance.importedFrom, out);
  const again = run('import', '--model', out, '--out', imported);
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /not empty/);
});

test('the baselines too: an exported and re-imported MMIN and GCNet run predicts exactly what it predicted', () => {
  const cfg = join(dir, 'baselines.yaml');
  writeFileSync(cfg, ['model: { hidden: 16, depth: 2, heads: 2, dropout: 0.1 }', 'mmin: { epochs: 2, stage1Epochs: 1 }', 'gcnet: { epochs: 2, stage1Epochs: 0 }', 'finetune: { epochs: 1 }', 'optim: { lr: 0.003, batchSize: 4 }'].join('\n'));
  for (const method of ['mmin', 'gcnet']) {
    const trained = join(dir, method);
    const t = run('train', '--data', data, '--config', cfg, '--method', method, '--folds', '1', '--conditions', 'a,at', '--out', trained, '--quiet');
    assert.equal(t.status, 0, t.stderr);
    const out = join(dir, `${method}.safetensors`);
    assert.equal(run('export', '--run', trained, '--out', out).status, 0);
    assert.equal(JSON.parse(readFileSync(join(dir, `${method}.json`), 'utf8')).kind, method);
    const imported = join(dir, `${method}-imported`);
    const r = run('import', '--model', out, '--out', imported);
    assert.equal(r.status, 0, r.stderr);
    const want = predict(trained);
    assert.ok(want.length > 0);
    assert.deepEqual(predict(imported).map((u) => [u.id, u.label, u.probs]), want.map((u) => [u.id, u.label, u.probs]), method);
  }
});

test('export --condition keeps only that condition; a damaged file is refused naming it, leaving nothing behind', () => {
  const out = join(dir, 'at.safetensors');
  assert.equal(run('export', '--run', runDir, '--condition', 'at', '--out', out).status, 0);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'at.json'), 'utf8')).members.map((m: { unit: string }) => m.unit), ['at', 'at']);
  const none = run('export', '--run', runDir, '--condition', 'v', '--out', join(dir, 'v.safetensors'));
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /no finished model for condition 'v'/);
  const bytes = readFileSync(out);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 4));
  writeFileSync(join(dir, 'cut.json'), readFileSync(join(dir, 'at.json')));
  const r = run('import', '--model', cut, '--out', join(dir, 'cut-run'));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /cut\.safetensors: not a valid safetensors file/);
  assert.ok(!existsSync(join(dir, 'cut-run')));
});

/** Debian's python3 with NumPy; .ci/run installs it and sets HARDY_MER_REQUIRE_NUMPY=1 so CI cannot skip. */
const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
const skipPython = numpy.status === 0 || process.env.HARDY_MER_REQUIRE_NUMPY === '1' ? false : 'python3 with NumPy not found';

test('NumPy alone rebuilds the student from the exported file: probabilities match hardy-mer to 1e-5', { skip: skipPython }, () => {
  const out = join(dir, 'py.safetensors');
  assert.equal(run('export', '--run', runDir, '--out', out).status, 0);
  const py = spawnSync('python3', ['scripts/export_forward.py', out, request], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const probs = JSON.parse(py.stdout) as Record<string, number[]>;
  const want = predict(runDir);
  assert.equal(Object.keys(probs).length, want.length);
  let worst = 0;
  for (const u of want) {
    assert.equal(probs[u.id]!.length, 4);
    for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(probs[u.id]![k]! - u.probs[k]!));
  }
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  // The check can fail: a perturbed file gives other probabilities.
  const bytes = readFileSync(out);
  const n = Number(bytes.readBigUInt64LE(0));
  bytes.writeFloatLE(bytes.readFloatLE(8 + n + 64) + 0.5, 8 + n + 64);
  writeFileSync(out, bytes);
  const off = JSON.parse(spawnSync('python3', ['scripts/export_forward.py', out, request], { encoding: 'utf8' }).stdout) as Record<string, number[]>;
  assert.ok(want.some((u) => u.probs.some((p, k) => Math.abs(p - off[u.id]![k]!) > 1e-5)));
});
