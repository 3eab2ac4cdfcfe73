/**
 * A trained run folder as a `Predictor`: for each condition, every (seed, fold) model trained for
 * it, each behind its fold's feature pipeline; class probabilities (or scores) are averaged over
 * them. A dialogue whose utterances bring different modalities is run once per condition present,
 * every utterance with its own availability, so each keeps its conversational context.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFoldIndexes, type FoldIndexes } from '../curriculum/retrieval-index.ts';
import { CONDITIONS, MODALITIES, type Condition } from '../data/types.ts';
import type { MerModel } from '../model/types.ts';
import { readDeployedRun, type CorpusInfo } from '../run/run-file.ts';
import { loadModel } from '../train/checkpoint.ts';
import { FeaturePipeline } from '../train/features.ts';
import { HardyError, quoteId } from '../util/errors.ts';
import { initEngine } from '../engine/backend.ts';
import { featureLimits } from './validate.ts';
import { modelOutputs, transformDialogue, type TransformedRows } from './forward.ts';
import type { ModelInfo, Neighbour, PredictRequest, PredictResponse, Predictor, PredictorInfo, RequestDialogue, UtterancePrediction } from './predictor.ts';

/** The fold's feature pipeline and, when the run has them, its retrieval indexes. */
interface FoldAssets {
  pipeline: FeaturePipeline;
  indexes?: FoldIndexes;
}

/** A training utterance found near a request utterance in its fold's index (before the member's hardness). */
type Near = Pick<Neighbour, 'id' | 'modality' | 'distance'>;

/** One request dialogue on one fold: its transformed features and, once asked, their nearest training utterances. */
interface Prepared {
  rows: TransformedRows;
  near?: Map<string, Near[]>;
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
    const { run, method, kind, layout } = readDeployedRun(runDir);
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
    const neighbours = new Map<string, Neighbour[]>();
    const count = new Map<Condition, number>();
    const present = new Set(req.dialogues.flatMap((d) => d.utterances.map((u) => u.condition)));
    // Per fold and dialogue, made once however many conditions and members use them (forward.ts
    // says why per dialogue).
    const prepared = new Map<FoldAssets, Map<string, Prepared>>();
    const prepare = (assets: FoldAssets, d: RequestDialogue): Prepared => {
      let byDialogue = prepared.get(assets);
      if (!byDialogue) prepared.set(assets, (byDialogue = new Map()));
      let p = byDialogue.get(d.id);
      if (!p) byDialogue.set(d.id, (p = { rows: transformDialogue(assets.pipeline, d) }));
      return p;
    };
    for (const c of present) {
      const all = this.byCondition.get(c);
      if (!all) throw new HardyError(`no model trained for condition '${c}' (this run has ${[...this.byCondition.keys()].join(', ')})`);
      const members = req.fold === undefined ? all : all.filter((m) => m.fold === req.fold);
      if (!members.length) throw new HardyError(`fold ${req.fold}: no model for condition '${c}' on that fold (folds: ${[...new Set(all.map((m) => m.fold))].join(', ')})`);
      count.set(c, members.length);
      const dialogues = req.dialogues.filter((d) => d.utterances.some((u) => u.condition === c));
      for (const member of members) {
        for (let i = 0; i < dialogues.length; i += BATCH) {
          const batch = dialogues.slice(i, i + BATCH);
          const condOf = new Map(batch.flatMap((d) => d.utterances.map((u) => [u.id, u.condition])));
          const ready = new Map(batch.map((d) => [d.id, prepare(member.assets, d)]));
          const rows = new Map([...ready].map(([id, p]) => [id, p.rows]));
          const near = new Map([...ready.values()].flatMap((p) => [...this.neighbours(member, p)]));
          for (const [id, row] of modelOutputs(member.model, batch, rows, member.assets.pipeline.inputDims, C)) {
            if (condOf.get(id) !== c) continue; // its own condition's members answer it
            const nb = near.get(id);
            if (nb?.length) {
              const acc = hardSums.get(id) ?? { sum: 0, n: 0 };
              hardSums.set(id, { sum: acc.sum + nb.reduce((a, x) => a + x.hardness, 0) / nb.length, n: acc.n + 1 });
              if (req.explain) neighbours.set(id, [...(neighbours.get(id) ?? []), ...nb]);
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
        const n = count.get(u.condition)!;
        const mean = Array.from(sums.get(u.id)!, (x) => x / n);
        const used = MODALITIES.filter((m) => u.condition.includes(m));
        const hs = hardSums.get(u.id);
        const hardness = hs ? hs.sum / hs.n : undefined;
        const extra = req.explain ? { neighbours: neighbours.get(u.id) ?? [] } : {};
        if (C === 1) {
          utterances.push({ id: u.id, dialogue: d.id, label: mean[0]!, score: mean[0]!, used, condition: u.condition, hardness, ...extra });
        } else {
          const best = mean.indexOf(Math.max(...mean));
          utterances.push({ id: u.id, dialogue: d.id, probs: mean, label: this.corpus.classNames[best] ?? best, used, condition: u.condition, hardness, ...extra });
        }
      }
    }
    return { task: this.corpus.task, utterances };
  }

  /**
   * The hardness estimate's sources: per utterance of a prepared dialogue, the nearest training
   * utterances (HARDNESS_NEIGHBOURS per available modality) in the member's fold indexes, searched
   * once per fold, with the teacher's hardness of each under the member's condition.
   */
  private neighbours(member: Member, p: Prepared): Map<string, Neighbour[]> {
    const { indexes } = member.assets;
    if (!member.hardness || !indexes) return new Map();
    if (!p.near) {
      p.near = new Map();
      for (const m of MODALITIES) {
        const { given, rows: x } = p.rows[m];
        if (!given.length) continue;
        const nb = indexes[m].search(x, HARDNESS_NEIGHBOURS);
        given.forEach((u, i) => {
          const list = p.near!.get(u.id) ?? [];
          for (let j = 0; j < nb.k; j++) {
            const row = nb.rows[i * nb.k + j]!;
            if (row >= 0) list.push({ id: indexes[m].ids[row]!, modality: m, distance: nb.dists[i * nb.k + j]! });
          }
          p.near!.set(u.id, list);
        });
      }
    }
    const out = new Map<string, Neighbour[]>();
    for (const [id, list] of p.near) {
      out.set(id, list.flatMap((n) => {
        const h = member.hardness!.get(n.id);
        return h === undefined ? [] : [{ ...n, fold: member.fold, seed: member.seed, hardness: h }];
      }));
    }
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
