/** `hardy-mer worker`: runs the jobs that `train --queue` coordinators put on a Redis queue (src/run/queue.ts). */
import type { Command } from 'commander';
import { positiveInt } from '../options.ts';

interface WorkerFlags {
  queue: string;
  concurrency?: number;
  threads?: number;
  exitWhenIdle?: boolean;
  lockSeconds: number;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run queued training jobs (from `train --queue`) on this machine; it must see the run folders at the same paths as the coordinator')
    .requiredOption('--queue <url>', 'Redis URL: redis://[:password@]host:port[/db], rediss:// for TLS')
    .option('--concurrency <n>', 'jobs at once, each in its own process (default: cores / threads)', positiveInt('--concurrency'))
    .option('--threads <t>', 'engine threads per job (default: cores / concurrency)', positiveInt('--threads'))
    .option('--exit-when-idle', 'leave once the queue has had nothing waiting or running for 3 s (after a first job, or for 30 s without one)')
    .option('--lock-seconds <s>', "a job whose worker stops answering (killed, lost) goes back to the queue after this long", positiveInt('--lock-seconds'), 30)
    .option('--quiet', 'no log lines')
    .action(async (f: WorkerFlags) => {
      const { runWorker, redisOptions } = await import('../../run/queue.ts');
      const { parallelism } = await import('../../run/pool.ts');
      redisOptions(f.queue);
      const p = parallelism({ jobs: f.concurrency, threads: f.threads });
      await runWorker({
        url: f.queue,
        concurrency: p.jobs,
        threads: p.threads,
        exitWhenIdle: Boolean(f.exitWhenIdle),
        lockSeconds: f.lockSeconds,
        log: f.quiet ? () => undefined : (line) => process.stderr.write(line + '\n'),
      });
    });
}
