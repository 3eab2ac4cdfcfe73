// Regressions for config-reader problems found by the fuzzer (issue 8): slow deep nesting, huge files,
// YAML that does not mean what it looks like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, readConfigFile } from '../../src/cli/config.ts';
import { HardyError } from '../../src/util/errors.ts';

const refused = (path: string, pattern: RegExp) => (e: unknown): boolean => e instanceof HardyError && e.message.startsWith(path) && pattern.test(e.message);

function timed(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

test('deeply nested YAML is refused at once (the parser took 3-5 s on 5,000 nested block sequences)', () => {
  for (const text of [`folds:\n${'- '.repeat(5000)}1\n`, `model: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}\n`, `x:\n${'['.repeat(10000)}\n`]) {
    const ms = timed(() => assert.throws(() => parseConfigText(text, 'deep.yaml'), refused('deep.yaml', /nests about \d+ levels/)));
    assert.ok(ms < 200, `${ms} ms`);
  }
  assert.throws(() => parseConfigText(`{"folds": ${'['.repeat(20000)}1${']'.repeat(20000)}}`, 'deep.json'), refused('deep.json', /nests/));
});

test('nesting within the limit still parses and is judged by the schema', () => {
  assert.throws(() => parseConfigText(`folds:\n${'- '.repeat(10)}1\n`, 'ok.yaml'), refused('ok.yaml', /invalid config: \/folds\/0 must be integer/));
  assert.deepEqual(parseConfigText('protocol: {kind: random, missingRate: 0.25}\nconditions: [a, tv]\n', 'ok.yaml'), {
    protocol: { kind: 'random', missingRate: 0.25 },
    conditions: ['a', 'tv'],
  });
});

test('a config file far larger than any real config is refused by its size, from disk too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-fuzz-'));
  const file = join(dir, 'big.yaml');
  writeFileSync(file, `seed: 1\n${'# padding\n'.repeat(10000)}`);
  assert.throws(() => readConfigFile(file), refused(file, /config file of \d+ characters/));
});

test('YAML warnings (unresolved tags, collection keys) are refused rather than silently reinterpreted', () => {
  assert.throws(() => parseConfigText('seed: !custom 3\n', 't.yaml'), refused('t.yaml', /not valid YAML .*tag/i));
  assert.throws(() => parseConfigText('? [a, b]\n: 1\n', 'k.yaml'), refused('k.yaml', /not valid YAML|invalid config/));
});

test('an alias bomb is refused without expanding it', () => {
  let s = 'l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++) s += `l${i}: &l${i} [${new Array<string>(10).fill(`*l${i - 1}`).join(', ')}]\n`;
  const ms = timed(() => assert.throws(() => parseConfigText(s, 'bomb.yaml'), refused('bomb.yaml', /not valid YAML .*alias/i)));
  assert.ok(ms < 1000, `${ms} ms`);
});
