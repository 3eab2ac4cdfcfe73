/**
 * The controlled curriculum study of issue 13: arms of one pipeline (src/train/hardy.ts) on one
 * commit, paired by (seed, fold, condition), resumable, results committed as they come.
 *
 *   npx tsx bench/study.ts run --data DIR --config FILE --out DIR [--seeds 1,2,3,4,5] [--folds 1]
 *                              [--conds t,av] [--arms momke,no-curriculum,self-views,hardy,...]
 *     For each seed (outer loop, so partial results are complete pairs), fold, arm and condition:
 *     trains the arm with validation selection and appends one JSON line to OUT/results.jsonl
 *     (test and valid metrics of the selected epoch, epochs run, the curriculum's last diagnostics,
 *     the commit). A (seed, fold, condition, arm) already in the file is skipped; an unfinished one
 *     resumes from its checkpoints. Shared across the arms of a (seed, fold): the fine-tuned
 *     features, the indexes and the stage-1 checkpoints of each model kind; shared across the arms
 *     of a (seed, fold, condition): the teacher. So the arms differ only in their stage 2.
 *   npx tsx bench/study.ts hardness --data DIR --config FILE --out DIR [--seeds 1] [--folds 1] [--conds t,av]
 *                                   [--teachers student:reconstruction,raw:reconstruction]
 *     Spearman correlation of teachers' hardness with the generator's ground truth and the ridge
 *     reference (see `hardness()` below).
 *   npx tsx bench/study.ts ridge --data DIR --config FILE [--seeds 1] [--folds 1] [--conds a,t,v,at,av,tv]
 *     The ridge reference of `hardness` alone (seconds, no training), one JSON line per condition,
 *     with `relevance`: how the truth relates to classifying from the available modalities.
 *   npx tsx bench/study.ts relevance --data DIR --config FILE --out DIR [--arms hardy]
 *     The saved hardness of a study's teacher units (of those arms; absent = all) against the truth
 *     and against how hard each training utterance is to classify from the kept modalities
 *     (`relevance()` below).
 *   npx tsx bench/study.ts summary --out DIR [--ref self-views] [--metric WA] [--seeds ..] [--folds ..] [--conds ..] [--arms ..]
 *     (the records of those seeds, folds, conditions and arms only; absent = all; then only the
 *     (seed, fold) cells where every arm has every condition)
 *     Per arm: mean test metric per condition and averaged over the conditions run; the paired
 *     difference to the reference arm per (seed, fold), averaged over conditions, with a 95 %
 *     confidence interval (t distribution over the (seed, fold) cells that every compared arm has
 *     finished), and per condition over seeds. Markdown, for bench/RESULTS.md.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/backend.ts';
import { conditionAvail, loadCorpus, makeBatches, makeFolds, modalityStats, MODALITIES, standardize, type Dialogue, type Utterance } from '../src/data/index.ts';
import { remapFold } from '../src/train/finetune.ts';
import { choleskySolve } from '../src/data/calibrate.ts';
import { batchHardness, minMaxNormalise, setHardness, teacherScores } from '../src/curriculum/hardness.ts';
import { FeaturePipeline } from '../src/train/features.ts';
import { train } from '../src/train/trainer.ts';
import { FoldLayout, modelFiles, UnitLayout } from '../src/run/layout.ts';
import { INCOMPLETE_CONDITIONS, type Avail, type Condition, type Corpus, type Fold, type Modality } from '../src/data/types.ts';
import type { ModelFiles, UnitFiles } from '../src/train/files.ts';
import { readConfigFile, resolveConfig } from '../src/cli/config.ts';
import { prepareFeatures, teacherView, trainHardy, truthOf } from '../src/train/hardy.ts';
import { isHardyMethod, type HardyMethod } from '../src/train/methods.ts';
import type { RunConfig } from '../src/train/config.ts';

/** A unit's files with the teacher's swapped for a shared one. */
const withTeacher = (unit: UnitLayout, teacher: ModelFiles): UnitFiles => ({ ...unit, models: { ...unit.models, teacher } });
import { scorerFor, spearman } from '../src/eval/metrics.ts';

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    config: { type: 'string' },
    out: { type: 'string', default: 'bench/out/study' },
    // no defaults here: `summary` and `relevance` read an absent one as "all"; `run`, `hardness` and `ridge` use DEFAULTS
    seeds: { type: 'string' },
    folds: { type: 'string' },
    conds: { type: 'string' },
    arms: { type: 'string' },
    ref: { type: 'string', default: 'self-views' },
    metric: { type: 'string', default: 'WA' },
    teachers: { type: 'string', default: 'student:reconstruction,raw:reconstruction' },
  },
});

