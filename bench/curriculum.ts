/**
 * Curriculum measurements on a synthetic corpus with known per-utterance difficulty.
 *
 *   npx tsx bench/curriculum.ts spearman [--preset small] [--conds a,t,v,at,av,tv] [--folds 1] [--seeds 1]
 *                                        [--e1 15] [--e2 15] [--hidden 256] [--lr 1e-4] [--batch 16]
 *     Trains a teacher per (condition, fold, seed), freezes it, scores the fold's training
 *     utterances (batches of 16 dialogues, hardness normalised per batch as in training) and
 *     prints the Spearman correlation with the generator's difficulty of: raw D_rec, raw I,
 *     h under `shared` (I_term = I_norm) and under `complement` (1 - I_norm).
 *   npx tsx bench/curriculum.ts agreement [--data DIR | --preset small] [--conds a,t,v,at,av,tv] [--folds 1,2,3,4,5]
 *     Label agreement (precision at 1 and 3) of the re-ranked neighbours of every training utterance
 *     for rerank normalised / raw / none and for same-label retrieval (validation: session).
 *   npx tsx bench/curriculum.ts timing [--preset small] [--cond at] [--epochs 2] [--hidden 256]
 *     Time of a student stage-1 epoch vs a stage-2 curriculum epoch (K + 1 views per batch) and
 *     the share of hardness, retrieval and view building in it; index build + search time.
 *   npx tsx bench/curriculum.ts compare [--preset small] [--methods hardy,no-curriculum,momke] [--conds ...]
 *                                       [--folds 1] [--seeds 1] [--hidden 64] [--teacher 20:10] [--student 20:10]
 *                                       [--momke 20:10] [--ft 10] [--lr 1e-4] [--batch 16] [--out bench/out/compare.jsonl]
 *     Runs the real pipeline (src/train/hardy.ts: trainer with validation selection) per method,
 *     condition, fold and seed; prints one JSON line per run with the selected epoch's test
 *     metrics under validation selection and under the paper's test selection (best stage-2 epoch
 *     on test, read from the same run's history), then the six-condition averages (mean +- std
 *     over seeds). Schedules are `epochs:stage1Epochs`.
 *
 * The teacher here follows the stage schedule with the project's step (Adam, fresh gradients per
 * step) and no model selection: the measurement is about the hardness scorer, not accuracy.
 * Results are printed as JSON lines (and a summary table) for bench/RESULTS.md.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/backend.ts';
import { conditionAvail, l2Normalize, loadCorpus, makeBatches, makeFolds, writeSynth } from '../src/data/index.ts';
import type { Condition, Corpus, Fold } from '../src/data/types.ts';
import { Teacher } from '../src/model/teacher.ts';
import { createModel, modelConfig } from '../src/model/factory.ts';
import type { MerModel } from '../src/model/types.ts';
import { Adam } from '../src/train/adam.ts';
import { trainStep } from '../src/train/step.ts';
import { DEFAULT_CONFIG, type RunConfig } from '../src/train/config.ts';
import { trainHardy } from '../src/train/hardy.ts';
import { isHardyMethod } from '../src/train/methods.ts';
import { aggregate } from '../src/eval/aggregate.ts';
import { scorerFor, spearman } from '../src/eval/metrics.ts';
import { predict } from '../src/train/evaluate.ts';
import { Rng } from '../src/util/rng.ts';
import { batchHardness, teacherScores } from '../src/curriculum/hardness.ts';
import { buildFoldIndexes, disposeFoldIndexes } from '../src/curriculum/retrieval-index.ts';
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
    lr: { type: 'string', default: String(DEFAULT_CONFIG.optim.lr) },
    batch: { type: 'string', default: '16' },
    hidden: { type: 'string', default: '256' },
    methods: { type: 'string', default: 'hardy,no-curriculum,momke' },
    teacher: { type: 'string', default: '20:10' },
    student: { type: 'string', default: '20:10' },
    momke: { type: 'string', default: '20:10' },
    ft: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/out/compare.jsonl' },
    data: { type: 'string' },
  },
});

function synthCorpus(preset: string): Corpus {
  const dir = `/tmp/hardy-synth-${preset}-seed1`;
  if (!existsSync(dir)) writeSynth(dir, { preset: preset as 'tiny' | 'small' | 'iemocap', seed: 1 });
  // Text is L2-normalised before any model sees it (docs/method.md §7).
  return l2Normalize(loadCorpus(dir));
}

/** Stage 1 (complete inputs) then stage 2 (the condition), one clean Adam step per batch. */
function trainSchedule(model: MerModel, fold: Fold, cond: Condition, e1: number, e2: number, seed: number): number[] {
  const adam = new Adam(model.params, { lr: Number(args.lr), weightDecay: DEFAULT_CONFIG.optim.weightDecay });
  const rng = new Rng(seed);
  const epochMs: number[] = [];
  for (let e = 1; e <= e1 + e2; e++) {
    const t = performance.now();
    const stage = e <= e1 ? 1 : 2;
    for (const b of makeBatches(fold.train, { batchSize: Number(args.batch), shuffle: true, seed: rng.nextUint32(), condition: cond })) {
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
        // How well the frozen teacher does on the fold's validation split under the condition.
        const p = predict(teacher, fold.valid, { stage: 2, batchSize: 16, condition: cond });
        const teacherValid = scorerFor(corpus.task, corpus.numClasses)(p.preds, p.labels);
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
          teacherValidWA: teacherValid.WA!,
          teacherValidUA: teacherValid.UA!,
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

function schedule(s: string): { epochs: number; stage1Epochs: number } {
  const [epochs, stage1Epochs] = s.split(':').map(Number);
  return { epochs: epochs!, stage1Epochs: stage1Epochs! };
}

async function compareCmd(): Promise<void> {
  const corpus = synthCorpus(args.preset!);
  const hidden = Number(args.hidden);
  const runs: { method: string; seed: number; condition: Condition; fold: number; val: Record<string, number>; test: Record<string, number> }[] = [];
  for (const seed of args.seeds!.split(',').map(Number)) {
    const folds = makeFolds(corpus, { seed, validFraction: DEFAULT_CONFIG.validFraction });
    const config: RunConfig = {
      ...DEFAULT_CONFIG,
      seed,
      model: { ...DEFAULT_CONFIG.model, hidden },
      teacher: schedule(args.teacher!),
      student: schedule(args.student!),
      momke: schedule(args.momke!),
      finetune: { ...DEFAULT_CONFIG.finetune, epochs: Number(args.ft) },
      optim: { ...DEFAULT_CONFIG.optim, lr: Number(args.lr), batchSize: Number(args.batch) },
    };
    for (const foldIndex of args.folds!.split(',').map(Number)) {
      const fold = folds.find((f) => f.index === foldIndex)!;
      for (const cond of args.conds!.split(',') as Condition[]) {
        for (const method of args.methods!.split(',')) {
          if (!isHardyMethod(method)) throw new Error(`unknown method ${method}`);
          const t0 = performance.now();
          const r = await trainHardy({ method, config, corpus, fold, condition: cond, score: scorerFor(corpus.task, corpus.numClasses), progress: { quiet: true } });
          const stage2 = r.result.history.filter((h) => h.stage === 2);
          const primary = corpus.task === 'classification' ? 'WA' : 'ACC2';
          const byTest = stage2.reduce((b, h) => (h.test[primary]! > b.test[primary]! ? h : b), stage2[0]!);
          const row = {
            method,
            seed,
            condition: cond,
            fold: foldIndex,
            val: r.result.test,
            test: byTest.test,
            valEpoch: r.result.bestEpoch,
            testEpoch: byTest.epoch,
            seconds: (performance.now() - t0) / 1000,
            stage1EpochS: r.timing.stage1EpochS,
            stage2EpochS: r.timing.stage2EpochS,
            meanK: r.diagnostics.at(-1)?.meanK,
            hitAt: r.diagnostics.at(-1)?.hitAt,
          };
          runs.push(row);
          appendFileSync(args.out!, JSON.stringify(row) + '\n');
          console.log(JSON.stringify(row));
          r.result.model.dispose();
        }
      }
    }
  }
  for (const method of args.methods!.split(',')) {
    for (const sel of ['val', 'test'] as const) {
      const agg = aggregate(runs.filter((r) => r.method === method).map((r) => ({ seed: r.seed, condition: r.condition, fold: r.fold, metrics: r[sel] })));
      const line = { summary: true, method, selection: sel, perCondition: agg.perCondition, average: agg.average, folds: agg.folds, seeds: agg.seeds };
      appendFileSync(args.out!, JSON.stringify(line) + '\n');
      console.log(JSON.stringify(line));
    }
  }
}

const info = await initEngine();
console.error(JSON.stringify(info));
/**
 * Label agreement of the kept neighbours of every training utterance (training labels only) for
 * each `rerank` option and retrieval, per condition: precision at 1 and 3 of the re-ranked list.
 * Features as the student sees them without fine-tuning (text L2-normalised).
 */
async function agreementCmd(): Promise<void> {
  await initEngine();
  const dir = args.data ?? '';
  const corpus = dir ? l2Normalize(loadCorpus(dir)) : synthCorpus(args.preset!);
  const conds = args.conds!.split(',') as Condition[];
  const K = 3;
  console.log(`| fold | rerank | neighbours | ${conds.map((c) => `${c} p@1 / p@3`).join(' | ')} | mean p@1 | mean p@3 |`);
  console.log(`|---|---|---|${conds.map(() => '---|').join('')}---|---|`);
  for (const foldIdx of args.folds!.split(',').map(Number)) {
    const fold = makeFolds(corpus, { validation: 'session' }).find((f) => f.index === foldIdx)!;
    const table = trainingTable(fold);
    const indexes = buildFoldIndexes(table, fold);
    for (const [rerank, neighbours] of [['normalised', 'any'], ['raw', 'any'], ['none', 'any'], ['normalised', 'same-label']] as const) {
      const r = new Retriever(table, indexes, K, { rerank, neighbours });
      const cells: [number, number][] = conds.map((c) => {
        const av = conditionAvail(c);
        let p1 = 0;
        let p3 = 0;
        for (let row = 0; row < table.ids.length; row++) {
          const cand = r.candidates(row, av);
          const same = (n: number) => cand.slice(0, n).filter((x) => table.labels[x.row] === table.labels[row]).length / Math.max(1, Math.min(n, cand.length));
          p1 += same(1);
          p3 += same(3);
        }
        return [p1 / table.ids.length, p3 / table.ids.length];
      });
      const mean = (i: 0 | 1) => cells.reduce((a, c) => a + c[i], 0) / cells.length;
      console.log(`| ${foldIdx} | ${rerank} | ${neighbours} | ${cells.map(([a, b]) => `${a.toFixed(3)} / ${b.toFixed(3)}`).join(' | ')} | ${mean(0).toFixed(3)} | ${mean(1).toFixed(3)} |`);
    }
    disposeFoldIndexes(indexes);
  }
}

if (positionals[0] === 'agreement') await agreementCmd();
else if (positionals[0] === 'spearman') await spearmanCmd();
else if (positionals[0] === 'timing') await timingCmd();
else if (positionals[0] === 'compare') await compareCmd();
else {
  console.error('usage: npx tsx bench/curriculum.ts spearman|timing|compare [options] (see the header of bench/curriculum.ts)');
  process.exit(2);
}
