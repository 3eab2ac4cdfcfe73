// Issue 15, items 1, 2 and 7, through the real CLI: hostile label pickles (shared-reference DAGs,
// deep nesting, huge integers), feature files that are FIFOs or devices, and terminal escapes in
// ids. Each must give one short, escaped line and exit 1, quickly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, symlinkSync, unlinkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../../src/data/load.ts';
import { HardyError } from '../../src/util/errors.ts';
import { deepList, FEATURE_DIRS, hugeInt, sharedDag, writeCorpus, type CorpusParts } from '../support/hostile-corpus.ts';
import { hardyMer, tempDir } from '../support/cli.ts';

const inspect = (dir: string) => hardyMer(['inspect', '--data', dir], { timeout: 60_000 });

/** One line on stderr, short, without escape characters or a stack trace, exit 1. */
function assertOneCleanLine(r: ReturnType<typeof inspect>, pattern: RegExp): void {
  assert.equal(r.signal, null, 'finished before the timeout');
  assert.equal(r.status, 1, r.stderr.slice(0, 500));
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr.slice(0, 500));
  assert.ok(lines[0]!.length < 600, `${lines[0]!.length} characters`);
  assert.doesNotMatch(r.stderr, /[\x00-\x08\x0b-\x1f\x7f]/);
  assert.match(lines[0]!, pattern);
}

function withCorpus(parts: CorpusParts, f: (dir: string) => void): void {
  const root = tempDir('hostile');
  try {
    writeCorpus(join(root, 'c'), parts);
    f(join(root, 'c'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const cases: Array<[string, CorpusParts, RegExp]> = [
  ['a label that is [L, L] nested 40 deep (2^40 nodes)', { label: sharedDag(40) }, /utterance 'Ses01F_impro01_F000' \(dialogue 'Ses01F_impro01'\) has label a list\/tuple of 2 items, expected an integer class/],
  ['a uid that is a shared DAG', { uid: sharedDag(40) }, /videoIDs\['Ses01F_impro01'\]\[0\] is a list\/tuple of 2 items, expected a string/],
  ['a speaker that is a shared DAG', { speaker: sharedDag(40) }, /videoSpeakers\['Ses01F_impro01'\]\[0\] is a list\/tuple of 2 items/],
  ['a dialogue key that is a tuple DAG', { vid: sharedDag(40, true) }, /a key of videoIDs is a list\/tuple of 2 items, expected a string/],
  ['a label nested 100,000 lists deep (String() of it overflows the stack)', { label: deepList(100_000) }, /has label a list\/tuple of 1 item,/],
  ['a LONG4 label of 64 KiB', { label: hugeInt(65536) }, /has label an integer of about 524288 bits, expected an integer class/],
  ['a uid with terminal escapes', { uid: 'Ses01F_impro01_F000\x1b]0;pwned\x07\x1b[31m' }, /no feature for utterance 'Ses01F_impro01_F000\\x1b\]0;pwned\\x07\\x1b\[31m'/],
];

// Each case through the loader in-process (fast), and the two the issue reported through the CLI.
for (const [what, parts, pattern] of cases) {
  test(`the loader refuses ${what} with a short, escaped message, quickly`, () =>
    withCorpus(parts, (dir) => {
      const t0 = performance.now();
      assert.throws(() => loadCorpus(dir), (err: unknown) => {
        assert.ok(err instanceof HardyError, String(err));
        assert.ok(err.message.length < 600, `${err.message.length} characters`);
        assert.doesNotMatch(err.message, /[\x00-\x1f\x7f]/);
        assert.match(err.message, pattern);
        return true;
      });
      assert.ok(performance.now() - t0 < 60_000, 'no hang (the DAG cases took hours before)');
    }));
}

test('inspect (the CLI) refuses the 7 KB shared-DAG label pickle at once, and escapes a uid\'s terminal escapes', () => {
  withCorpus(cases[0]![1], (dir) => assertOneCleanLine(inspect(dir), cases[0]![2]));
  withCorpus(cases[6]![1], (dir) => assertOneCleanLine(inspect(dir), cases[6]![2]));
});

test('inspect refuses a feature file that is a FIFO, directly or through a symlink, without blocking', () => {
  withCorpus({}, (dir) => {
    const file = join(dir, 'features', FEATURE_DIRS.a, 'Ses01F_impro01_M000.npy');
    unlinkSync(file);
    const made = spawnSync('mkfifo', [file]);
    assert.equal(made.status, 0, 'mkfifo is available');
    assertOneCleanLine(inspect(dir), /Ses01F_impro01_M000\.npy: cannot read \.npy file: it is a FIFO \(named pipe\), expected a regular file/);
    renameSync(file, join(dir, 'fifo'));
    symlinkSync(join(dir, 'fifo'), file);
    assert.throws(() => loadCorpus(dir), /Ses01F_impro01_M000\.npy: cannot read \.npy file: it is a FIFO/);
  });
});

test('inspect refuses a feature file linked to /dev/zero, and accepts one linked to a regular file', () => {
  withCorpus({}, (dir) => {
    const file = join(dir, 'features', FEATURE_DIRS.t, 'Ses02F_impro02_F000.npy');
    const kept = join(dir, 'kept.npy');
    renameSync(file, kept);
    symlinkSync('/dev/zero', file);
    assertOneCleanLine(inspect(dir), /Ses02F_impro02_F000\.npy: cannot read \.npy file: it is a character device, expected a regular file/);
    unlinkSync(file);
    symlinkSync(kept, file);
    assert.equal(loadCorpus(dir).dims.t, 5);
  });
});

test('the loader refuses a label pickle that is /dev/zero', () => {
  withCorpus({}, (dir) => {
    const label = join(dir, 'IEMOCAP_features_raw_4way.pkl');
    unlinkSync(label);
    symlinkSync('/dev/zero', label);
    assert.throws(() => loadCorpus(dir), /IEMOCAP_features_raw_4way\.pkl: cannot read pickle: it is a character device/);
  });
});