const DEFAULTS = {
  seeds: '1,2,3,4,5',
  folds: '1',
  conds: 't,av',
  arms: 'self-views,hardy,same-label,oracle,keep-dialogue,keep-dialogue@oracle,shuffled-hardness,no-curriculum,momke,fixed-k,centred',
};
for (const k of ['seeds', 'folds', 'conds', 'arms'] as const) if (!['summary', 'relevance'].includes(positionals[0]!)) args[k] ??= DEFAULTS[k];

export interface StudyRecord {
  seed: number;
  fold: number;
  cond: string;
  arm: string;
  commit: string;
  test: Record<string, number>;
  valid?: Record<string, number>;
  bestEpoch: number;
  epochs: number;
  teacherBestEpoch?: number;
  meanK?: number;
  precisionAt?: Record<string, number>;
  seconds: number;
  finishedAt: string;
}

/**
 * An arm is a method (src/train/methods.ts), optionally `@oracle`, `@shuffled` or `@margin`: the
 * same method with the generator's true difficulty as hardness, with the teacher's hardness permuted
 * within the batch, or with how hard the utterance is to classify from the kept modalities (a
 * linear probe's cross-fitted margin on the training labels, `probeDifficulty`) as hardness: the
 * hardness the curriculum would want if its job is the student's. E.g. `keep-dialogue@margin`: the
 * utterances swapped are the hardest to classify.
 */
function parseArm(arm: string): { method: HardyMethod; overlay: Partial<RunConfig['curriculum']>; margin: boolean } {
  const [method, variant] = arm.split('@');
  if (!method || !isHardyMethod(method)) throw new Error(`unknown arm '${arm}' (a method of src/train/methods.ts, optionally @oracle, @shuffled or @margin)`);
  if (variant !== undefined && variant !== 'oracle' && variant !== 'shuffled' && variant !== 'margin') throw new Error(`arm '${arm}': the variants are @oracle, @shuffled and @margin`);
  return { method, overlay: variant ? { hardness: variant === 'margin' ? 'oracle' : variant } : {}, margin: variant === 'margin' };
}

/** The corpus whose ground truth under `cond` is the probe's classification difficulty of the fold's training utterances (the `@margin` arms). */
function withMarginTruth(corpus: Corpus, fold: Fold, cond: Condition): Corpus {
  const { utts, difficulty } = probeDifficulty(rawTrain(corpus, fold), conditionAvail(cond), corpus.numClasses);
  const per = new Map(corpus.modalityDifficulty);
  utts.forEach((u, i) => per.set(u.id, { a: difficulty[i]!, t: difficulty[i]!, v: difficulty[i]! }));
  return { ...corpus, modalityDifficulty: per };
}

const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
const key = (r: Pick<StudyRecord, 'seed' | 'fold' | 'cond' | 'arm'>): string => `${r.seed}/${r.fold}/${r.cond}/${r.arm}`;

