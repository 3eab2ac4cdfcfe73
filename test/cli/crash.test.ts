import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashTrial, referenceRun } from '../support/crash.ts';
import { inTempDir, synthTiny } from '../support/cli.ts';

test('SIGKILL at seeded random moments of `train`: no torn file, and --resume ends with the uninterrupted results', () =>
  inTempDir('crash', async (dir) => {
    const data = synthTiny(dir, 1);
    const ref = referenceRun(data, dir);
    // The kill moments are fractions of the reference run's time. On a shared machine a trial can
    // run faster than the reference did and finish before its kills, or start slower and be killed
    // before it wrote a file: such a trial proves nothing, so it is repeated (new seed, kill moments
    // compressed or stretched) up to four times. Each trial's results must still equal the reference's.
    const tries: string[] = [];
    let scale = 1;
    for (let attempt = 0; attempt < 4; attempt++) {
      const r = await crashTrial({ data, dir, reference: ref.stdout, referenceSeconds: ref.seconds * scale, points: 2, seed: 7 + attempt });
      // equal (not ok) so that a failure shows where the resumed results differ, with the kill moments
      assert.equal(r.stdout, ref.stdout, `resumed results equal the uninterrupted run (seed ${7 + attempt}, kills at ${r.kills.join(', ')} ms of ${ref.seconds.toFixed(1)} s)`);
      tries.push(`${r.kills} ms: ${r.killed} landed, ${r.jsonFilesChecked} JSON files checked`);
      if (r.killed === 0) scale /= 2; // finished before its kills
      else if (r.jsonFilesChecked === 0) scale *= 1.5; // killed before it wrote anything
      else return;
    }
    assert.fail(`no kill landed while the run folder had files in 4 trials (${tries.join('; ')}; reference ${ref.seconds.toFixed(1)} s)`);
  }));
