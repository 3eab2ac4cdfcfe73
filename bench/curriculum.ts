/**
 * Curriculum measurements on a synthetic corpus with known per-utterance difficulty.
 *
 *   npx tsx bench/curriculum.ts spearman [--preset small] [--conds a,t,v,at,av,tv] [--folds 1] [--seeds 1]
 *                                        [--e1 15] [--e2 15] [--hidden 256]
 *     Trains a teacher per (condition, fold, seed), freezes it, scores the fold's training
 *     utterances (batches of 16 dialogues, hardness normalised per batch as in training) and
 *     prints the Spearman correlation with the generator's difficulty of: raw D_rec, raw I,
 *     h under `shared` (I_term = I_norm) and under `complement` (1 - I_norm).
 *   npx tsx bench/curriculum.ts timing [--preset small] [--cond at] [--epochs 2] [--hidden 256]
 *     Time of a student stage-1 epoch vs a stage-2 curriculum epoch (K + 1 views per batch) and
 *     the share of hardness, retrieval and view building in it; index build + search time.
 *
 * The teacher here follows the stage schedule with the project's step (Adam, fresh gradients per
 * step) and no model selection: the measurement is about the hardness scorer, not accuracy.
 * Results are printed as JSON lines (and a summary table) for bench/RESULTS.md.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/backend.ts';
import { l2Normalize, loadCorpus, makeBatches, makeFolds, writeSynth } from '../src/data/index.ts';
import type { Condition, Corpus, Fold } from '../src/data/types.ts';
import { Teacher } from '../src/model/teacher.ts';
import { createModel, modelConfig } from '../src/model/factory.ts';
import type { MerModel } from '../src/model/types.ts';
import { Adam } from '../src/train/adam.ts';
import { trainStep } from '../src/train/step.ts';
import { DEFAULT_CONFIG } from '../src/train/config.ts';
import { Rng } from '../src/util/rng.ts';
import { batchHardness, teacherScores } from '../src/curriculum/hardness.ts';
import { buildFoldIndexes, disposeFoldIndexes } from '../src/curriculum/index.ts';
import { Retriever } from '../src/curriculum/retrieval.ts';
import { trainingTable } from '../src/curriculum/table.ts';
import { Curriculum } from '../src/curriculum/curriculum.ts';

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    preset: { type: 'string', default: 'small' },
    conds: { type: 'string', default: 'a,t,v,at,av,tv' },
    cond: { type: 'string', default: 'at' },
    folds: { type: 'string', default: '1' },
    seeds: { type: 'string', default: '1' },
    e1: { type: 'string', default: '15' },
    e2: { type: 'string', default: '15' },
    epochs: { type: 'string', default: '2' },
    hidden: { type: 'string', default: '256' },
  },
});

/** Spearman rank correlation (average ranks for ties). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const rank = (v: readonly number[]): Float64Array => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]!);
    const r = new Float64Array(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
      for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const rx = rank(x);
  const ry = rank(y);
  const n = x.length;
  const mx = rx.reduce((a, b) => a + b, 0) / n;
  const my = ry.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function synthCorpus(preset: string): Corpus {
  const dir = `/tmp/hardy-synth-${preset}-seed1`;
  if (!existsSync(dir)) writeSynth(dir, { preset: preset as 'tiny' | 'small' | 'iemocap', seed: 1 });
  // Text is L2-normalised before any model sees it (spec §7).
  return l2Normalize(loadCorpus(dir));
}

/** Stage 1 (complete inputs) then stage 2 (the condition), one clean Adam step per batch. */
function trainSchedule(model: MerModel, fold: Fold, cond: Condition, e1: number, e2: number, seed: number): number[] {
  const adam = new Adam(model.params, { lr: DEFAULT_CONFIG.optim.lr, weightDecay: DEFAULT_CONFIG.optim.weightDecay });
  const rng = new Rng(seed);
  const epochMs: number[] = [];
  for (let e = 1; e <= e1 + e2; e++) {
    const t = performance.now();
    const stage = e <= e1 ? 1 : 2;
    for (const b of makeBatches(fold.train, { batchSize: 16, shuffle: true, seed: rng.nextUint32(), condition: cond })) {
      trainStep(model, adam, b, { stage, rng });
    }
    epochMs.push(performance.now() - t);
  }
  adam.dispose();
  return epochMs;
}

