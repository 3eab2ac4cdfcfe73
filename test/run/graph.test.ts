// The run as a graph of jobs (src/run/graph.ts): its shape, and the scheduler every executor uses
// (dependencies first, at most `limit` at once, fold-shared stages before units, done jobs skipped,
// the first failure stops new starts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { runGraph, schedule, type RunJob } from '../../src/run/graph.ts';

const fixed = (c: 'a' | 'at' | 'tv') => ({ protocol: 'fixed' as const, condition: c });
const graph = runGraph({ seeds: [1, 2], folds: [1, 3], units: [fixed('a'), fixed('at')], stage1: ['teacher', 'student'], indexes: true });

test('one prepare and one stage-1 job per model kind per (seed, fold); each unit waits for all of its fold', () => {
  assert.equal(graph.length, 2 * 2 * (1 + 2 + 2));
  assert.deepEqual(
    graph.slice(0, 5).map((j) => j.id),
    ['s1/f1/prepare', 's1/f1/stage1-teacher', 's1/f1/stage1-student', 's1/f1/a', 's1/f1/at'],
  );
  const unit = graph.find((j) => j.id === 's2/f3/at')!;
  assert.deepEqual(unit.deps, ['s2/f3/prepare', 's2/f3/stage1-teacher', 's2/f3/stage1-student']);
  assert.deepEqual(graph.find((j) => j.id === 's2/f3/stage1-student')!.deps, ['s2/f3/prepare']);
  assert.equal(new Set(graph.map((j) => j.id)).size, graph.length, 'ids are unique');
  // a method without shared stage 1 (e.g. a single-stage schedule): units wait for prepare only
  const flat = runGraph({ seeds: [1], folds: [1], units: [{ protocol: 'random', rate: 0.5 }], stage1: [], indexes: false });
  assert.deepEqual(flat.map((j) => [j.id, j.deps]), [['s1/f1/prepare', []], ['s1/f1/rate-0.5', ['s1/f1/prepare']]]);
});

/** Runs the scheduler with jobs that take `ms`, recording starts, ends and the peak concurrency. */
function simulate(limit: number, done: Set<string> = new Set(), fail?: string) {
  const log: string[] = [];
  const finished = new Set(done);
  let running = 0;
  let peak = 0;
  const run = schedule(graph, {
    limit,
    done: (j) => done.has(j.id),
    start: async (j: RunJob) => {
      for (const d of j.deps) assert.ok(finished.has(d), `${j.id} started before ${d} was done`);
      running++;
      peak = Math.max(peak, running);
      log.push(j.id);
      await sleep(j.kind === 'unit' ? 4 : 2);
      running--;
      if (j.id === fail) throw new Error(`bad data in ${j.id}`);
      finished.add(j.id);
    },
  });
  return { run, log, peak: () => peak, finished };
}

test('the scheduler runs every job once, after its dependencies, never more than `limit` at once', async () => {
  for (const limit of [1, 3]) {
    const s = simulate(limit);
    await s.run;
    assert.equal(s.log.length, graph.length);
    assert.equal(new Set(s.log).size, graph.length);
    assert.equal(s.peak(), limit);
  }
  // one at a time: every ready prepare, then every stage 1, then the units (all ready by then)
  const one = simulate(1);
  await one.run;
  const kinds = one.log.map((id) => graph.find((j) => j.id === id)!.kind);
  assert.deepEqual(kinds, [...kinds].sort((a, b) => ['prepare', 'stage1', 'unit'].indexOf(a) - ['prepare', 'stage1', 'unit'].indexOf(b)));
});

test('fold-shared stages start before ready units (they unblock more work)', async () => {
  const s = simulate(2);
  await s.run;
  // once s1/f1's shared stages are done, s1/f3's prepare and stage 1 still go before s1/f1's units
  assert.ok(s.log.indexOf('s1/f3/stage1-student') < s.log.indexOf('s1/f1/at'), s.log.join(' '));
});

test('done jobs are skipped; a resumed run starts where the last one stopped', async () => {
  const done = new Set(graph.filter((j) => j.seed === 1).map((j) => j.id));
  const s = simulate(2, done);
  await s.run;
  assert.deepEqual([...s.log].sort(), graph.filter((j) => j.seed === 2).map((j) => j.id).sort());
});

test('the first failure stops new starts, lets running jobs settle, and is rethrown', async () => {
  const s = simulate(2, new Set(), 's1/f1/stage1-teacher');
  await assert.rejects(s.run, /bad data in s1\/f1\/stage1-teacher/);
  assert.ok(!s.log.includes('s1/f1/a'), 'no unit of the fold started');
  assert.ok(s.log.length < graph.length);
});
