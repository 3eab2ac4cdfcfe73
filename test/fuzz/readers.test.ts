// Fast subset of the reader fuzzer (the long run is `npm run bench:fuzz`): fixed seeds, a few hundred
// mutated cases per reader, the same oracle; plus checks that the oracle itself catches what it must.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseInput, DEFAULT_LIMITS, formatFailure, judge, makeTargets, READERS, runFuzz, type Target } from '../support/fuzz/core.ts';
import { HardyError } from '../../src/util/errors.ts';

const targets = makeTargets();
const CASES = 250;

for (const reader of READERS) {
  test(`fuzz ${reader}: ${CASES} mutated fixtures, each a value or a HardyError, fast, bounded memory`, () => {
    const t = targets[reader];
    assert.ok(t.corpus.length >= 4, `${reader} has a corpus of valid inputs`);
    for (const seed of [101, 202]) {
      const s = runFuzz(t, seed, 0, CASES / 2);
      assert.deepEqual(s.failures.map(formatFailure), []);
      assert.equal(s.cases, CASES / 2);
      // the mutations are neither all rejected nor all harmless: both paths are exercised
      assert.ok(s.values > 0 && s.errors > 0, `${reader} seed ${seed}: ${s.values} values, ${s.errors} errors`);
    }
  });
}

test('every unmutated fixture in each corpus reads to a value', () => {
  for (const reader of READERS) {
    const t = targets[reader];
    for (const [i, input] of t.corpus.entries()) assert.doesNotThrow(() => t.read(input, t.source), `${reader} corpus #${i}`);
  }
});

test('cases are reproducible from (seed, case) and differ between cases', () => {
  const t = targets.pickle;
  assert.deepEqual(caseInput(t, 7, 42), caseInput(t, 7, 42));
  assert.notDeepEqual(caseInput(t, 7, 42), caseInput(t, 7, 43));
});

test('the oracle fails crashes other than HardyError, unnamed files, slow cases and oversized results', () => {
  const fake = (read: Target['read']): Target => ({ ...targets.npy, read });
  const input = new Uint8Array(100);
  assert.equal(judge(fake(() => 1), input).failure, undefined);
  assert.equal(judge(fake((_b, src) => { throw new HardyError(`${src}: bad`); }), input).failure, undefined);
  assert.match(judge(fake(() => { throw new RangeError('Invalid array length'); }), input).failure ?? '', /threw RangeError/);
  assert.match(judge(fake(() => { throw new TypeError('x is undefined'); }), input).failure ?? '', /threw TypeError/);
  assert.match(judge(fake(() => { throw new HardyError('no file named'); }), input).failure ?? '', /does not name the file/);
  const recurse = (n: number): number => recurse(n + 1) + 1;
  assert.match(judge(fake(() => recurse(0)), input).failure ?? '', /threw RangeError: Maximum call stack/);
  assert.match(judge(fake(() => new Float64Array(1 << 20)), input).failure ?? '', /returned about 8388608 bytes from a 100-byte input/);
  const busy = (): number => { const t0 = performance.now(); while (performance.now() - t0 < 30); return 0; };
  assert.match(judge(fake(busy), input, { ...DEFAULT_LIMITS, maxCaseMs: 10 }).failure ?? '', /took \d+ ms \(limit 10 ms\)/);
});
