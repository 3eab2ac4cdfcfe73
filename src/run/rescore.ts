/**
 * `eval`: re-score a run's saved models on a corpus (by default the one it was trained on), each
 * through its fold's saved feature pipeline, on the fold's test split (random protocol: the test
 * masks saved with the run).
 */
import { loadCorpus, loadMasks, makeFolds } from '../data/index.ts';
import type { Condition } from '../data/types.ts';
import { confusionMatrix, scorerFor } from '../eval/metrics.ts';
import type { RunResults } from '../eval/report-data.ts';
import { loadModel } from '../train/checkpoint.ts';
import { predict } from '../train/evaluate.ts';
import { FeaturePipeline } from '../train/features.ts';
import { HARDY_METHODS, isHardyMethod } from '../train/methods.ts';
import { HardyError } from '../util/errors.ts';
import { resultsOf, type UnitRecord } from './experiment.ts';
import { RunLayout } from './layout.ts';
import { readRunFile } from './run-file.ts';

export interface RescoreOptions {
  runDir: string;
  /** Corpus folder; default the one the run was trained on. */
  data?: string;
  /** Only these units (conditions). */
  conditions?: Condition[];
}

export function rescoreRun(opts: RescoreOptions): RunResults {
  const run = readRunFile(opts.runDir);
  const { identity } = run;
  if (!isHardyMethod(identity.method)) throw new HardyError(`${opts.runDir}: unknown method '${identity.method}'`);
  const kind = HARDY_METHODS[identity.method].model;
  const corpus = loadCorpus(opts.data ?? identity.data, identity.dataset, identity.load);
  for (const m of ['a', 't', 'v'] as const) {
    if (corpus.dims[m] !== run.corpus.dims[m]) throw new HardyError(`${corpus.source}: ${m} features have ${corpus.dims[m]} dims, the run was trained on ${run.corpus.dims[m]}`);
  }
  const folds = makeFolds(corpus, { seed: identity.config.seed, validFraction: identity.config.validFraction, validation: identity.config.validation });
  const score = scorerFor(corpus.task, corpus.numClasses);
  const records: UnitRecord[] = [];
  for (const u of new RunLayout(opts.runDir).units()) {
    if (opts.conditions && !(u.unit.protocol === 'fixed' && opts.conditions.includes(u.unit.condition))) continue;
    const fold = folds.find((f) => f.index === u.fold);
    if (!fold) throw new HardyError(`${corpus.source}: no fold ${u.fold}, which the run trained`);
    if (!u.layout.modelSaved(kind)) continue; // unfinished unit
    const pipeline = FeaturePipeline.load(u.layout.features);
    const { model, meta } = loadModel(u.layout[kind].model);
    try {
      const test = pipeline.transformCorpus({ ...corpus, dialogues: fold.test }).dialogues;
      const p = predict(model, test, {
        stage: 2,
        batchSize: identity.config.optim.batchSize,
        condition: u.unit.protocol === 'fixed' ? u.unit.condition : undefined,
        masks: u.unit.protocol === 'random' ? loadMasks(u.layout[kind].testMasks) : undefined,
      });
      records.push({
        seed: u.seed,
        fold: u.fold,
        unit: u.name,
        test: score(p.preds, p.labels),
        bestEpoch: Number(meta?.bestEpoch ?? -1),
        confusion: corpus.task === 'classification' ? confusionMatrix(p.preds, p.labels, corpus.numClasses) : undefined,
        seconds: 0,
      });
    } finally {
      model.dispose();
      pipeline.dispose();
    }
  }
  if (!records.length) throw new HardyError(`${opts.runDir}: no finished model to evaluate${opts.conditions ? ` for ${opts.conditions.join(', ')}` : ''}`);
  return resultsOf(corpus.dataset, identity.method, identity.config, records);
}
