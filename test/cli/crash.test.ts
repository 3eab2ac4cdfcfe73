import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashTrial, referenceRun } from '../support/crash.ts';
import { inTempDir, synthTiny } from '../support/cli.ts';

test('SIGKILL at seeded random moments of `train`: no torn file, and --resume ends with the uninterrupted results', () =>
  inTempDir('crash', async (dir) => {
    const data = synthTiny(dir, 1);
    const ref = referenceRun(data, dir);
    const r = await crashTrial({ data, dir, reference: ref.stdout, referenceSeconds: ref.seconds, points: 2, seed: 7 });
    assert.ok(r.killed >= 1, `at least one kill landed before the run finished (kills at ${r.kills} ms of ${ref.seconds.toFixed(1)} s)`);
    assert.ok(r.jsonFilesChecked > 0);
    assert.ok(r.identical, 'resumed results equal the uninterrupted run');
  }));
