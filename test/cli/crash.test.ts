import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashTrial, referenceRun } from '../../bench/crash/core.ts';

test('SIGKILL at seeded random moments of `train`: no torn file, and --resume ends with the uninterrupted results', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hardy-crash-'));
  try {
    const data = join(dir, 'tiny');
    assert.equal(spawnSync(process.execPath, ['bin/hardy-mer.js', 'synth', '--out', data, '--preset', 'tiny', '--seed', '1']).status, 0);
    const ref = referenceRun(data, dir);
    const r = await crashTrial({ data, dir, reference: ref.stdout, referenceSeconds: ref.seconds, points: 2, seed: 7 });
    assert.ok(r.killed >= 1, `at least one kill landed before the run finished (kills at ${r.kills} ms of ${ref.seconds.toFixed(1)} s)`);
    assert.ok(r.jsonFilesChecked > 0);
    assert.ok(r.identical, 'resumed results equal the uninterrupted run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
