/**
 * A trained run folder as a `Predictor`: for each condition, every (seed, fold) model trained for
 * it, each behind its fold's feature pipeline; class probabilities (or scores) are averaged over
 * them. A dialogue whose utterances bring different modalities is run once per condition present,
 * every utterance with its own availability, so each keeps its conversational context.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { readFoldIndexes, type FoldIndexes } from '../curriculum/retrieval-index.ts';
import { makeBatch, type MaskSet } from '../data/index.ts';
import { CONDITIONS, MODALITIES, type Avail, type Condition, type Dialogue, type Modality } from '../data/types.ts';
import { batchInputs } from '../model/inputs.ts';
import type { MerModel } from '../model/types.ts';
import { RunLayout } from '../run/layout.ts';
import { readRunFile, type CorpusInfo } from '../run/run-file.ts';
import { loadModel } from '../train/checkpoint.ts';
import { FeaturePipeline } from '../train/features.ts';
import { HARDY_METHODS, isHardyMethod } from '../train/methods.ts';
import { HardyError, quoteId } from '../util/errors.ts';
import { initEngine } from '../engine/backend.ts';
import { featureLimits } from './validate.ts';
import type { ModelInfo, PredictRequest, PredictResponse, Predictor, PredictorInfo, RequestDialogue, UtterancePrediction } from './predictor.ts';

/** The fold's feature pipeline and, when the run has them, its retrieval indexes. */
interface FoldAssets {
  pipeline: FeaturePipeline;
  indexes?: FoldIndexes;
}

interface Member {
  seed: number;
  fold: number;
  model: MerModel;
  assets: FoldAssets;
  /** The teacher's hardness of the fold's training utterances under this condition (hardy runs). */
  hardness?: Map<string, number>;
}

/** Training neighbours per available modality whose hardness is averaged for a new utterance. */
const HARDNESS_NEIGHBOURS = 5;

/** Dialogues per forward pass. */
const BATCH = 16;

export class RunPredictor implements Predictor {
  private constructor(
    private readonly corpus: CorpusInfo,
    private readonly method: string,
    private readonly byCondition: Map<Condition, Member[]>,
    private readonly folds: FoldAssets[],
  ) {}

  static load(runDir: string): RunPredictor {
    const run = readRunFile(runDir);
    const method = run.identity.method;
    const layout = new RunLayout(runDir);
    if (!isHardyMethod(method)) throw new HardyError(`${layout.runFile}: unknown method '${method}'`);
    const kind = HARDY_METHODS[method].model;
    const folds = new Map<string, FoldAssets>();
    const byCondition = new Map<Condition, Member[]>();
    for (const { layout: u, unit, seed, fold } of layout.units()) {
      const shared = u.fold;
      let assets = folds.get(shared.dir);
      if (!assets) {
        if (!shared.featuresSaved()) throw new HardyError(`${shared.features}: no feature pipeline (the run predates it or is unfinished)`);
        assets = { pipeline: FeaturePipeline.load(shared.features), indexes: shared.indexesComplete() ? readFoldIndexes(shared.indexes) : undefined };
        folds.set(shared.dir, assets);
      }
      if (!u.modelSaved(kind)) continue; // unit not finished: skip it, say so in info()
      const model = loadModel(u.models[kind].model).model;
      const hardness = existsSync(u.hardness) ? new Map(Object.entries(JSON.parse(readFileSync(u.hardness, 'utf8')) as Record<string, number>)) : undefined;
      // A random-missing model serves every condition; a fixed one only its own.
      const conds: Condition[] = unit.protocol === 'random' ? [...CONDITIONS] : [unit.condition];
      for (const c of conds) byCondition.set(c, [...(byCondition.get(c) ?? []), { seed, fold, model, assets, hardness }]);
    }
    if (byCondition.size === 0) throw new HardyError(`${runDir}: no trained model found (has the run finished? 'hardy-mer train --resume --out ${runDir}')`);
    return new RunPredictor(run.corpus, method, byCondition, [...folds.values()]);
  }

  info(): PredictorInfo {
    const models: ModelInfo[] = [...this.byCondition].map(([condition, ms]) => ({
      condition,
      method: this.method,
      members: ms.length,
      folds: [...new Set(ms.map((m) => m.fold))],
      seeds: [...new Set(ms.map((m) => m.seed))],
    }));
    const classNames = this.corpus.task === 'classification' ? this.corpus.classNames : [];
    return { task: this.corpus.task, classNames, dims: this.corpus.dims, featureLimits: featureLimits(this.corpus.featureAbsMax), models };
  }

