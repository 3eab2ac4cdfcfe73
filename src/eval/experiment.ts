/**
 * One experiment = one method over seeds x folds x conditions on one corpus (spec §8), with every
 * unit's artefacts cached in the run folder:
 *
 *   RUNDIR/run.json                         what was asked (dataset, data, method, seeds, config)
 *   RUNDIR/config.json                      the resolved config
 *   RUNDIR/results.json                     the aggregated results (the `train --json` object)
 *   RUNDIR/seed-<s>/fold-<f>/<unit>/        one trained unit (<unit> = condition, or `rate-<r>`)
 *       unit.json                           its test/valid metrics, confusion matrix, timing (written last)
 *       hardy.json, teacher/, student/ | momke/, indexes/, curriculum.jsonl   (see train/hardy.ts)
 *
 * A unit whose `unit.json` exists is done and is skipped; an unfinished one resumes from its
 * checkpoints. A folder holding another run is refused unless `resume` is set and the request
 * matches.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCorpus, makeFolds, type LoadOptions } from '../data/index.ts';
import type { Condition, Corpus, DatasetName, Fold } from '../data/types.ts';
import { trainHardy } from '../train/hardy.ts';
import type { HardyMethod } from '../train/methods.ts';
import type { RunConfig } from '../train/config.ts';
import type { ProgressOptions } from '../train/progress.ts';
import { isAtomicTemp, writeJsonAtomic } from '../util/atomic.ts';
import { HardyError } from '../util/errors.ts';
import { VERSION } from '../util/version.ts';
import { aggregate, meanStd, type RunMetrics } from './aggregate.ts';
import { confusionMatrix, scorerFor } from './metrics.ts';
import type { ConditionResult, RunResults } from './report-data.ts';

export interface ExperimentSpec {
  /** Corpus folder (or MMSA pickle). */
  data: string;
  dataset?: DatasetName;
  load?: LoadOptions;
  method: HardyMethod;
  /** Resolved config; its `seed` is replaced by each of `seeds` in turn. */
  config: RunConfig;
  seeds: number[];
  runDir: string;
  resume: boolean;
  progress?: ProgressOptions;
  /** One line per finished unit (stderr in the CLI). */
  log?: (line: string) => void;
}

/** What `unit.json` holds: one trained (seed, fold, condition). */
export interface UnitRecord {
  seed: number;
  fold: number;
  /** Condition, or `rate-<r>` under the random protocol. */
  unit: string;
  test: Record<string, number>;
  valid?: Record<string, number>;
  bestEpoch: number;
  /** Classification: [true][pred] counts on the test split. */
  confusion?: number[][];
  seconds: number;
}

/** What predict/serve/report need to know of the corpus a run was trained on. */
export interface CorpusInfo {
  task: Corpus['task'];
  numClasses: number;
  classNames: string[];
  dims: Corpus['dims'];
}

/** What produced a run. */
export interface Provenance {
  /** hardy-mer's version (package.json). */
  version: string;
}

/** `RUNDIR/run.json`. `version` is the file format's; the tool's is `provenance.version`. */
export interface RunFile {
  identity: ReturnType<typeof identity>;
  corpus: CorpusInfo;
  /** Absent in run folders written before it was recorded. */
  provenance?: Provenance;
  createdAt: string;
  version: 1;
}

export function readRunFile(runDir: string): RunFile {
  const path = join(runDir, 'run.json');
  if (!existsSync(path)) throw new HardyError(`${runDir}: not a hardy-mer run folder (no run.json)`);
  return JSON.parse(readFileSync(path, 'utf8')) as RunFile;
}

/** The part of the spec that must match when a run is resumed. */
function identity(spec: ExperimentSpec, dataset: DatasetName) {
  return { dataset, data: resolve(spec.data), load: spec.load ?? {}, method: spec.method, seeds: spec.seeds, config: spec.config };
}

export const protocolName = (c: RunConfig): string => (c.protocol.kind === 'fixed' ? 'fixed' : `random:${c.protocol.missingRate}`);

/** The units of a run: the conditions (fixed protocol) or the single missing rate (random). */
export function unitsOf(c: RunConfig): string[] {
  return c.protocol.kind === 'fixed' ? [...c.conditions] : [`rate-${c.protocol.missingRate}`];
}

/** Refuse to mix runs: an existing folder is reused only with `resume` and the same request. */
function claimRunDir(spec: ExperimentSpec, corpus: Corpus): void {
  const dataset = corpus.dataset;
  const runFile = join(spec.runDir, 'run.json');
  const want = identity(spec, dataset);
  if (existsSync(runFile)) {
    if (!spec.resume) {
      throw new HardyError(`${spec.runDir}: already holds a run; pass --resume to continue it, or choose another --out`);
    }
    const have = readRunFile(spec.runDir);
    if (JSON.stringify(have.identity) !== JSON.stringify(want)) {
      throw new HardyError(`${spec.runDir}: --resume asked for a different run than the one saved there (dataset, data, method, seeds and config must match ${runFile})`);
    }
    if (!existsSync(join(spec.runDir, 'config.json'))) writeJsonAtomic(join(spec.runDir, 'config.json'), spec.config);
    return;
  }
  const entries = existsSync(spec.runDir) ? readdirSync(spec.runDir) : [];
  if (entries.some((name) => !isAtomicTemp(name))) {
    throw new HardyError(`${spec.runDir}: folder is not empty and holds no hardy-mer run; choose another --out`);
  }
  // A run killed while writing its first file leaves only that file's temporary copy: still ours to claim.
  for (const name of entries) rmSync(join(spec.runDir, name), { force: true });
  const info: CorpusInfo = { task: corpus.task, numClasses: corpus.numClasses, classNames: corpus.classNames, dims: corpus.dims };
  const run: RunFile = { identity: want, corpus: info, provenance: { version: VERSION }, createdAt: new Date().toISOString(), version: 1 };
  writeJsonAtomic(runFile, run); // first: from here on the folder is this run's, and --resume can continue it
  writeJsonAtomic(join(spec.runDir, 'config.json'), spec.config);
}

