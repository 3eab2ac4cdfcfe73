// `--jobs` / `--threads` defaults (src/run/pool.ts `parallelism`): every core used, none oversubscribed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parallelism } from '../../src/run/pool.ts';

test('jobs x threads fills the cores without oversubscribing them, whichever flag is given', () => {
  assert.deepEqual(parallelism({}, 4), { jobs: 4, threads: 1 });
  assert.deepEqual(parallelism({ jobs: 2 }, 2), { jobs: 2, threads: 1 });
  assert.deepEqual(parallelism({ jobs: 2 }, 8), { jobs: 2, threads: 4 });
  assert.deepEqual(parallelism({ threads: 2 }, 8), { jobs: 4, threads: 2 });
  assert.deepEqual(parallelism({ threads: 3 }, 8), { jobs: 2, threads: 3 });
  // more than the cores when asked for: the user's choice stands, the other flag drops to 1
  assert.deepEqual(parallelism({ jobs: 3 }, 2), { jobs: 3, threads: 1 });
  assert.deepEqual(parallelism({ threads: 4 }, 2), { jobs: 1, threads: 4 });
  assert.deepEqual(parallelism({ jobs: 2, threads: 2 }, 2), { jobs: 2, threads: 2 });
  assert.throws(() => parallelism({ jobs: 0 }, 2), /--jobs 0: expected a whole number >= 1/);
});
