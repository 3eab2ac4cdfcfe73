/** `hardy-mer report`: a self-contained HTML page of a run (no network needed to view it). */
import { Command } from 'commander';
import { writeFileAtomic } from '../../util/atomic.ts';

export function register(program: Command): void {
  program
    .command('report')
    .description('Write a self-contained HTML report of a run: results vs baseline and paper, curves, hardness, K_i, neighbours, confusion, case study')
    .requiredOption('--run <dir>', 'run folder written by `hardy-mer train`')
    .option('--baseline <dir>', 'run folder of a baseline (e.g. --method momke) to compare against')
    .option('--out <file>', 'output HTML file (default RUNDIR/report.html)')
    .action(async (opts: { run: string; baseline?: string; out?: string }) => {
      const { renderReport } = await import('../../eval/report.ts');
      const { collectReportData } = await import('../../run/report.ts');
      const { RunLayout } = await import('../../run/layout.ts');
      const html = await renderReport(collectReportData(opts.run, opts.baseline));
      const out = opts.out ?? new RunLayout(opts.run).reportFile;
      writeFileAtomic(out, html);
      process.stdout.write(`report: ${out}\n`);
    });
}
