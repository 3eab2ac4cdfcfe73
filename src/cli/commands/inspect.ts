/** `hardy-mer inspect`: load a corpus and print what was found. */
import { Command, Option } from 'commander';
import { loadCorpus } from '../../data/load.ts';
import { DATASET_NAMES } from '../../data/datasets.ts';
import { inspectCorpus, formatReport } from '../../data/inspect.ts';
import { calibrateCorpus, formatCalibration } from '../../data/calibrate.ts';
import type { DatasetName, Task } from '../../data/types.ts';
import { featureDirsOf } from '../options.ts';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('Load a corpus (GCNet/MERTools folder, generic folder or MMSA pickle) and report dialogues, utterances, dims, labels and problems')
    .requiredOption('--data <path>', 'corpus folder (or MMSA .pkl file)')
    .addOption(new Option('--dataset <name>', 'dataset (default: detected from the files)').choices([...DATASET_NAMES]))
    .addOption(new Option('--task <task>', "generic layout: 'regression' when the labels are scores").choices(['classification', 'regression']))
    .option('--audio-dir <name>', 'audio feature folder under features/')
    .option('--text-dir <name>', 'text feature folder under features/')
    .option('--video-dir <name>', 'video feature folder under features/')
    .option('--json', 'print the report as JSON')
    .option('--calibrate', 'also fit unimodal ridge probes (train on all sessions but the last) and measure the top-1 text neighbour label agreement')
    .action((opts: { data: string; dataset?: DatasetName; task?: Task; audioDir?: string; textDir?: string; videoDir?: string; json?: boolean; calibrate?: boolean }) => {
      const featureDirs = featureDirsOf(opts);
      const t0 = Date.now();
      const corpus = loadCorpus(opts.data, opts.dataset, { featureDirs, task: opts.task });
      const report = { ...inspectCorpus(corpus), loadSeconds: (Date.now() - t0) / 1000 };
      const calibration = opts.calibrate ? calibrateCorpus(corpus) : undefined;
      if (opts.json) process.stdout.write(JSON.stringify({ ...report, calibration }, null, 2) + '\n');
      else process.stdout.write(formatReport(report) + (calibration ? formatCalibration(calibration) + '\n' : '') + `loaded in ${report.loadSeconds.toFixed(1)} s\n`);
    });
}
