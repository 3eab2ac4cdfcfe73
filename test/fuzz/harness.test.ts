// The bench's hang and out-of-memory guard: `bench/fuzz/run.ts --self-check` runs a reader that hangs
// in case 3 and exhausts its worker's heap in case 5; both must be reported by case number, and the
// other six cases must still run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('the fuzz bench names a hanging case and an out-of-memory case, then carries on', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/fuzz/run.ts', '--self-check', '--hang-ms', '5000'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as unknown;
  assert.deepEqual(last, { bench: 'fuzz-self-check', cases: 8, completed: 6, caught: '3,5', ok: true });
  assert.match(r.stdout, /case 3: no progress for 5 s \(hang\)/);
  assert.match(r.stdout, /case 5: worker died: .*memory/);
});
