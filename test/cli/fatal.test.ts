// The CLI's top-level handler (issue 15 item 5): one line, never a stack trace, and the exit codes
// the README documents; an unexpected error's stack goes to a log file named in the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { EXIT_ERROR, EXIT_INTERNAL, reportFatal } from '../../src/cli/fatal.ts';
import { HardyError } from '../../src/util/errors.ts';

function capture(err: unknown): { code: number; text: string } {
  let text = '';
  const code = reportFatal(err, ['train', '--out', 'x'], (l) => { text += l; });
  return { code, text };
}

test('a HardyError is its message on one line, control characters escaped, exit 1', () => {
  const { code, text } = capture(new HardyError("f.pkl: utterance 'a\x1b[2Jb' is bad"));
  assert.equal(code, EXIT_ERROR);
  assert.equal(text, "hardy-mer: f.pkl: utterance 'a\\x1b[2Jb' is bad\n");
});

test('a full disk or a read-only file system names the path and the code, exit 1, no stack', () => {
  for (const [errno, words] of [['ENOSPC', 'no space left on device'], ['EROFS', 'read-only file system']] as const) {
    const err = Object.assign(new Error(`${errno}: write failed`), { code: errno, syscall: 'write', path: '/runs/r1/seed-1/x.bin' });
    const { code, text } = capture(err);
    assert.equal(code, EXIT_ERROR);
    assert.match(text, new RegExp(`^hardy-mer: write /runs/r1/seed-1/x\\.bin: ${words} \\(${errno}\\)`));
    assert.equal(text.split('\n').length, 2);
    assert.doesNotMatch(text, /\n\s+at /);
  }
});

test('an unexpected error is one short line naming a log file that holds the stack, exit 70', () => {
  const huge = new TypeError('x'.repeat(40_000) + '\nminified glue');
  const { code, text } = capture(huge);
  assert.equal(code, EXIT_INTERNAL);
  assert.equal(text.split('\n').length, 2);
  assert.ok(text.length < 400, `${text.length} characters`);
  const log = /\(details: (\S+\.log)\)\n$/.exec(text)?.[1];
  assert.ok(log && existsSync(log), text);
  const body = readFileSync(log, 'utf8');
  assert.match(body, /^hardy-mer train --out x\n/);
  assert.match(body, /TypeError: x+/);
  assert.match(body, /\n\s+at /);
  rmSync(log);
});
