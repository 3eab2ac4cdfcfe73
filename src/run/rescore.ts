/**
 * `eval`: re-score a run's saved models on a corpus (by default the one it was trained on), each
 * through its fold's saved feature pipeline, on the fold's test split, under
 *
 *   - each unit's own condition (random protocol: the test masks saved with the run): the results
 *     object as `train` reported it;
 *   - `conditions`: any test condition. A fixed-protocol run answers a condition with the model
 *     trained for it; a condition it has no model for (and every condition of a random-protocol
 *     run) is answered by each model of the (seed, fold), averaged;
 *   - `missingRates`: random missing modalities at each rate, every model of a (seed, fold) scored
 *     on the same masks, averaged. The masks depend only on (seed, fold, rate), so runs with the
 *     same seeds are scored on the same masks (paired comparisons); drawn once, saved in the run.
 */
import { existsSync } from 'node:fs';
import { drawMasks, loadCorpus, loadMasks, makeFolds, saveMasks, type MaskSet } from '../data/index.ts';
import type { Condition, Dialogue } from '../data/types.ts';
import { meanRecord } from '../eval/aggregate.ts';
import { confusionMatrix, scorerFor, type MetricRecord } from '../eval/metrics.ts';
import { isRateColumn, rateColumn, type EvalResults } from '../eval/report-data.ts';
import type { MerModel } from '../model/types.ts';
import { loadModel } from '../train/checkpoint.ts';
import { predict } from '../train/evaluate.ts';
import { FeaturePipeline } from '../train/features.ts';
import { HARDY_METHODS, isHardyMethod } from '../train/methods.ts';
import { mixSeed, STREAM } from '../train/seeds.ts';
import { HardyError } from '../util/errors.ts';
import { resultsOf, type UnitRecord } from './experiment.ts';
import { RunLayout } from './layout.ts';
import { readRunFile } from './run-file.ts';
import { protocolName } from './unit.ts';

export interface RescoreOptions {
  runDir: string;
  /** Corpus folder; default the one the run was trained on. */
  data?: string;
  /** Test conditions; default each unit's own. */
  conditions?: Condition[];
  /** Random missing rates in [0, 0.7] for the robustness curve. */
  missingRates?: number[];
}

/** The evaluation masks of (seed, fold, rate), drawn once and saved. */
function evalMasks(file: string, seed: number, fold: number, rate: number, test: Dialogue[]): MaskSet {
  if (existsSync(file)) return loadMasks(file);
  const masks = drawMasks(test, rate, mixSeed(seed, STREAM.evalMasks, fold, 3, Math.round(rate * 1000)));
  saveMasks(file, masks);
  return masks;
}

export function rescoreRun(opts: RescoreOptions): EvalResults {
  const run = readRunFile(opts.runDir);
  const { identity } = run;
  if (!isHardyMethod(identity.method)) throw new HardyError(`${opts.runDir}: unknown method '${identity.method}'`);
  const kind = HARDY_METHODS[identity.method].model;
  const corpus = loadCorpus(opts.data ?? identity.data, identity.dataset, identity.load);
  for (const m of ['a', 't', 'v'] as const) {
    if (corpus.dims[m] !== run.corpus.dims[m]) throw new HardyError(`${corpus.source}: ${m} features have ${corpus.dims[m]} dims, the run was trained on ${run.corpus.dims[m]}`);
  }
  const rates = opts.missingRates ?? [];
  for (const r of rates) if (!(r >= 0 && r <= 0.7)) throw new HardyError(`--missing-rates: ${r} is outside [0, 0.7]`);
  const random = identity.config.protocol.kind === 'random';
  const folds = makeFolds(corpus, { seed: identity.config.seed, validFraction: identity.config.validFraction, validation: identity.config.validation });
  const score = scorerFor(corpus.task, corpus.numClasses);
  const layout = new RunLayout(opts.runDir);
  const units = layout.units().filter((u) => u.layout.modelSaved(kind)); // finished ones
  if (!units.length) throw new HardyError(`${opts.runDir}: no finished model to evaluate`);
  const trained = new Set(units.map((u) => u.name));

  const own: UnitRecord[] = [];
  // (seed, fold, column) -> the metrics of every model scored on it
  const shared = new Map<string, { seed: number; fold: number; column: string; metrics: MetricRecord[] }>();
  const add = (seed: number, fold: number, column: string, metrics: MetricRecord) => {
    const k = `${seed}/${fold}/${column}`;
    const e = shared.get(k) ?? { seed, fold, column, metrics: [] };
    e.metrics.push(metrics);
    shared.set(k, e);
  };
  for (const u of units) {
    const fold = folds.find((f) => f.index === u.fold);
    if (!fold) throw new HardyError(`${corpus.source}: no fold ${u.fold}, which the run trained`);
    const pipeline = FeaturePipeline.load(u.layout.features);
    let model: MerModel | undefined;
    try {
      const loaded = loadModel(u.layout.models[kind].model);
      model = loaded.model;
      const test = pipeline.transformCorpus({ ...corpus, dialogues: fold.test }).dialogues;
      const scoreUnder = (condition: Condition | undefined, masks?: MaskSet) => {
        const p = predict(model!, test, { stage: 2, batchSize: identity.config.optim.batchSize, condition, masks });
        return { p, metrics: score(p.preds, p.labels) };
      };
      if (!opts.conditions || (u.unit.protocol === 'fixed' && opts.conditions.includes(u.unit.condition))) {
        const { p, metrics } = u.unit.protocol === 'fixed' ? scoreUnder(u.unit.condition) : scoreUnder(undefined, loadMasks(u.layout.models[kind].testMasks));
        own.push({
          seed: u.seed,
          fold: u.fold,
          unit: u.name,
          test: metrics,
          bestEpoch: Number(loaded.meta?.bestEpoch ?? -1),
          confusion: corpus.task === 'classification' ? confusionMatrix(p.preds, p.labels, corpus.numClasses) : undefined,
          seconds: 0,
        });
      }
      for (const c of opts.conditions ?? []) {
        if (!random && trained.has(c)) continue; // answered by the model trained for it, above
        add(u.seed, u.fold, c, scoreUnder(c).metrics);
      }
      for (const r of rates) add(u.seed, u.fold, rateColumn(r), scoreUnder(undefined, evalMasks(layout.evalMasks(u.seed, u.fold, r), u.seed, u.fold, r, fold.test)).metrics);
    } finally {
      model?.dispose();
      pipeline.dispose();
    }
  }
  const averaged = (keep: (column: string) => boolean): UnitRecord[] =>
    [...shared.values()].filter((e) => keep(e.column)).map((e) => ({ seed: e.seed, fold: e.fold, unit: e.column, test: meanRecord(e.metrics), bestEpoch: -1, seconds: 0 }));
  const conditionRecords = [...own, ...averaged((c) => !isRateColumn(c))];
  if (!conditionRecords.length) throw new HardyError(`${opts.runDir}: no finished model to evaluate for ${opts.conditions?.join(', ')}`);
  // units named by condition are aggregated as conditions; the protocol shown stays the run's
  const asFixed = { ...identity.config, protocol: { kind: 'fixed' as const } };
  const results: EvalResults = {
    ...resultsOf(corpus.dataset, identity.method, random && opts.conditions ? asFixed : identity.config, conditionRecords),
    protocol: protocolName(identity.config),
  };
  if (rates.length) results.robustness = { rates, byRate: resultsOf(corpus.dataset, identity.method, asFixed, averaged(isRateColumn)).conditions };
  return results;
}
