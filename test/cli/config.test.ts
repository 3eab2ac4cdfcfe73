import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPartialConfig, readConfigFile, resolveConfig } from '../../src/cli/config.ts';
import { DEFAULT_CONFIG } from '../../src/train/config.ts';
import { HardyError } from '../../src/util/errors.ts';

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
