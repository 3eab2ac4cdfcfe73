/**
 * `hardy-mer demo` (`npm start`): synthetic corpus -> HARDY-MER and the MoMKE baseline on two folds
 * and the six incomplete conditions with short schedules -> results table and HTML report.
 * Re-running continues where it stopped (every stage is cached in the run folders).
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIntList } from '../options.ts';

const DEMO_CONFIG = fileURLToPath(new URL('../../../configs/demo.yaml', import.meta.url));

export function register(program: Command): void {
  program
    .command('demo')
    .description('Synthetic corpus -> HARDY-MER vs MoMKE on 2 folds x 6 conditions (short schedules) -> results table and report')
    .option('--out <dir>', 'demo folder', 'runs/demo')
    .option('--config <file>', 'config file', DEMO_CONFIG)
    .option('--folds <list>', 'folds', '1,2')
    .action(async (opts: { out: string; config: string; folds: string }) => {
      const { readConfigFile, resolveConfig } = await import('../config.ts');
      const { writeSynth } = await import('../../data/synth.ts');
      const { initEngine } = await import('../../engine/backend.ts');
      const { runExperiment } = await import('../../run/experiment.ts');
      const { formatResultsTable } = await import('../../eval/table.ts');
      const { renderReport } = await import('../../eval/report.ts');
      const { collectReportData } = await import('../../run/report.ts');
      const { RunLayout } = await import('../../run/layout.ts');
      const { writeFileAtomic } = await import('../../util/atomic.ts');
      const say = (s: string) => process.stderr.write(s + '\n');
      const t0 = Date.now();
      const data = join(opts.out, 'data');
      if (!existsSync(join(data, 'IEMOCAP_features_raw_4way.pkl'))) {
        const r = writeSynth(data, { preset: 'small', seed: 0 });
        say(`[demo] synthetic corpus: ${r.dialogues} dialogues, ${r.utterances} utterances -> ${data}`);
      }
      const config = resolveConfig(readConfigFile(opts.config), { folds: parseIntList(opts.folds, '--folds') });
      await initEngine();
      const results: Record<string, Awaited<ReturnType<typeof runExperiment>>> = {};
      for (const method of ['hardy', 'momke'] as const) {
        const runDir = join(opts.out, method);
        say(`[demo] training ${method} -> ${runDir}`);
        results[method] = await runExperiment({
          data,
          method,
          config,
          seeds: [config.seed],
          runDir,
          resume: true,
          log: (line) => say(`[demo] ${method} ${line}`),
        });
      }
      const html = await renderReport(collectReportData(join(opts.out, 'hardy'), [join(opts.out, 'momke')]));
      const reportPath = new RunLayout(join(opts.out, 'hardy')).reportFile;
      writeFileAtomic(reportPath, html);
      process.stdout.write(formatResultsTable(results.hardy!) + '\n' + formatResultsTable(results.momke!));
      process.stdout.write(`\nreport: ${reportPath}  (open it in a browser; no network needed)\ndemo finished in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    });
}