function readRecords(out: string): StudyRecord[] {
  const file = join(out, 'results.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StudyRecord);
}

async function run(): Promise<void> {
  if (!args.data || !args.config) throw new Error('run needs --data and --config');
  const out = args.out!;
  mkdirSync(out, { recursive: true });
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
  const arms = list(args.arms!);
  for (const a of arms) parseArm(a);
  const base = resolveConfig(readConfigFile(args.config));
  const meta = { data: args.data, config: base, seeds: args.seeds, folds: args.folds, conds: args.conds, arms, commit, dirty: dirty.length > 0 };
  const metaFile = join(out, 'study.json');
  if (existsSync(metaFile)) {
    const have = JSON.parse(readFileSync(metaFile, 'utf8')) as typeof meta;
    if (have.commit !== commit) throw new Error(`${metaFile}: the study ran on ${have.commit}, this is ${commit}; every arm must run on one commit (use another --out)`);
    if (JSON.stringify(have.config) !== JSON.stringify(base)) throw new Error(`${metaFile}: another config; use another --out`);
  } else writeFileSync(metaFile, JSON.stringify(meta, null, 2) + '\n');
  if (dirty) process.stderr.write(`warning: the worktree has uncommitted changes to tracked files; results record commit ${commit}\n`);

  await initEngine();
  const corpus = loadCorpus(args.data);
  const score = scorerFor(corpus.task, corpus.numClasses);
  const done = new Set(readRecords(out).map(key));
  const file = join(out, 'results.jsonl');
  for (const seed of list(args.seeds!).map(Number)) {
    const config = { ...base, seed };
    const folds = makeFolds(corpus, { seed, validFraction: config.validFraction, validation: config.validation });
    for (const foldIdx of list(args.folds!).map(Number)) {
      const fold = folds.find((f) => f.index === foldIdx)!;
      const foldDir = join(out, `seed-${seed}`, `fold-${foldIdx}`);
      const foldLayout = new FoldLayout(foldDir);
      // Arms outer, conditions inner: an arm's cell (seed, fold) is complete as early as possible.
      for (const arm of arms) {
        const { method, overlay, margin } = parseArm(arm);
        for (const cond of list(args.conds!) as Condition[]) {
          const rec = { seed, fold: foldIdx, cond, arm };
          if (done.has(key(rec))) continue;
          const t0 = performance.now();
          const res = await trainHardy({
            method,
            config: { ...config, conditions: [cond], curriculum: { ...config.curriculum, ...overlay } },
            corpus: margin ? withMarginTruth(corpus, fold, cond) : corpus,
            fold,
            condition: cond,
            score,
            // the unit's own folder, except the teacher: one per (seed, fold, condition), shared by the arms
            files: withTeacher(new UnitLayout(join(foldDir, cond, arm), foldLayout), modelFiles(join(foldDir, cond, 'teacher'), foldLayout.stage1('teacher'))),
            progress: { quiet: true },
          });
          const last = res.diagnostics[res.diagnostics.length - 1];
          const line: StudyRecord = {
            ...rec,
            commit,
            test: res.result.test,
            valid: res.result.valid,
            bestEpoch: res.result.bestEpoch,
            epochs: res.result.history.length,
            teacherBestEpoch: res.teacher?.bestEpoch,
            meanK: last?.meanK,
            precisionAt: last?.precisionAt,
            seconds: (performance.now() - t0) / 1000,
            finishedAt: new Date().toISOString(),
          };
          res.result.model.dispose();
          appendFileSync(file, JSON.stringify(line) + '\n');
          process.stderr.write(`${key(rec)}: ${args.metric} ${(100 * line.test[args.metric!]!).toFixed(2)} (epoch ${line.bestEpoch + 1}/${line.epochs}, ${line.seconds.toFixed(0)} s)\n`);
        }
      }
    }
  }
}

/** Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom (table; normal beyond 30). */
export function t975(df: number): number {
  const T = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
  return df < T.length ? T[df]! : 1.96;
}

/** Mean and 95 % CI half-width of `xs` (t over n - 1 degrees of freedom). */
export function meanCi(xs: number[]): { mean: number; half: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  if (n < 2) return { mean, half: NaN, n };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, half: (t975(n - 1) * sd) / Math.sqrt(n), n };
}

