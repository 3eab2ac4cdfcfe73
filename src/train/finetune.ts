/**
 * Stage 0, per fold (docs/method.md §3, §7, and defect 6 of §9): for each modality, train the
 * fine-tuning MLP as a unimodal classifier/regressor on the fold's TRAINING utterances only
 * (batches of 16 utterances, Adam with L2), keep the epoch with the best score on the fold's
 * VALIDATION utterances, then replace every utterance's feature of the corpus by the MLP's
 * second-layer output. Test utterances are only ever passed forward, for extraction.
 */
import * as tf from '@tensorflow/tfjs';
import { utterancesOf } from '../data/index.ts';
import type { Corpus, Dialogue, Fold, Modality, Utterance } from '../data/types.ts';
import { MODALITIES } from '../data/types.ts';
import { assertDisjointFold } from '../curriculum/table.ts';
import { FinetuneMlp } from '../model/finetune.ts';
import { taskLoss } from '../model/losses.ts';
import { Rng } from '../util/rng.ts';
import { HardyError } from '../util/errors.ts';
import { Adam } from './adam.ts';
import { FeaturePipeline } from './features.ts';
import { stepOn } from './step.ts';

export interface FinetuneOptions {
  epochs: number;
  /** Utterances per batch (docs/method.md §7: 16). */
  batchSize: number;
  lr: number;
  weightDecay: number;
  seed: number;
}

export interface ModalityFinetuneReport {
  modality: Modality;
  trainUtterances: number;
  validUtterances: number;
  /** `accuracy` (higher is better) for classification, `mse` (lower is better) for regression. */
  metric: 'accuracy' | 'mse';
  /** 1-based epoch kept; the last epoch when there is no validation utterance. */
  bestEpoch: number;
  trainLoss: number[];
  validScore: number[];
}

export interface FinetuneResult {
  /** The fold's feature pipeline: the three fine-tuned MLPs, then L2-normalised text. */
  pipeline: FeaturePipeline;
  reports: Record<Modality, ModalityFinetuneReport>;
}

/** [n, d] matrix of modality `m` of `utts`. */
function matrix(utts: Utterance[], m: Modality): Float32Array {
  const d = utts[0]?.features[m].length ?? 0;
  const out = new Float32Array(utts.length * d);
  utts.forEach((u, i) => out.set(u.features[m], i * d));
  return out;
}

/** Validation score of `mlp`: accuracy or MSE over `x` [n, d]. */
function score(mlp: FinetuneMlp, x: Float32Array, labels: Float32Array, task: Corpus['task']): number {
  const n = labels.length;
  return tf.tidy(() => {
    const { out } = mlp.forward(tf.tensor2d(x, [n, mlp.dim]));
    if (task === 'classification') {
      const pred = tf.argMax(out, -1).dataSync();
      let hit = 0;
      for (let i = 0; i < n; i++) if (pred[i] === labels[i]) hit++;
      return hit / n;
    }
    return tf.mean(tf.square(tf.sub(tf.reshape(out, [n]), tf.tensor1d(labels)))).dataSync()[0]!;
  });
}

function trainModality(corpus: Corpus, fold: Fold, m: Modality, opts: FinetuneOptions, rng: Rng): { mlp: FinetuneMlp; report: ModalityFinetuneReport } {
  const train = utterancesOf(fold.train);
  const valid = utterancesOf(fold.valid);
  if (!train.length) throw new HardyError(`fine-tuning (fold ${fold.index}): the fold has no training utterance`);
  const d = corpus.dims[m];
  const outDim = corpus.task === 'regression' ? 1 : corpus.numClasses;
  const mlp = new FinetuneMlp(d, outDim, rng.nextUint32(), `ft.${m}`);
  const adam = new Adam(mlp.params, { lr: opts.lr, weightDecay: opts.weightDecay });
  const xTrain = matrix(train, m);
  const yTrain = Float32Array.from(train, (u) => u.label);
  const xValid = matrix(valid, m);
  const yValid = Float32Array.from(valid, (u) => u.label);
  const higherIsBetter = corpus.task === 'classification';
  const report: ModalityFinetuneReport = {
    modality: m,
    trainUtterances: train.length,
    validUtterances: valid.length,
    metric: higherIsBetter ? 'accuracy' : 'mse',
    bestEpoch: 0,
    trainLoss: [],
    validScore: [],
  };
  let best = mlp.params.getWeights();
  let bestScore = higherIsBetter ? -Infinity : Infinity;
  const order = Array.from({ length: train.length }, (_, i) => i);
  const bx = new Float32Array(opts.batchSize * d);
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += opts.batchSize) {
      const idx = order.slice(start, start + opts.batchSize);
      const n = idx.length;
      idx.forEach((r, i) => bx.set(xTrain.subarray(r * d, (r + 1) * d), i * d));
      const by = Float32Array.from(idx, (r) => yTrain[r]!);
      lossSum +=
        n *
        stepOn(mlp, adam, () =>
          tf.tidy(() => {
            const { out } = mlp.forward(tf.tensor2d(bx.subarray(0, n * d), [n, d]));
            return taskLoss(corpus.task, out, tf.tensor1d(by), tf.ones([n]));
          }),
        );
    }
    report.trainLoss.push(lossSum / order.length);
    if (!valid.length) {
      report.bestEpoch = epoch;
      continue;
    }
    const s = score(mlp, xValid, yValid, corpus.task);
    report.validScore.push(s);
    if (higherIsBetter ? s > bestScore : s < bestScore) {
      bestScore = s;
      best = mlp.params.getWeights();
      report.bestEpoch = epoch;
    }
  }
  if (valid.length) mlp.params.setWeights(best, `fine-tuning ${m} (fold ${fold.index})`);
  adam.dispose();
  return { mlp, report };
}

/**
 * Fine-tunes the three modalities on `fold`; the returned pipeline extracts the new features of
 * any utterance (`pipeline.transformCorpus(corpus)`), and is saved with the run for prediction.
 */
export function finetuneFold(corpus: Corpus, fold: Fold, opts: FinetuneOptions): FinetuneResult {
  assertDisjointFold(fold);
  const rng = new Rng(opts.seed);
  const mlps = {} as Record<Modality, FinetuneMlp>;
  const reports = {} as Record<Modality, ModalityFinetuneReport>;
  for (const m of MODALITIES) {
    const { mlp, report } = trainModality(corpus, fold, m, opts, rng.fork());
    mlps[m] = mlp;
    reports[m] = report;
  }
  return { pipeline: new FeaturePipeline(corpus.dims, mlps), reports };
}

/** `fold` with its dialogues taken from `corpus` (by dialogue id), e.g. after `withFeatures`. */
export function remapFold(fold: Fold, corpus: Corpus): Fold {
  const byId = new Map(corpus.dialogues.map((d) => [d.id, d]));
  const map = (ds: Dialogue[]) =>
    ds.map((d) => {
      const n = byId.get(d.id);
      if (!n) throw new HardyError(`${corpus.source}: dialogue '${d.id}' of fold ${fold.index} is not in the corpus`);
      return n;
    });
  return { index: fold.index, train: map(fold.train), valid: map(fold.valid), test: map(fold.test) };
}
