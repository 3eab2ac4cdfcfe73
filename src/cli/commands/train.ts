/** `hardy-mer train`: every stage of a method over seeds x folds x conditions, cached in a run folder. */
import { Command, Option } from 'commander';
import { DATASET_NAMES } from '../../data/datasets.ts';
import { CONDITIONS, type DatasetName, type Task } from '../../data/types.ts';
import { HARDY_METHODS, type HardyMethod } from '../../train/methods.ts';
import type { PartialConfig } from '../config.ts';
import { featureDirsOf, formatOf, formatOption, parseConditions, parseIntList, parseProtocol, positiveInt } from '../options.ts';
import type { OutputFormat } from '../../eval/formats.ts';
import type { Executor } from '../../run/experiment.ts';
import { HardyError } from '../../util/errors.ts';

export interface TrainFlags {
  data: string;
  dataset?: DatasetName;
  task?: Task;
  method: HardyMethod;
  conditions?: string;
  folds?: string;
  seeds?: string;
  protocol?: string;
  selection?: 'val' | 'test';
  miTerm?: 'shared' | 'complement';
  hardness?: 'teacher' | 'shuffled' | 'oracle';
  config?: string;
  out?: string;
  resume?: boolean;
  json?: boolean;
  format?: OutputFormat;
  quiet?: boolean;
  audioDir?: string;
  textDir?: string;
  videoDir?: string;
  jobs?: number;
  threads?: number;
  queue?: string;
}

/** Flags -> the config layer they set (flags win over the config file). */
export function flagLayer(f: TrainFlags): PartialConfig {
  const layer: PartialConfig = {};
  if (f.conditions) layer.conditions = parseConditions(f.conditions);
  if (f.folds) layer.folds = parseIntList(f.folds, '--folds');
  if (f.protocol) layer.protocol = parseProtocol(f.protocol);
  if (f.selection) layer.selection = f.selection;
  if (f.miTerm || f.hardness) layer.curriculum = { ...(f.miTerm ? { miTerm: f.miTerm } : {}), ...(f.hardness ? { hardness: f.hardness } : {}) };
  return layer;
}

/** In this process (default), a local pool (--jobs/--threads) or queue workers (--queue). */
async function executorOf(f: TrainFlags): Promise<Executor | undefined> {
  if (f.queue) {
    if (f.jobs !== undefined || f.threads !== undefined) throw new HardyError('--queue runs the jobs on the workers: set their --concurrency and --threads there, not --jobs/--threads here');
    const { queueExecutor, redisOptions } = await import('../../run/queue.ts');
    redisOptions(f.queue); // a malformed URL fails before anything is written
    return queueExecutor(f.queue);
  }
  if (f.jobs === undefined && f.threads === undefined) return undefined;
  const { localPool, parallelism } = await import('../../run/pool.ts');
  return localPool(parallelism({ jobs: f.jobs, threads: f.threads }));
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train a method (fine-tune -> indexes -> teacher -> student for hardy) for every seed, fold and condition; print and save the results')
    .requiredOption('--data <path>', 'corpus folder (GCNet/MERTools or generic layout) or MMSA .pkl')
    .addOption(new Option('--dataset <name>', 'dataset (default: detected)').choices([...DATASET_NAMES]))
    .addOption(new Option('--task <task>', "generic layout: 'regression' when the labels are scores (default classification)").choices(['classification', 'regression']))
    .addOption(new Option('--method <name>', 'method or ablation preset').choices(Object.keys(HARDY_METHODS)).default('hardy'))
    .option('--conditions <list>', `available modalities per model, comma-separated (${CONDITIONS.join(', ')}); default the six incomplete ones`)
    .option('--folds <list>', 'folds to run: IEMOCAP test sessions, e.g. 1,2,3,4,5; generic corpora with groups: the k-th group held out (CMU and fixed splits: ignored, one split)')
    .option('--seeds <list>', 'seeds; results report mean ± std over them', '1')
    .option('--protocol <p>', "'fixed' (one model per condition) or 'random:<rate>' (random missing modalities)")
    .addOption(new Option('--selection <s>', "model selection: 'val' (validation split) or 'test' (the paper's optimistic test-fold selection)").choices(['val', 'test']))
    .addOption(new Option('--mi-term <reading>', "indirect hardness: 'shared' (I_norm, the published code) or 'complement' (1 - I_norm)").choices(['shared', 'complement']))
    .addOption(
      new Option('--hardness <source>', "where hardness comes from: 'teacher' (the method), 'shuffled' (permuted within each batch), 'oracle' (a synthetic corpus' true difficulty)").choices([
        'teacher',
        'shuffled',
        'oracle',
      ]),
    )
    .option('--config <file>', 'JSON or YAML config (see README); flags override it. The published schedules per dataset: configs/iemocap4.yaml, configs/iemocap6.yaml, configs/mosi.yaml, configs/mosei.yaml')
    .option('--out <dir>', 'run folder (default runs/<dataset>-<method>-<time>)')
    .option('--resume', 'continue the run in --out, skipping finished units')
    .option('--json', 'print only the results object on stdout (= --format json)')
    .addOption(formatOption())
    .option('--quiet', 'no progress output')
    .option('--audio-dir <name>', 'audio feature folder under features/ (default wav2vec-large-c-UTT)')
    .option('--text-dir <name>', 'text feature folder under features/ (default deberta-large-4-UTT)')
    .option('--video-dir <name>', 'video feature folder under features/ (default manet_UTT)')
    .option('--jobs <n>', 'run up to n jobs at once in worker processes on this machine (default: one at a time, in this process)', positiveInt('--jobs'))
    .option('--threads <t>', 'engine threads per job (default: cores / jobs, so that jobs x threads uses every core without oversubscribing)', positiveInt('--threads'))
    .option('--queue <url>', 'run the jobs on `hardy-mer worker`s through Redis (redis://[:password@]host:port[/db], rediss:// for TLS); this process coordinates and waits')
    .action(async (f: TrainFlags) => {
      // The config schema (ajv, yaml) and the tensor engine load only when a command runs, so
      // --help stays fast.
      const { readConfigFile, resolveConfig } = await import('../config.ts');
      const file = f.config ? readConfigFile(f.config) : {};
      const config = resolveConfig(file, flagLayer(f));
      const seeds = f.seeds ? parseIntList(f.seeds, '--seeds') : [config.seed];
      const out = f.out ?? `runs/${f.dataset ?? 'run'}-${f.method}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      const { initEngine } = await import('../../engine/backend.ts');
      const { runExperiment } = await import('../../run/experiment.ts');
      const executor = await executorOf(f);
      const { formatResults } = await import('../../eval/table.ts');
      await initEngine();
      const results = await runExperiment({
        data: f.data,
        dataset: f.dataset,
        load: { featureDirs: featureDirsOf(f), ...(f.task ? { task: f.task } : {}) },
        method: f.method,
        config,
        seeds,
        runDir: out,
        resume: Boolean(f.resume),
        progress: { quiet: Boolean(f.quiet) },
        log: f.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
        everyGroup: f.folds === undefined && file.folds === undefined,
        executor,
        command: `train${f.resume ? ' --resume' : ''}${f.queue ? ' --queue (coordinator)' : ''}`,
      });
      const format = formatOf(f);
      process.stdout.write(formatResults(results, format));
      if (format === 'table') process.stdout.write(`run folder: ${out}\n`);
    });
}
