/**
 * A job process of the local pool (pool.ts), forked with its thread budget in the environment
 * (HARDY_MER_THREADS, read by the engine): runs the jobs it is sent one at a time and answers each
 * with `done` or `failed` (job-messages.ts). Run contexts (the loaded corpus) are kept per run
 * folder, so a process that runs many jobs of one run loads its corpus once.
 *
 * It exits as soon as its parent is gone (a SIGKILLed worker), so a job taken over elsewhere never
 * has two writers for long: on 'disconnect' when the main thread gets a turn (the trainer yields
 * once per epoch, train/trainer.ts), and within a second or two whatever the main thread does from a
 * watchdog thread that polls the parent pid (stage 0 and the indexes run without a turn for
 * minutes at real sizes; test/cli/queue.test.ts kills a worker in the middle of stage 0).
 */
import { Worker } from 'node:worker_threads';
import { initEngine } from '../engine/backend.ts';
import { failureOf, type FromJobProcess, type ToJobProcess } from './job-messages.ts';
import { jobById, openRun, runJob, type RunContext } from './jobs.ts';

const send = (m: FromJobProcess): void => void process.send!(m);

process.on('disconnect', () => process.exit(1));
new Worker(
  `const { workerData: w } = require('node:worker_threads');
   setInterval(() => { if (process.ppid !== w.parent) process.kill(w.pid, 'SIGKILL'); }, 250);`,
  { eval: true, workerData: { parent: process.ppid, pid: process.pid } },
).unref();
await initEngine();
const contexts = new Map<string, RunContext>();
let queue = Promise.resolve();
process.on('message', (m: ToJobProcess) => {
  if (m.type !== 'run') return;
  queue = queue.then(async () => {
    try {
      let ctx = contexts.get(m.runDir);
      if (!ctx) contexts.set(m.runDir, (ctx = openRun(m.runDir)));
      await runJob(ctx, jobById(ctx, m.id), { quiet: true });
      send({ type: 'done', id: m.id });
    } catch (err) {
      send({ type: 'failed', id: m.id, ...failureOf(err) });
    }
  });
});
send({ type: 'ready' });
