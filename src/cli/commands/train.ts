/** `hardy-mer train`: every stage of a method over seeds x folds x conditions, cached in a run folder. */
import { Command, Option } from 'commander';
import { DATASET_NAMES } from '../../data/datasets.ts';
import { CONDITIONS, type Condition, type DatasetName } from '../../data/types.ts';
import { HARDY_METHODS, type HardyMethod } from '../../train/methods.ts';
import { HardyError } from '../../util/errors.ts';
import { readConfigFile, resolveConfig, type PartialConfig } from '../config.ts';

export interface TrainFlags {
  data: string;
  dataset?: DatasetName;
  method: HardyMethod;
  conditions?: string;
  folds?: string;
  seeds?: string;
  protocol?: string;
  selection?: 'val' | 'test';
  config?: string;
  out?: string;
  resume?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** `1,2,3` -> [1, 2, 3], each a non-negative integer. */
export function parseIntList(s: string, flag: string): number[] {
  const xs = s.split(',').map((x) => x.trim());
  if (xs.some((x) => !/^\d+$/.test(x))) throw new HardyError(`${flag} takes comma-separated non-negative integers, got '${s}'`);
  return xs.map(Number);
}

export function parseConditions(s: string): Condition[] {
  const xs = s.split(',').map((x) => x.trim());
  const bad = xs.filter((x) => !(CONDITIONS as readonly string[]).includes(x));
  if (bad.length) throw new HardyError(`--conditions: unknown condition '${bad.join("', '")}' (expected some of ${CONDITIONS.join(', ')})`);
  return xs as Condition[];
}

/** `fixed` | `random:<rate>` with rate in {0.0, 0.1, ..., 0.7}. */
export function parseProtocol(s: string): PartialConfig['protocol'] {
  if (s === 'fixed') return { kind: 'fixed' };
  const m = /^random:(\d*\.?\d+)$/.exec(s);
  const rate = m ? Number(m[1]) : NaN;
  if (!(rate >= 0 && rate <= 0.7)) throw new HardyError(`--protocol must be 'fixed' or 'random:<rate>' with rate in [0, 0.7], got '${s}'`);
  return { kind: 'random', missingRate: rate };
}

/** Flags -> the config layer they set (flags win over the config file). */
export function flagLayer(f: TrainFlags): PartialConfig {
  const layer: PartialConfig = {};
  if (f.conditions) layer.conditions = parseConditions(f.conditions);
  if (f.folds) layer.folds = parseIntList(f.folds, '--folds');
  if (f.protocol) layer.protocol = parseProtocol(f.protocol);
  if (f.selection) layer.selection = f.selection;
  return layer;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train a method (fine-tune -> indexes -> teacher -> student for hardy) for every seed, fold and condition; print and save the results')
    .requiredOption('--data <path>', 'corpus folder (GCNet/MERTools layout) or MMSA .pkl')
    .addOption(new Option('--dataset <name>', 'dataset (default: detected)').choices([...DATASET_NAMES]))
    .addOption(new Option('--method <name>', 'method or ablation preset').choices(Object.keys(HARDY_METHODS)).default('hardy'))
    .option('--conditions <list>', `available modalities per model, comma-separated (${CONDITIONS.join(', ')}); default the six incomplete ones`)
    .option('--folds <list>', 'IEMOCAP test sessions to run, e.g. 1,2,3,4,5 (CMU: ignored, one split)')
    .option('--seeds <list>', 'seeds; results report mean ± std over them', '1')
    .option('--protocol <p>', "'fixed' (one model per condition) or 'random:<rate>' (random missing modalities)")
    .addOption(new Option('--selection <s>', "model selection: 'val' (validation split) or 'test' (the paper's optimistic test-fold selection)").choices(['val', 'test']))
    .option('--config <file>', 'JSON or YAML config (see README); flags override it')
    .option('--out <dir>', 'run folder (default runs/<dataset>-<method>-<time>)')
    .option('--resume', 'continue the run in --out, skipping finished units')
    .option('--json', 'print only the results object on stdout')
    .option('--quiet', 'no progress output')
    .action(async (f: TrainFlags) => {
      const config = resolveConfig(f.config ? readConfigFile(f.config) : {}, flagLayer(f));
      const seeds = f.seeds ? parseIntList(f.seeds, '--seeds') : [config.seed];
      const out = f.out ?? `runs/${f.dataset ?? 'run'}-${f.method}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      // Heavy modules (the tensor engine) load only when a command runs, so --help stays instant.
      const { initEngine } = await import('../../engine/backend.ts');
      const { runExperiment } = await import('../../eval/experiment.ts');
      const { formatResultsTable } = await import('../../eval/table.ts');
      await initEngine();
      const results = await runExperiment({
        data: f.data,
        dataset: f.dataset,
        method: f.method,
        config,
        seeds,
        runDir: out,
        resume: Boolean(f.resume),
        progress: { quiet: Boolean(f.quiet) },
        log: f.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
      });
      if (f.json) process.stdout.write(JSON.stringify(results) + '\n');
      else process.stdout.write(formatResultsTable(results) + `run folder: ${out}\n`);
    });
}