function summary(): void {
  const keep = (v: string | undefined, x: string | number): boolean => v === undefined || list(v).includes(String(x));
  const chosen = readRecords(args.out!).filter((r) => keep(args.seeds, r.seed) && keep(args.folds, r.fold) && keep(args.conds, r.cond) && keep(args.arms, r.arm));
  const metric = args.metric!;
  const ref = args.ref!;
  const conds = [...new Set(chosen.map((r) => r.cond))];
  const arms = [...new Set(chosen.map((r) => r.arm))];
  // Only (seed, fold) cells where every arm has every condition, so that every number below is over the same cells.
  const have = new Set(chosen.map(key));
  const allCells = [...new Set(chosen.map((r) => `${r.seed}/${r.fold}`))];
  const cells = allCells.filter((cell) => arms.every((a) => conds.every((c) => have.has(`${cell}/${c}/${a}`))));
  const recs = chosen.filter((r) => cells.includes(`${r.seed}/${r.fold}`));
  const by = new Map(recs.map((r) => [key(r), r]));
  const pct = (x: number): string => (100 * x).toFixed(2);
  const lines: string[] = [];
  const commits = [...new Set(recs.map((r) => r.commit))];
  lines.push(`${recs.length} runs, commit ${commits.join(', ')}; (seed, fold) cells complete for every arm: ${cells.length} of ${allCells.length} (${cells.join(' ')}); conditions ${conds.join(', ')}`);
  if (!cells.length) {
    process.stdout.write(`${lines[0]}\nno (seed, fold) cell has every arm under every condition yet (narrow --arms, --conds, --seeds or --folds)\n`);
    return;
  }
  lines.push('');
  lines.push(`| arm | ${conds.map((c) => `${c} ${metric}`).join(' | ')} | mean over conditions | paired diff to ${ref} (95 % CI, n cells) | mean K_i | precision@1 |`);
  lines.push(`|---|${conds.map(() => '---|').join('')}---|---|---|---|`);
  for (const arm of arms) {
    const perCond = conds.map((c) => {
      const xs = recs.filter((r) => r.arm === arm && r.cond === c).map((r) => r.test[metric]!);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
    });
    // cells where both arms have every condition
    const diffs: number[] = [];
    const means: number[] = [];
    for (const cell of cells) {
      const mine = conds.map((c) => by.get(`${cell}/${c}/${arm}`));
      const theirs = conds.map((c) => by.get(`${cell}/${c}/${ref}`));
      if (mine.some((x) => !x)) continue;
      means.push(mine.reduce((a, r) => a + r!.test[metric]!, 0) / conds.length);
      if (theirs.some((x) => !x)) continue;
      diffs.push(mine.reduce((a, r, i) => a + r!.test[metric]! - theirs[i]!.test[metric]!, 0) / conds.length);
    }
    const d = meanCi(diffs);
    const m = meanCi(means);
    const ks = recs.filter((r) => r.arm === arm && r.meanK !== undefined);
    const meanK = ks.length ? (ks.reduce((a, r) => a + r.meanK!, 0) / ks.length).toFixed(2) : '';
    const p1 = ks.length ? (ks.reduce((a, r) => a + (r.precisionAt?.['1'] ?? 0), 0) / ks.length).toFixed(3) : '';
    const diffCell = arm === ref ? '(reference)' : d.n ? `${d.mean >= 0 ? '+' : ''}${pct(d.mean)} (${pct(d.mean - d.half)} .. ${pct(d.mean + d.half)}, n ${d.n})` : '';
    lines.push(`| ${arm} | ${perCond.map(pct).join(' | ')} | ${m.n ? pct(m.mean) : ''} | ${diffCell} | ${meanK} | ${p1} |`);
  }
  lines.push('');
  lines.push(`Per condition, paired difference to ${ref} over the (seed, fold) cells (mean, 95 % CI):`);
  lines.push('');
  lines.push(`| arm | ${conds.join(' | ')} |`);
  lines.push(`|---|${conds.map(() => '---|').join('')}`);
  for (const arm of arms) {
    if (arm === ref) continue;
    const row = conds.map((c) => {
      const xs = cells.flatMap((cell) => {
        const a = by.get(`${cell}/${c}/${arm}`);
        const b = by.get(`${cell}/${c}/${ref}`);
        return a && b ? [a.test[metric]! - b.test[metric]!] : [];
      });
      const d = meanCi(xs);
      return d.n ? `${d.mean >= 0 ? '+' : ''}${pct(d.mean)} (${pct(d.mean - d.half)} .. ${pct(d.mean + d.half)})` : '';
    });
    lines.push(`| ${arm} | ${row.join(' | ')} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * Hardness vs the generator's ground truth. For each (seed, fold, condition) and each teacher
 * variant (`--teachers`, FEATURES:SELECTION with FEATURES = student | raw, the
 * `curriculum.teacherFeatures` option, and SELECTION = reconstruction | accuracy), a teacher is
 * trained under OUT/hardness (stage 1 shared per (seed, fold, features)) and scored on the fold's
 * training utterances. Spearman correlation with the true difficulty (mean rho_m of the missing
 * modalities) of: raw D and I, D min-max normalised within each batch, h per batch (as the
 * curriculum uses it, both MI readings) and h normalised over the whole set (what hardness.json
 * saves). Beside them the reference the issue asks for: a ridge regression predicting the missing
 * modalities from the available ones (`ridgeReference`), on the raw standardised features and on
 * the student's (fine-tuned) features.
 */
async function hardness(): Promise<void> {
  const { base, corpus0, truth } = truthCorpus('hardness');
  await initEngine();
  const out = args.out!;
  const score = scorerFor(corpus0.task, corpus0.numClasses);
  const variants = list(args.teachers!).map((v) => {
    const [features, selection] = v.split(':') as ['student' | 'raw', 'reconstruction' | 'accuracy'];
    if (!['student', 'raw'].includes(features) || !['reconstruction', 'accuracy'].includes(selection)) throw new Error(`--teachers: '${v}' is not FEATURES:SELECTION (student|raw : reconstruction|accuracy)`);
    return { features, selection };
  });
  const file = join(out, 'hardness.jsonl');
  for (const seed of list(args.seeds!).map(Number)) {
    for (const foldIdx of list(args.folds!).map(Number)) {
      const fold0 = makeFolds(corpus0, { seed, validFraction: base.validFraction, validation: base.validation }).find((f) => f.index === foldIdx)!;
      const dir = join(out, 'hardness', `seed-${seed}`, `fold-${foldIdx}`);
      const config = { ...base, seed };
      // the student's features: the study's fine-tuned pipeline of this (seed, fold) when it exists
      const studyFeatures = join(out, `seed-${seed}`, `fold-${foldIdx}`, 'features');
      const { corpus, fold } = prepareFeatures({ corpus: corpus0, fold: fold0, files: { features: FeaturePipeline.exists(studyFeatures) ? studyFeatures : join(dir, 'features') } }, config);
      for (const cond of list(args.conds!) as Condition[]) {
        const avail = conditionAvail(cond);
        const truthOfId = (id: string): number => truth(id, avail);
        const raw = teacherView({ corpus: corpus0, fold: fold0 }, corpus, fold, { ...config, curriculum: { ...config.curriculum, teacherFeatures: 'raw' } });
        const ridge = { raw: ridgeReference(raw.fold.train, avail, truthOfId), student: ridgeReference(fold.train, avail, truthOfId) };
        for (const { features, selection } of variants) {
          const tv = features === 'raw' ? raw : { corpus, fold, input: undefined };
          const cfg = { ...config, conditions: [cond], curriculum: { ...config.curriculum, teacherFeatures: features } };
          const shape = { dims: tv.corpus.dims, task: tv.corpus.task, numClasses: tv.corpus.numClasses };
          const files = modelFiles(join(dir, cond, `teacher-${features}-${selection}`), join(dir, `stage1-teacher-${features}`));
          const t0 = performance.now();
          const t = await train({ config: cfg, corpus: shape, fold: tv.fold, condition: cond, score, primary: 'WA', progress: { quiet: true }, kind: 'teacher', files, selectOn: selection === 'reconstruction' ? 'reconstruction' : 'task' });
          const batches = makeBatches(fold.train, { batchSize: config.optim.batchSize, shuffle: true, seed: 7, condition: cond });
          const rows: { truth: number; D: number; I: number; dBatch: number; hShared: number; hComp: number; setShared: number; setComp: number }[] = [];
          const scored = batches.map((b) => (tv.input ? tv.input(b) : b));
          const setS = setHardness(t.model, scored, { ...cfg.curriculum, miTerm: 'shared' });
          const setC = setHardness(t.model, scored, { ...cfg.curriculum, miTerm: 'complement' });
          for (const batch of scored) {
            const { D, I } = teacherScores(t.model, batch);
            const hs = batchHardness(batch, D, I, { ...cfg.curriculum, miTerm: 'shared' });
            const hc = batchHardness(batch, D, I, { ...cfg.curriculum, miTerm: 'complement' });
            const dn = minMaxNormalise(D, batch.umask);
            batch.uttIds.forEach((ids, b) =>
              ids.forEach((id, sIdx) => {
                const i = b * batch.S + sIdx;
                if (!batch.umask[i]) return;
                rows.push({ truth: truthOfId(id), D: D[i]!, I: I[i]!, dBatch: dn[i]!, hShared: hs.get(id)!.h, hComp: hc.get(id)!.h, setShared: setS.get(id)!.h, setComp: setC.get(id)!.h });
              }),
            );
          }
          t.model.dispose();
          const truth = rows.map((r) => r.truth);
          const rho = (k: keyof (typeof rows)[number]): number => spearman(rows.map((r) => r[k]), truth);
          const line = {
            seed,
            fold: foldIdx,
            cond,
            teacherFeatures: features,
            selection,
            teacherBestEpoch: t.bestEpoch,
            teacherEpochs: t.history.length,
            utterances: rows.length,
            rho_D: rho('D'),
            rho_I: rho('I'),
            rho_D_batch: rho('dBatch'),
            rho_h_batch_shared: rho('hShared'),
            rho_h_batch_complement: rho('hComp'),
            rho_h_set_shared: rho('setShared'),
            rho_h_set_complement: rho('setComp'),
            rho_ridge_raw: ridge.raw.rho,
            rho_ridge_raw_relative: ridge.raw.rhoRelative,
            rho_ridge_student: ridge.student.rho,
            ridgeLambda: { raw: ridge.raw.lambda, student: ridge.student.lambda },
            seconds: (performance.now() - t0) / 1000,
          };
          appendFileSync(file, JSON.stringify(line) + '\n');
          process.stdout.write(JSON.stringify(line) + '\n');
        }
      }
    }
  }
}

/** The concatenated features of `mods` with a bias column, one row per utterance. */
const featureRows = (utts: readonly Utterance[], mods: readonly Modality[]): Float64Array[] => {
  const d = mods.reduce((n, m) => n + utts[0]!.features[m].length, 0) + 1;
  return utts.map((u) => {
    const r = new Float64Array(d);
    let o = 0;
    for (const m of mods) {
      r.set(u.features[m], o);
      o += u.features[m].length;
    }
    r[d - 1] = 1;
    return r;
  });
};

/**
 * Cross-fitted ridge regression X -> Y: rows are split into 5 groups (`group[i]`, one per training
 * dialogue modulo 5), and each group is predicted by a fit on the other four, so no row scores its
 * own fit. Returns the predictions, one row per input row.
 */
function crossFitRidge(X: readonly Float64Array[], Y: readonly Float64Array[], group: readonly number[], lambda: number): Float64Array[] {
  const dIn = X[0]!.length;
  const dOut = Y[0]!.length;
  const pred = X.map(() => new Float64Array(dOut));
  for (let g = 0; g < 5; g++) {
    const fit = X.map((_, i) => i).filter((i) => group[i] !== g);
    const A = new Float64Array(dIn * dIn);
    const B = new Float64Array(dIn * dOut);
    for (const i of fit) {
      const x = X[i]!;
      for (let a = 0; a < dIn; a++) {
        for (let b = 0; b <= a; b++) A[a * dIn + b]! += x[a]! * x[b]!;
        for (let c = 0; c < dOut; c++) B[a * dOut + c]! += x[a]! * Y[i]![c]!;
      }
    }
    for (let a = 0; a < dIn; a++) {
      for (let b = 0; b < a; b++) A[b * dIn + a] = A[a * dIn + b]!;
      A[a * dIn + a]! += lambda;
    }
    const W = choleskySolve(A, dIn, B, dOut);
    X.forEach((x, i) => {
      if (group[i] !== g) return;
      for (let c = 0; c < dOut; c++) {
        let p = 0;
        for (let a = 0; a < dIn; a++) p += x[a]! * W[a * dOut + c]!;
        pred[i]![c] = p;
      }
    });
  }
  return pred;
}

/** The fold's training utterances with the cross-fitting group of each (its dialogue's index modulo 5). */
const grouped = (dialogues: readonly Dialogue[]): { utts: Utterance[]; group: number[] } => {
  const pairs = dialogues.flatMap((d, i) => d.utterances.map((u) => ({ u, g: i % 5 })));
  return { utts: pairs.map((p) => p.u), group: pairs.map((p) => p.g) };
};

/**
 * The reference the issue names: how well a linear model recovers the missing modalities from the
 * available ones, per utterance. Cross-fitted ridge regression from the concatenated available
 * features to each missing modality; an utterance's error is the mean over its missing modalities
 * of the per-dimension squared error (what D_rec is for the teacher). lambda in {1, 10, 100, 1000}
 * is chosen by the cross-fitted error (no ground truth used). Returns the Spearman correlation of
 * that error with the truth.
 */
function ridgeReference(dialogues: readonly Dialogue[], avail: readonly number[], truth: (id: string) => number): { rho: number; rhoRelative: number; lambda: number; mse: number } {
  const inMods = MODALITIES.filter((_, i) => avail[i]);
  const outMods = MODALITIES.filter((_, i) => !avail[i]);
  const { utts, group } = grouped(dialogues);
  const X = featureRows(utts, inMods);
  const t = utts.map((u) => truth(u.id));
  let best = { mse: Infinity, rho: NaN, rhoRelative: NaN, lambda: NaN };
  for (const lambda of [1, 10, 100, 1000]) {
    const err = new Float64Array(utts.length);
    const rel = new Float64Array(utts.length); // the error over the target's own squared norm (1 - R^2 of the utterance)
    for (const m of outMods) {
      const Y = utts.map((u) => Float64Array.from(u.features[m]));
      crossFitRidge(X, Y, group, lambda).forEach((p, i) => {
        let se = 0;
        let norm = 0;
        for (let c = 0; c < p.length; c++) {
          se += (p[c]! - Y[i]![c]!) ** 2;
          norm += Y[i]![c]! ** 2;
        }
        err[i]! += se / p.length / outMods.length;
        rel[i]! += se / norm / outMods.length;
      });
    }
    const mse = err.reduce((a, b) => a + b, 0) / err.length;
    if (mse < best.mse) best = { mse, lambda, rho: spearman([...err], t), rhoRelative: spearman([...rel], t) };
  }
  return best;
}

/**
 * How hard each training utterance is to classify from the modalities a condition keeps: a
 * cross-fitted ridge classifier (least squares on one-hot labels, lambda in {1, 10, 100, 1000}
 * chosen by its cross-fitted accuracy) on the fold's training utterances; an utterance's difficulty
 * is minus its margin (the true class's score minus the best other class's). Training labels only.
 */
function probeDifficulty(dialogues: readonly Dialogue[], avail: readonly number[], numClasses: number): { utts: Utterance[]; difficulty: number[]; accuracy: number; lambda: number } {
  const { utts, group } = grouped(dialogues);
  const X = featureRows(utts, MODALITIES.filter((_, i) => avail[i]));
  const Y = utts.map((u) => Float64Array.from({ length: numClasses }, (_, c) => Number(u.label === c)));
  let best = { utts, difficulty: [] as number[], accuracy: -1, lambda: NaN };
  for (const lambda of [1, 10, 100, 1000]) {
    const margin = crossFitRidge(X, Y, group, lambda).map((p, i) => {
      const y = utts[i]!.label as number;
      return p[y]! - Math.max(...[...p].filter((_, c) => c !== y));
    });
    const accuracy = margin.filter((m) => m > 0).length / margin.length;
    if (accuracy > best.accuracy) best = { utts, difficulty: margin.map((m) => -m), accuracy, lambda };
  }
  return best;
}

/**
 * Does the truth the curriculum tracks matter to the student? The Spearman correlation of the
 * probe's classification difficulty (above) with the truth (the missing modalities' recoverability,
 * what the `oracle` arms use) and with the available modalities' own private share. If the first is
 * about 0, an utterance's truth says nothing about how hard it is to classify from what the student sees.
 */
function classificationRelevance(dialogues: readonly Dialogue[], avail: readonly number[], numClasses: number, per: ReadonlyMap<string, Record<Modality, number>>): { accuracy: number; rhoTruth: number; rhoAvailable: number; lambda: number } {
  const { utts, difficulty, accuracy, lambda } = probeDifficulty(dialogues, avail, numClasses);
  const rhoOf = (id: string, available: boolean): number => {
    const ms = MODALITIES.filter((_, i) => Boolean(avail[i]) === available);
    return ms.reduce((s, m) => s + per.get(id)![m], 0) / ms.length;
  };
  return { accuracy, lambda, rhoTruth: spearman(difficulty, utts.map((u) => rhoOf(u.id, false))), rhoAvailable: spearman(difficulty, utts.map((u) => rhoOf(u.id, true))) };
}

/** `--config` resolved and `--data` loaded; the corpus must record a ground truth (a synthetic preset's). */
function truthCorpus(cmd: string): { base: RunConfig; corpus0: Corpus; truth: (id: string, avail: Avail) => number } {
  if (!args.data || !args.config) throw new Error(`${cmd} needs --data and --config (the study's)`);
  const corpus0 = loadCorpus(args.data);
  const truth = truthOf(corpus0);
  if (!truth) throw new Error(`${args.data}: no ground truth (use a synthetic preset)`);
  return { base: resolveConfig(readConfigFile(args.config)), corpus0, truth };
}

/** The fold's training dialogues on the raw features, standardised on them (what the probes and the ridge read). */
const rawTrain = (corpus: Corpus, fold: Fold): Dialogue[] => remapFold(fold, standardize(corpus, modalityStats(fold.train))).train;

/** The ridge reference and the classification relevance of the truth (no training), on the raw standardised features, for every condition given. */
function ridge(): void {
  const { base, corpus0, truth } = truthCorpus('ridge');
  const per = corpus0.modalityDifficulty;
  if (!per) throw new Error(`${args.data}: no per-modality ground truth (use the scripted preset)`);
  for (const seed of list(args.seeds!).map(Number)) {
    for (const foldIdx of list(args.folds!).map(Number)) {
      const fold0 = makeFolds(corpus0, { seed, validFraction: base.validFraction, validation: base.validation }).find((f) => f.index === foldIdx)!;
      const train = rawTrain(corpus0, fold0);
      for (const cond of list(args.conds!) as Condition[]) {
        const avail = conditionAvail(cond);
        const r = ridgeReference(train, avail, (id) => truth(id, avail));
        const relevance = classificationRelevance(train, avail, corpus0.numClasses, per);
        process.stdout.write(JSON.stringify({ seed, fold: foldIdx, cond, ...r, relevance }) + '\n');
      }
    }
  }
}

/**
 * The saved hardness of every teacher unit of a study (`OUT/seed-S/fold-F/COND/ARM/hardness.json`,
 * whole-set normalised) against the truth and against the probe's classification difficulty of the
 * same training utterances: does the teacher score what the student finds hard? One JSON line per
 * unit, then the mean per condition (Markdown).
 */
function relevance(): void {
  const { base, corpus0, truth } = truthCorpus('relevance');
  const rows: { cond: string; rhoTruth: number; rhoProbe: number; probeTruth: number }[] = [];
  for (const seedDir of readdirSync(args.out!).filter((d) => /^seed-\d+$/.test(d))) {
    const seed = Number(seedDir.slice(5));
    const folds = makeFolds(corpus0, { seed, validFraction: base.validFraction, validation: base.validation });
    for (const foldDir of readdirSync(join(args.out!, seedDir)).filter((d) => /^fold-\d+$/.test(d))) {
      const fold0 = folds.find((f) => f.index === Number(foldDir.slice(5)))!;
      const train = rawTrain(corpus0, fold0);
      for (const cond of INCOMPLETE_CONDITIONS) {
        const condDir = join(args.out!, seedDir, foldDir, cond);
        if (!existsSync(condDir)) continue;
        const avail = conditionAvail(cond);
        const probe = probeDifficulty(train, avail, corpus0.numClasses);
        const truths = probe.utts.map((u) => truth(u.id, avail));
        const arms = args.arms ? list(args.arms) : readdirSync(condDir);
        for (const arm of arms.filter((a) => existsSync(join(condDir, a, 'hardness.json')))) {
          const h = JSON.parse(readFileSync(join(condDir, arm, 'hardness.json'), 'utf8')) as Record<string, number>;
          const hs = probe.utts.map((u) => h[u.id]!);
          const row = { seed, fold: fold0.index, cond, arm, utterances: hs.length, rhoTruth: spearman(hs, truths), rhoProbe: spearman(hs, probe.difficulty), probeTruth: spearman(probe.difficulty, truths), probeAccuracy: probe.accuracy };
          rows.push(row);
          process.stdout.write(JSON.stringify(row) + '\n');
        }
      }
    }
  }
  const f = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  process.stdout.write(`\n| condition | units | rho(h, truth) | rho(h, classification difficulty) | rho(truth, classification difficulty) |\n|---|---|---|---|---|\n`);
  for (const cond of INCOMPLETE_CONDITIONS) {
    const rs = rows.filter((r) => r.cond === cond);
    if (!rs.length) continue;
    const mean = (k: 'rhoTruth' | 'rhoProbe' | 'probeTruth'): string => f(rs.reduce((s, r) => s + r[k], 0) / rs.length);
    process.stdout.write(`| ${cond} | ${rs.length} | ${mean('rhoTruth')} | ${mean('rhoProbe')} | ${mean('probeTruth')} |\n`);
  }
}

const cmd = positionals[0];
if (cmd === 'hardness') await hardness();
else if (cmd === 'relevance') relevance();
else if (cmd === 'ridge') ridge();
else if (cmd === 'run') await run();
else if (cmd === 'summary') summary();
else {
  process.stderr.write('usage: npx tsx bench/study.ts run|hardness|ridge|relevance|summary [options] (see the header of bench/study.ts)\n');
  process.exitCode = 2;
}
