/** `hardy-mer report`: a self-contained HTML page of a run (no network needed to view it). */
import { Command } from 'commander';
import { relative, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.ts';
import { withFolderLock } from '../../util/lock.ts';

export function register(program: Command): void {
  program
    .command('report')
    .description('Write a self-contained HTML report of a run: results vs baseline and paper, curves, hardness, K_i, neighbours, confusion, case study')
    .requiredOption('--run <dir>', 'run folder written by `hardy-mer train`')
    .option('--baseline <dirs...>', 'run folders of baselines (e.g. --method momke, mmin, gcnet) to show beside the run')
    .option('--out <file>', 'output HTML file (default RUNDIR/report.html)')
    .action(async (opts: { run: string; baseline?: string[]; out?: string }) => {
      const { renderReport } = await import('../../eval/report.ts');
      const { collectReportData } = await import('../../run/report.ts');
      const { RunLayout } = await import('../../run/layout.ts');
      const out = opts.out ?? new RunLayout(opts.run).reportFile;
      const write = async () => writeFileAtomic(out, await renderReport(collectReportData(opts.run, opts.baseline ?? [])));
      // into the run folder: one writer at a time; elsewhere, reading a run (even one in training) needs no lock
      const inside = !relative(resolve(opts.run), resolve(out)).startsWith('..');
      if (inside) await withFolderLock(opts.run, 'report', write);
      else await write();
      process.stdout.write(`report: ${out}\n`);
    });
}
