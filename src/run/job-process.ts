/**
 * A job process of the local pool (pool.ts), forked with its thread budget in the environment
 * (HARDY_MER_THREADS, read by the engine): runs the jobs it is sent one at a time and answers each
 * with `done` or `failed` (job-messages.ts). Run contexts (the loaded corpus) are kept per run
 * folder, so a process that runs many jobs of one run loads its corpus once.
 *
 * It exits as soon as its parent is gone (the IPC channel closes: a SIGKILLed worker), so a job
 * taken over elsewhere never has two writers for long: the trainer yields to the event loop once
 * per epoch (train/trainer.ts), when the 'disconnect' event is seen.
 */
import { initEngine } from '../engine/backend.ts';
import { failureOf, type FromJobProcess, type ToJobProcess } from './job-messages.ts';
import { jobById, openRun, runJob, type RunContext } from './jobs.ts';

const send = (m: FromJobProcess): void => void process.send!(m);

process.on('disconnect', () => process.exit(1));
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
