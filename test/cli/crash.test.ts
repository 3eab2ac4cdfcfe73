import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashTrial, referenceRun } from '../support/crash.ts';
import { inTempDir, synthTiny } from '../support/cli.ts';

test('SIGKILL at seeded random moments of `train`: no torn file, and --resume ends with the uninterrupted results', () =>
  inTempDir('crash', async (dir) => {
    const data = synthTiny(dir, 1);
    const ref = referenceRun(data, dir);
    // The kill moments are fractions of the reference run's time. On a shared machine a trial can
    // run faster than the reference did and finish before its kills: such a trial proves nothing,
    // so it is repeated (new seed, kill moments compressed) up to three times. Each trial's results
    // must still equal the reference's.
    const kills: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await crashTrial({ data, dir, reference: ref.stdout, referenceSeconds: ref.seconds / 2 ** attempt, points: 2, seed: 7 + attempt });
      // equal (not ok) so that a failure shows where the resumed results differ, with the kill moments
      assert.equal(r.stdout, ref.stdout, `resumed results equal the uninterrupted run (seed ${7 + attempt}, kills at ${r.kills.join(', ')} ms of ${ref.seconds.toFixed(1)} s)`);
      kills.push(`${r.kills} ms`);
      if (r.killed === 0) continue;
      assert.ok(r.jsonFilesChecked > 0);
      return;
    }
    assert.fail(`no kill landed before the run finished in 3 trials (kills at ${kills.join('; ')}; reference ${ref.seconds.toFixed(1)} s)`);
  }));
