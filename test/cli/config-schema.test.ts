import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { checkPartialConfig, configFileSchemaText, readConfigFile } from '../../src/cli/config.ts';
import { DEFAULT_CONFIG, RunConfigSchema } from '../../src/train/config.ts';

const SCHEMA_FILE = new URL('../../configs/schema.json', import.meta.url);

test('configs/schema.json is the schema the config definition generates (npm run schema rewrites it)', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), configFileSchemaText());
});

test('the defaults are the paper values and satisfy the full schema', () => {
  const ajv = new Ajv({ allErrors: true });
  assert.ok(ajv.validate(RunConfigSchema, DEFAULT_CONFIG), JSON.stringify(ajv.errors));
  assert.deepEqual(
    { model: DEFAULT_CONFIG.model, student: DEFAULT_CONFIG.student, optim: DEFAULT_CONFIG.optim, K: DEFAULT_CONFIG.curriculum.K, alphas: [DEFAULT_CONFIG.curriculum.alpha1, DEFAULT_CONFIG.curriculum.alpha2] },
    { model: { hidden: 256, depth: 4, heads: 2, dropout: 0.5 }, student: { epochs: 50, stage1Epochs: 25 }, optim: { lr: 1e-4, weightDecay: 1e-5, batchSize: 16 }, K: 3, alphas: [0.6, 0.4] },
  );
});

test('the schema file alone (as an editor reads it) accepts the demo config and refuses what the CLI refuses', () => {
  const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  const demo = readConfigFile(new URL('../../configs/demo.yaml', import.meta.url).pathname);
  assert.ok(validate(demo), JSON.stringify(validate.errors));
  for (const bad of [{ modle: {} }, { model: { hidden: 0 } }, { protocol: { kind: 'random', missingRate: 0.9 } }, { curriculum: { miTerm: 'both' } }, { folds: [] }]) {
    assert.equal(validate(bad), false, JSON.stringify(bad));
    assert.throws(() => checkPartialConfig(bad, 'x.json'), /x\.json: invalid config/);
  }
});