/** Folds to run: IEMOCAP the requested test sessions; CMU/MMSA the corpus' single split. */
function foldsOf(corpus: Corpus, config: RunConfig): Fold[] {
  const all = makeFolds(corpus, { seed: config.seed, validFraction: config.validFraction });
  if (all.length === 1) return all;
  const missing = config.folds.filter((f) => !all.some((x) => x.index === f));
  if (missing.length) throw new HardyError(`${corpus.source}: no fold ${missing.join(', ')} (sessions: ${all.map((f) => f.index).join(', ')})`);
  return all.filter((f) => config.folds.includes(f.index));
}

export async function runExperiment(spec: ExperimentSpec): Promise<RunResults> {
  const corpus = loadCorpus(spec.data, spec.dataset, spec.load);
  claimRunDir(spec, corpus);
  const folds = foldsOf(corpus, spec.config);
  const units = unitsOf(spec.config);
  const score = scorerFor(corpus.task, corpus.numClasses);
  const records: UnitRecord[] = [];
  for (const seed of spec.seeds) {
    for (const fold of folds) {
      for (const unit of units) {
        const foldDir = join(spec.runDir, `seed-${seed}`, `fold-${fold.index}`);
        const dir = join(foldDir, unit);
        const done = join(dir, 'unit.json');
        if (existsSync(done)) {
          records.push(JSON.parse(readFileSync(done, 'utf8')) as UnitRecord);
          continue;
        }
        const t0 = performance.now();
        const condition: Condition = spec.config.protocol.kind === 'fixed' ? (unit as Condition) : 'atv';
        const r = await trainHardy({
          method: spec.method,
          config: { ...spec.config, seed },
          corpus,
          fold,
          condition,
          score,
          runDir: dir,
          foldDir,
          progress: spec.progress,
        });
        const rec: UnitRecord = {
          seed,
          fold: fold.index,
          unit,
          test: r.result.test,
          valid: r.result.valid,
          bestEpoch: r.result.bestEpoch,
          confusion:
            corpus.task === 'classification'
              ? confusionMatrix(r.result.testPredictions.preds, r.result.testPredictions.labels, corpus.numClasses)
              : undefined,
          seconds: (performance.now() - t0) / 1000,
        };
        r.result.model.dispose();
        writeJsonAtomic(done, rec);
        records.push(rec);
        spec.log?.(`seed ${seed} fold ${fold.index} ${unit}: ${Object.entries(rec.test).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')} (${rec.seconds.toFixed(0)} s)`);
      }
    }
  }
  const results = buildResults(corpus.dataset, spec.method, spec.config, records);
  writeJsonAtomic(join(spec.runDir, 'results.json'), results);
  return results;
}

/** Unit records -> the results object: per unit the folds, mean and std; the average over units. */
export function buildResults(dataset: DatasetName, method: string, config: RunConfig, records: UnitRecord[]): RunResults {
  const units = [...new Set(records.map((r) => r.unit))];
  // `aggregate` speaks of conditions; a random-protocol unit stands in as 'atv'.
  const asCond = (u: string): Condition => (config.protocol.kind === 'fixed' ? (u as Condition) : 'atv');
  const runs: RunMetrics[] = records.map((r) => ({ seed: r.seed, fold: r.fold, condition: asCond(r.unit), metrics: r.test }));
  const incomplete = units.map(asCond).filter((c) => c !== 'atv');
  const agg = aggregate(runs, incomplete.length ? incomplete : units.map(asCond));
  const conditions: Record<string, ConditionResult> = {};
  for (const u of units) {
    const ms = agg.perCondition[asCond(u)]!;
    const folds = records.filter((r) => r.unit === u);
    // std over seeds; with a single seed, over folds (a spread of 0 would say nothing).
    const spread = agg.seeds.length > 1 ? ms : meanStd(folds.map((r) => r.test));
    conditions[u] = {
      folds: folds.map((r) => ({ fold: r.fold, seed: r.seed, metrics: r.test })),
      mean: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, v.mean])),
      std: Object.fromEntries(Object.entries(spread).map(([k, v]) => [k, v.std])),
    };
  }
  const average = Object.fromEntries(Object.entries(agg.average ?? {}).map(([k, v]) => [k, v.mean]));
  return { dataset, method, protocol: protocolName(config), selection: config.selection, conditions, average };
}
