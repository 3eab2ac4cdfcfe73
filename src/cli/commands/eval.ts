/** `hardy-mer eval`: re-score a run's saved models (optionally on another copy of the corpus). */
import { Command } from 'commander';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { withFolderLock } from '../../util/lock.ts';
import { parseConditions } from '../options.ts';

export function register(program: Command): void {
  program
    .command('eval')
    .description("Re-score a run's saved models on each fold's test split; writes RUNDIR/eval.json")
    .requiredOption('--run <dir>', 'run folder written by `hardy-mer train`')
    .option('--data <path>', 'corpus folder (default: the one the run was trained on)')
    .option('--conditions <list>', 'only these conditions, comma-separated')
    .option('--json', 'print only the results object')
    .action(async (opts: { run: string; data?: string; conditions?: string; json?: boolean }) => {
      const { initEngine } = await import('../../engine/backend.ts');
      const { rescoreRun } = await import('../../run/rescore.ts');
      const { RunLayout } = await import('../../run/layout.ts');
      const { formatResultsTable } = await import('../../eval/table.ts');
      await initEngine();
      const conditions = opts.conditions ? parseConditions(opts.conditions) : undefined;
      // eval writes into the run folder: one writer at a time (a training run, another eval)
      const results = await withFolderLock(opts.run, 'eval', () => {
        const r = rescoreRun({ runDir: opts.run, data: opts.data, conditions });
        writeJsonAtomic(new RunLayout(opts.run).evalFile, r);
        return r;
      });
      process.stdout.write(opts.json ? JSON.stringify(results) + '\n' : formatResultsTable(results));
    });
}