async function spearmanCmd(): Promise<void> {
  const corpus = synthCorpus(args.preset!);
  const hidden = Number(args.hidden);
  const rows: Record<string, number>[] = [];
  for (const seed of args.seeds!.split(',').map(Number)) {
    const folds = makeFolds(corpus, { seed });
    for (const foldIndex of args.folds!.split(',').map(Number)) {
      const fold = folds.find((f) => f.index === foldIndex)!;
      for (const cond of args.conds!.split(',') as Condition[]) {
        const teacher = new Teacher(modelConfig({ ...DEFAULT_CONFIG.model, hidden }, corpus), seed);
        const t0 = performance.now();
        trainSchedule(teacher, fold, cond, Number(args.e1), Number(args.e2), seed);
        const trainS = (performance.now() - t0) / 1000;
        const cols: Record<string, number[]> = { diff: [], D: [], I: [], shared: [], complement: [] };
        for (const b of makeBatches(fold.train, { batchSize: 16, shuffle: true, seed: seed + 1000, condition: cond })) {
          const { D, I } = teacherScores(teacher, b);
          const shared = batchHardness(b, D, I, { ...DEFAULT_CONFIG.curriculum, miTerm: 'shared' });
          const comp = batchHardness(b, D, I, { ...DEFAULT_CONFIG.curriculum, miTerm: 'complement' });
          for (const [id, h] of shared) {
            cols.diff!.push(corpus.difficulty!.get(id)!);
            cols.D!.push(h.direct);
            cols.I!.push(h.indirect);
            cols.shared!.push(h.h);
            cols.complement!.push(comp.get(id)!.h);
          }
        }
        const row = {
          cond: cond as unknown as number,
          fold: foldIndex,
          seed,
          n: cols.diff!.length,
          rho_D: spearman(cols.D!, cols.diff!),
          rho_I: spearman(cols.I!, cols.diff!),
          rho_shared: spearman(cols.shared!, cols.diff!),
          rho_complement: spearman(cols.complement!, cols.diff!),
          trainS,
        };
        rows.push(row);
        console.log(JSON.stringify(row));
        teacher.dispose();
      }
    }
  }
  const mean = (k: string) => rows.reduce((a, r) => a + r[k]!, 0) / rows.length;
  console.log(
    JSON.stringify({ summary: true, runs: rows.length, rho_D: mean('rho_D'), rho_I: mean('rho_I'), rho_shared: mean('rho_shared'), rho_complement: mean('rho_complement') }),
  );
}

async function timingCmd(): Promise<void> {
  const corpus = synthCorpus(args.preset!);
  const fold = makeFolds(corpus, { seed: 1 })[0]!;
  const cond = args.cond as Condition;
  const hidden = Number(args.hidden);
  const cfg = modelConfig({ ...DEFAULT_CONFIG.model, hidden }, corpus);
  const teacher = new Teacher(cfg, 1);
  const student = createModel('student', cfg, 1);
  let t = performance.now();
  const table = trainingTable(fold);
  const indexes = buildFoldIndexes(table, fold);
  const buildMs = performance.now() - t;
  t = performance.now();
  const retriever = new Retriever(table, indexes, DEFAULT_CONFIG.curriculum.K);
  const searchMs = performance.now() - t;
  disposeFoldIndexes(indexes);
  const cur = new Curriculum(teacher, retriever, DEFAULT_CONFIG.curriculum, corpus.task, 1);
  const adam = new Adam(student.params, { lr: 1e-4, weightDecay: 1e-5 });
  const rng = new Rng(1);
  const epochs = Number(args.epochs);
  for (let e = 1; e <= epochs; e++) {
    const batches = makeBatches(fold.train, { batchSize: 16, shuffle: true, seed: e, condition: cond });
    t = performance.now();
    for (const b of batches) trainStep(student, adam, b, { stage: 1, rng });
    const s1 = performance.now() - t;
    t = performance.now();
    let steps = 0;
    for (const b of batches) {
      for (const v of cur.views(b)) {
        trainStep(student, adam, v, { stage: 2, rng });
        steps++;
      }
    }
    const s2 = performance.now() - t;
    const { timing, diagnostics } = cur.endEpoch(e);
    console.log(
      JSON.stringify({
        epoch: e,
        utterances: table.ids.length,
        batches: batches.length,
        stage1Ms: Math.round(s1),
        stage2Ms: Math.round(s2),
        ratio: s2 / s1,
        stage2Steps: steps,
        hardnessMs: Math.round(timing.hardnessMs),
        retrievalMs: Math.round(timing.retrievalMs),
        viewsMs: Math.round(timing.viewsMs),
        curriculumShare: (timing.hardnessMs + timing.retrievalMs + timing.viewsMs) / s2,
        retrievalShare: timing.retrievalMs / s2,
        meanK: diagnostics.meanK,
        indexBuildMs: Math.round(buildMs),
        indexSearchMs: Math.round(searchMs),
      }),
    );
  }
}

const info = await initEngine();
console.error(JSON.stringify(info));
if (positionals[0] === 'spearman') await spearmanCmd();
else if (positionals[0] === 'timing') await timingCmd();
else {
  console.error('usage: npx tsx bench/curriculum.ts spearman|timing [options] (see the header of bench/curriculum.ts)');
  process.exit(2);
}
