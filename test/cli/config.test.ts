import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPartialConfig, readConfigFile, resolveConfig } from '../../src/cli/config.ts';
import { DEFAULT_CONFIG } from '../../src/train/config.ts';
import { HardyError } from '../../src/util/errors.ts';
import { hardyMer } from '../support/cli.ts';

test('defaults < file < flags, nested objects merge field by field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'seed: 7\nmodel:\n  hidden: 64\ncurriculum:\n  K: 5\n  beta: 2\n');
  const cfg = resolveConfig(readConfigFile(file), { curriculum: { beta: 3 }, folds: [1, 2] });
  assert.equal(cfg.seed, 7);
  assert.equal(cfg.model.hidden, 64);
  assert.equal(cfg.model.depth, DEFAULT_CONFIG.model.depth);
  assert.equal(cfg.curriculum.K, 5);
  assert.equal(cfg.curriculum.beta, 3);
  assert.deepEqual(cfg.folds, [1, 2]);
  // The defaults object itself is never mutated.
  assert.equal(DEFAULT_CONFIG.model.hidden, 256);
});

test('JSON config files are read too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ protocol: { kind: 'random', missingRate: 0.5 } }));
  assert.deepEqual(resolveConfig(readConfigFile(file)).protocol, { kind: 'random', missingRate: 0.5 });
});

test('unknown keys, wrong types and bad values are refused with their path', () => {
  assert.throws(() => checkPartialConfig({ modle: {} }, 'x.json'), (e: unknown) => e instanceof HardyError && /x\.json/.test(e.message) && /modle/.test(e.message));
  assert.throws(() => checkPartialConfig({ model: { hidden: 'big' } }, 'x.json'), /\/model\/hidden/);
  assert.throws(() => checkPartialConfig({ conditions: ['at', 'q'] }, 'x.json'), /\/conditions\/1/);
  assert.throws(() => checkPartialConfig({ protocol: { kind: 'random', missingRate: 0.9 } }, 'x.json'), /protocol/);
  assert.throws(() => resolveConfig({ student: { stage1Epochs: 60 } }), /stage1Epochs/);
});

test('unreadable or malformed files name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  assert.throws(() => readConfigFile(join(dir, 'missing.json')), /missing\.json: cannot read/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "seed": ');
  assert.throws(() => readConfigFile(bad), /bad\.json: not valid JSON/);
});

test('--mi-term and the other train flags become a config layer that wins over the file', async () => {
  const { flagLayer } = await import('../../src/cli/commands/train.ts');
  const cfg = resolveConfig({ curriculum: { miTerm: 'shared', K: 5 } }, flagLayer({ data: 'x', method: 'hardy', miTerm: 'complement', protocol: 'random:0.3', folds: '1,3' }));
  assert.equal(cfg.curriculum.miTerm, 'complement');
  assert.equal(cfg.curriculum.K, 5);
  assert.deepEqual(cfg.protocol, { kind: 'random', missingRate: 0.3 });
  assert.deepEqual(cfg.folds, [1, 3]);
});

test('sizes, K and epochs are bounded; heads must divide hidden; flags are checked like the file', () => {
  assert.throws(() => checkPartialConfig({ model: { hidden: 1e9 } }, 'x.json'), /x\.json: invalid config: \/model\/hidden must be <= 4096/);
  assert.throws(() => checkPartialConfig({ curriculum: { K: 1e9 } }, 'x.json'), /\/curriculum\/K must be <= 256/);
  assert.throws(() => checkPartialConfig({ teacher: { epochs: 1e7 } }, 'x.json'), /\/teacher\/epochs must be <= 100000/);
  assert.throws(() => checkPartialConfig({ optim: { lr: 1e300 } }, 'x.json'), /\/optim\/lr/);
  assert.throws(() => resolveConfig({ model: { hidden: 250, heads: 3 } }), /model\.hidden \(250\) is not divisible by model\.heads \(3\)/);
  assert.doesNotThrow(() => resolveConfig({ model: { hidden: 252, heads: 3 } }));
  // a flag layer that bypassed the file's check is still refused after the merge
  assert.throws(() => resolveConfig({ folds: [1001] }), /config: invalid config: \/folds\/0 must be <= 1000/);
});

test('train refuses an out-of-bounds config with one line, exit 1, before the run folder is claimed', async () => {
  const { existsSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'model: {hidden: 1000000000}\n');
  const out = join(dir, 'run');
  const r = hardyMer(['train', '--data', 'fixtures/data/gcnet_iemocap', '--config', file, '--out', out, '--quiet'], { timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^hardy-mer: .*c\.yaml: invalid config: \/model\/hidden must be <= 4096/);
  assert.ok(!existsSync(out));
  const seeds = hardyMer(['train', '--data', 'fixtures/data/gcnet_iemocap', '--seeds', '99999999999999999999', '--out', out], { timeout: 60_000 });
  assert.equal(seeds.status, 1);
  assert.match(seeds.stderr, /--seeds takes comma-separated integers in \[0, 4294967295\]/);
  assert.ok(!existsSync(out));
  // a model's own constraint (MMIN's latents are hidden/4 wide) is a config error too, not a crash mid-run
  writeFileSync(file, 'model: {hidden: 30, heads: 2}\n');
  const mmin = hardyMer(['train', '--data', 'fixtures/data/gcnet_iemocap', '--method', 'mmin', '--config', file, '--out', out, '--quiet'], { timeout: 60_000 });
  assert.equal(mmin.status, 1, mmin.stderr);
  assert.match(mmin.stderr, /^hardy-mer: config: MMIN needs model\.hidden divisible by 4 .*got 30\n$/);
  assert.ok(!existsSync(out));
});

test('the per-dataset configs validate and hold the published schedules where they differ from the defaults', () => {
  const load = (name: string) => resolveConfig(readConfigFile(`configs/${name}.yaml`));
  for (const name of ['iemocap4', 'iemocap6']) {
    const c = load(name);
    assert.deepEqual([c.teacher, c.student, c.momke, c.optim.batchSize], [DEFAULT_CONFIG.teacher, DEFAULT_CONFIG.student, DEFAULT_CONFIG.momke, 16], name);
  }
  const mosi = load('mosi');
  assert.deepEqual([mosi.teacher, mosi.momke, mosi.optim.batchSize], [{ epochs: 300, stage1Epochs: 150 }, { epochs: 300, stage1Epochs: 150 }, 32]);
  const mosei = load('mosei');
  assert.deepEqual([mosei.teacher, mosei.momke, mosei.optim.batchSize], [{ epochs: 100, stage1Epochs: 50 }, { epochs: 100, stage1Epochs: 50 }, 32]);
  assert.deepEqual(resolveConfig({ folds: [1, 6, 12] }).folds, [1, 6, 12], 'generic corpora may have more than five groups');
});