  async predict(req: PredictRequest): Promise<PredictResponse> {
    const C = this.corpus.task === 'classification' ? this.corpus.numClasses : 1;
    // Per utterance id: the summed outputs (and hardness estimates) over the members of its condition.
    const sums = new Map<string, Float32Array>();
    const hardSums = new Map<string, { sum: number; n: number }>();
    const present = new Set(req.dialogues.flatMap((d) => d.utterances.map((u) => u.condition)));
    for (const c of present) {
      const members = this.byCondition.get(c);
      if (!members) throw new HardyError(`no model trained for condition '${c}' (this run has ${[...this.byCondition.keys()].join(', ')})`);
      const dialogues = req.dialogues.filter((d) => d.utterances.some((u) => u.condition === c));
      for (const member of members) {
        for (let i = 0; i < dialogues.length; i += BATCH) {
          const out = this.forward(member, dialogues.slice(i, i + BATCH), C);
          for (const [id, cond, row, h] of out) {
            if (cond !== c) continue;
            if (h !== undefined) {
              const acc = hardSums.get(id) ?? { sum: 0, n: 0 };
              hardSums.set(id, { sum: acc.sum + h, n: acc.n + 1 });
            }
            const acc = sums.get(id) ?? new Float32Array(C);
            for (let k = 0; k < C; k++) acc[k]! += row[k]!;
            sums.set(id, acc);
          }
        }
      }
    }
    // Never an answer computed from numbers that overflowed: validation keeps inputs in range, and
    // should a model still produce NaN/Inf, the request is refused naming the dialogue (attention
    // mixes a dialogue's utterances, so none of its answers could be trusted).
    for (const d of req.dialogues) {
      const bad = d.utterances.filter((u) => !sums.get(u.id)!.every(Number.isFinite));
      if (bad.length) {
        throw new HardyError(`dialogue ${quoteId(d.id)}: the model's output is not finite for utterance ${bad.map((u) => quoteId(u.id)).slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''} (features far outside the training range?); nothing is returned for it`);
      }
    }
    const utterances: UtterancePrediction[] = [];
    for (const d of req.dialogues) {
      for (const u of d.utterances) {
        const n = this.byCondition.get(u.condition)!.length;
        const mean = Array.from(sums.get(u.id)!, (x) => x / n);
        const used = MODALITIES.filter((m) => u.condition.includes(m));
        const hs = hardSums.get(u.id);
        const hardness = hs ? hs.sum / hs.n : undefined;
        if (C === 1) {
          utterances.push({ id: u.id, dialogue: d.id, label: mean[0]!, score: mean[0]!, used, condition: u.condition, hardness });
        } else {
          const best = mean.indexOf(Math.max(...mean));
          utterances.push({ id: u.id, dialogue: d.id, probs: mean, label: this.corpus.classNames[best] ?? best, used, condition: u.condition, hardness });
        }
      }
    }
    return { task: this.corpus.task, utterances };
  }

  /** One member on up to BATCH dialogues: [utterance id, its condition, probabilities or score, hardness estimate]. */
  private forward(member: Member, dialogues: RequestDialogue[], C: number): Array<[string, Condition, Float32Array, number?]> {
    const { pipeline, indexes } = member.assets;
    const dims = pipeline.inputDims;
    // Hardness estimate: mean teacher hardness of the nearest training utterances, per available modality.
    const neighbourHardness = new Map<string, number[]>();
    const utts = dialogues.flatMap((d) => d.utterances);
    // Transform each modality's given rows in one pass; missing ones stay zero (and masked).
    const feats = new Map(utts.map((u) => [u.id, {} as Record<Modality, Float32Array>]));
    for (const m of MODALITIES) {
      const given = utts.filter((u) => u.features[m]);
      const rows = new Float32Array(given.length * dims[m]);
      given.forEach((u, i) => rows.set(u.features[m]!, i * dims[m]));
      const out = given.length ? pipeline.apply(m, rows, given.length) : rows;
      if (member.hardness && indexes && given.length) {
        const nb = indexes[m].search(out, HARDNESS_NEIGHBOURS);
        given.forEach((u, i) => {
          const hs = neighbourHardness.get(u.id) ?? [];
          for (let j = 0; j < nb.k; j++) {
            const row = nb.rows[i * nb.k + j]!;
            const h = row >= 0 ? member.hardness!.get(indexes[m].ids[row]!) : undefined;
            if (h !== undefined) hs.push(h);
          }
          neighbourHardness.set(u.id, hs);
        });
      }
      for (const u of utts) feats.get(u.id)![m] = new Float32Array(dims[m]);
      given.forEach((u, i) => feats.get(u.id)![m].set(out.subarray(i * dims[m], (i + 1) * dims[m])));
    }
    const avail = new Map(utts.map((u) => [u.id, MODALITIES.map((m) => (u.condition.includes(m) ? 1 : 0)) as Avail]));
    const masks: MaskSet = { rate: 0, seed: 0, avail };
    const ds: Dialogue[] = dialogues.map((d) => ({
      id: d.id,
      utterances: d.utterances.map((u) => ({ id: u.id, speaker: u.speaker ?? '', label: 0, features: feats.get(u.id)! })),
    }));
    const batch = makeBatch(ds, { masks });
    const values = tf.tidy(() => {
      const logits = member.model.forward(batchInputs(batch), { stage: 2, training: false }).logits; // [B, S, C]
      return (C === 1 ? logits : tf.softmax(logits)).dataSync() as Float32Array;
    });
    const cond = new Map(utts.map((u) => [u.id, u.condition]));
    const out: Array<[string, Condition, Float32Array, number?]> = [];
    const meanOf = (xs: number[] | undefined) => (xs?.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
    batch.uttIds.forEach((row, b) =>
      row.forEach((id, s) => {
        const at = b * batch.S + s;
        if (batch.umask[at]! > 0) out.push([id, cond.get(id)!, values.slice(at * C, (at + 1) * C), meanOf(neighbourHardness.get(id))]);
      }),
    );
    return out;
  }

  dispose(): void {
    const models = new Set([...this.byCondition.values()].flat().map((m) => m.model));
    for (const m of models) m.dispose();
    for (const f of this.folds) {
      f.pipeline.dispose();
      if (f.indexes) for (const m of MODALITIES) f.indexes[m].dispose();
    }
  }
}

/** The worker-thread entry (see PredictorSpec): starts this thread's engine, then loads the run. */
export async function createPredictor(options: { runDir: string }): Promise<RunPredictor> {
  await initEngine();
  return RunPredictor.load(options.runDir);
}
