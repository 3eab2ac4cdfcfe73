/** `hardy-mer compare`: one table over runs (methods x conditions), paired differences to a baseline, an HTML page. */
import { Command } from 'commander';
import type { OutputFormat } from '../../eval/formats.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { formatOption } from '../options.ts';

export function register(program: Command): void {
  program
    .command('compare')
    .description('Compare runs: methods as rows, conditions (and missing rates) as columns, mean ± std over seeds, best marked, paired differences to a baseline with 95% CIs; writes an HTML page')
    .argument('<rundir...>', 'run folders written by `hardy-mer train` (their eval.json when `hardy-mer eval` wrote one)')
    .option('--baseline <run>', 'method, row label or run folder to take differences against (default: the momke run, else the first)')
    .option('--metric <name>', 'metric to compare (default WA, or ACC2 for regression)')
    .addOption(formatOption())
    .option('--out <file>', 'HTML page of the comparison', 'comparison.html')
    .action(async (dirs: string[], opts: { baseline?: string; metric?: string; format: OutputFormat; out: string }) => {
      const { compareRunDirs } = await import('../../run/compare.ts');
      const { formatComparison } = await import('../../eval/compare.ts');
      const { renderComparison } = await import('../../eval/compare-report.ts');
      const { comparison, runs, curves } = compareRunDirs(dirs, opts);
      process.stdout.write(formatComparison(comparison, opts.format));
      writeFileAtomic(opts.out, await renderComparison({ comparison, curves, runs: runs.map((r) => ({ label: r.columns.label, dir: r.dir, provenance: r.provenance })) }));
      process.stderr.write(`comparison page: ${opts.out}\n`);
    });
}
