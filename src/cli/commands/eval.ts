/** `hardy-mer eval`: re-score a run's saved models under any condition and missing rate (optionally on another copy of the corpus). */
import { Command, Option } from 'commander';
import type { OutputFormat } from '../../eval/formats.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { withFolderLock } from '../../util/lock.ts';
import { formatOf, formatOption, parseConditions, parseRates } from '../options.ts';

export function register(program: Command): void {
  program
    .command('eval')
    .description("Re-score a run's saved models on each fold's test split, under its own or any condition and random missing rates; writes RUNDIR/eval.json")
    .requiredOption('--run <dir>', 'run folder written by `hardy-mer train`')
    .option('--data <path>', 'corpus folder (default: the one the run was trained on)')
    .option('--conditions <list>', 'test conditions, comma-separated (default: each model under its own); a condition the run has no model for is scored by each of its models, averaged')
    .addOption(new Option('--missing-rates <list>', 'robustness curve: random missing rates in [0, 0.7], e.g. 0,0.1,0.2,0.3,0.4,0.5,0.6,0.7 (masks drawn once per seed, fold and rate, saved in RUNDIR/eval-masks/)'))
    .option('--json', 'print only the results object (= --format json)')
    .addOption(formatOption())
    .action(async (opts: { run: string; data?: string; conditions?: string; missingRates?: string; json?: boolean; format?: OutputFormat }) => {
      const conditions = opts.conditions ? parseConditions(opts.conditions) : undefined;
      const missingRates = opts.missingRates ? parseRates(opts.missingRates) : undefined;
      const { initEngine } = await import('../../engine/backend.ts');
      const { rescoreRun } = await import('../../run/rescore.ts');
      const { RunLayout } = await import('../../run/layout.ts');
      const { formatResults } = await import('../../eval/table.ts');
      await initEngine();
      // eval writes into the run folder (eval.json, eval-masks/): one writer at a time (a training run, another eval)
      const results = await withFolderLock(opts.run, 'eval', () => {
        const r = rescoreRun({ runDir: opts.run, data: opts.data, conditions, missingRates });
        writeJsonAtomic(new RunLayout(opts.run).evalFile, r);
        return r;
      });
      process.stdout.write(formatResults(results, formatOf(opts)));
    });
}
