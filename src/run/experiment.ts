/**
 * One experiment = one method over seeds x folds x units on one corpus, with every unit's
 * artefacts cached in the run folder (src/run/layout.ts). A unit whose `unit.json` exists is done
 * and is skipped; an unfinished one resumes from its checkpoints. A folder holding another run is
 * refused unless `resume` is set and the request matches. The folder is locked (util/lock.ts,
 * `RUNDIR/.hardy-mer.lock`) from the claim to the end, so a second writer is refused with the pid
 * and host of the first.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { assertModalities, loadCorpus, makeFolds, type LoadOptions } from '../data/index.ts';
import type { Corpus, DatasetName, Fold } from '../data/types.ts';
import { confusionMatrix, scorerFor, type MetricRecord } from '../eval/metrics.ts';
import type { RunResults } from '../eval/report-data.ts';
import { buildResults } from '../eval/results.ts';
import { checkModelHyper } from '../model/factory.ts';
import type { RunConfig } from '../train/config.ts';
import { trainHardy } from '../train/hardy.ts';
import { HARDY_METHODS, type HardyMethod } from '../train/methods.ts';
import type { ProgressOptions } from '../train/progress.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { HardyError } from '../util/errors.ts';
import { lockFolder } from '../util/lock.ts';
import { RunLayout } from './layout.ts';
import { collectProvenance } from './provenance.ts';
import { claimRunDir, runIdentity } from './run-file.ts';
import { protocolName, unitCondition, unitName, unitsOf } from './unit.ts';

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
  /** Folds were not chosen: a corpus with groups runs every group (config.folds is set to them). */
  everyGroup?: boolean;
}

/** What `unit.json` holds: one trained (seed, fold, unit). */
export interface UnitRecord {
  seed: number;
  fold: number;
  /** The unit's name: its condition, or `rate-<r>` under the random protocol. */
  unit: string;
  test: MetricRecord;
  valid?: MetricRecord;
  bestEpoch: number;
  /** Classification: [true][pred] counts on the test split. */
  confusion?: number[][];
  seconds: number;
}

/** Folds to run: IEMOCAP the requested test sessions; CMU/MMSA the corpus' single split. */
function foldsOf(corpus: Corpus, config: RunConfig): Fold[] {
  const all = makeFolds(corpus, { seed: config.seed, validFraction: config.validFraction, validation: config.validation });
  if (all.length === 1) return all;
  const missing = config.folds.filter((f) => !all.some((x) => x.index === f));
  if (missing.length) throw new HardyError(`${corpus.source}: no fold ${missing.join(', ')} (sessions: ${all.map((f) => f.index).join(', ')})`);
  return all.filter((f) => config.folds.includes(f.index));
}

/** The results object of a run's unit records. */
export function resultsOf(dataset: DatasetName, method: string, config: RunConfig, records: UnitRecord[]): RunResults {
  return buildResults({ dataset, method, protocol: protocolName(config), selection: config.selection }, records);
}

export async function runExperiment(request: ExperimentSpec): Promise<RunResults> {
  const corpus = loadCorpus(request.data, request.dataset, request.load);
  const groups = request.everyGroup && corpus.dialogues.every((d) => d.group !== undefined);
  const spec = groups ? { ...request, config: { ...request.config, folds: makeFolds(corpus).map((f) => f.index) } } : request;
  assertModalities(corpus, spec.config.conditions, spec.config.protocol.kind === 'random');
  checkModelHyper(HARDY_METHODS[spec.method].model, spec.config.model);
  const layout = new RunLayout(spec.runDir);
  // One writer per run folder, from the claim (a check, then writes) to the last result.
  mkdirSync(layout.root, { recursive: true });
  const lock = lockFolder(layout.root, spec.resume ? 'train --resume' : 'train');
  try {
    claimRunDir(layout, runIdentity(spec, corpus.dataset), corpus, spec.resume, await collectProvenance(corpus));
    return await trainUnits(spec, corpus, layout);
  } finally {
    lock.release();
  }
}

/** Trains every unit of a claimed run folder that is not done yet; writes and returns the results. */
async function trainUnits(spec: ExperimentSpec, corpus: Corpus, layout: RunLayout): Promise<RunResults> {
  const folds = foldsOf(corpus, spec.config);
  const units = unitsOf(spec.config);
  const score = scorerFor(corpus.task, corpus.numClasses);
  const records: UnitRecord[] = [];
  for (const seed of spec.seeds) {
    for (const fold of folds) {
      for (const unit of units) {
        const files = layout.unit(seed, fold.index, unit);
        if (files.done()) {
          records.push(JSON.parse(readFileSync(files.unitFile, 'utf8')) as UnitRecord);
          continue;
        }
        const t0 = performance.now();
        const r = await trainHardy({
          method: spec.method,
          config: { ...spec.config, seed },
          corpus,
          fold,
          condition: unitCondition(unit),
          score,
          files,
          progress: spec.progress,
        });
        const rec: UnitRecord = {
          seed,
          fold: fold.index,
          unit: unitName(unit),
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
        writeJsonAtomic(files.unitFile, rec);
        records.push(rec);
        spec.log?.(`seed ${seed} fold ${fold.index} ${rec.unit}: ${Object.entries(rec.test).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')} (${rec.seconds.toFixed(0)} s)`);
      }
    }
  }
  const results = resultsOf(corpus.dataset, spec.method, spec.config, records);
  writeJsonAtomic(layout.resultsFile, results);
  return results;
}
