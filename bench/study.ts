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
 *     Spearman correlation of the study teachers' hardness with the generator's ground truth (see
 *     `hardness()` below), for the teacher selected on validation reconstruction and on accuracy.
 *   npx tsx bench/study.ts summary --out DIR [--ref self-views] [--metric WA]
 *     Per arm: mean test metric per condition and averaged over the conditions run; the paired
 *     difference to the reference arm per (seed, fold), averaged over conditions, with a 95 %
 *     confidence interval (t distribution over the (seed, fold) cells that every compared arm has
 *     finished), and per condition over seeds. Markdown, for bench/RESULTS.md.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/backend.ts';
import { conditionAvail, conditionDifficulty, loadCorpus, makeBatches, makeFolds } from '../src/data/index.ts';
import { batchHardness, minMaxNormalise, setHardness, teacherScores } from '../src/curriculum/hardness.ts';
import { FeaturePipeline } from '../src/train/features.ts';
import { remapFold } from '../src/train/finetune.ts';
import { train } from '../src/train/trainer.ts';
import { FoldLayout, modelFiles, UnitLayout } from '../src/run/layout.ts';
import type { Condition } from '../src/data/types.ts';
import type { ModelFiles, UnitFiles } from '../src/train/files.ts';
import { readConfigFile, resolveConfig } from '../src/cli/config.ts';
import { trainHardy } from '../src/train/hardy.ts';
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
    seeds: { type: 'string', default: '1,2,3,4,5' },
    folds: { type: 'string', default: '1' },
    conds: { type: 'string', default: 't,av' },
    arms: { type: 'string', default: 'self-views,hardy,same-label,oracle,keep-dialogue,keep-dialogue@oracle,shuffled-hardness,no-curriculum,momke,fixed-k,centred' },
    ref: { type: 'string', default: 'self-views' },
    metric: { type: 'string', default: 'WA' },
  },
});

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
 * An arm is a method (src/train/methods.ts), optionally `@oracle`: the same method with the
 * generator's true difficulty as hardness (e.g. `keep-dialogue@oracle`: which utterances are swapped
 * is decided by the truth).
 */
function parseArm(arm: string): { method: HardyMethod; overlay: Partial<RunConfig['curriculum']> } {
  const [method, variant] = arm.split('@');
  if (!method || !isHardyMethod(method)) throw new Error(`unknown arm '${arm}' (a method of src/train/methods.ts, optionally @oracle)`);
  if (variant !== undefined && variant !== 'oracle') throw new Error(`arm '${arm}': the only variant is @oracle`);
  return { method, overlay: variant ? { hardness: 'oracle' } : {} };
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
        const { method, overlay } = parseArm(arm);
        for (const cond of list(args.conds!) as Condition[]) {
          const rec = { seed, fold: foldIdx, cond, arm };
          if (done.has(key(rec))) continue;
          const t0 = performance.now();
          const res = await trainHardy({
            method,
            config: { ...config, conditions: [cond], curriculum: { ...config.curriculum, ...overlay } },
            corpus,
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
  const recs = readRecords(args.out!);
  const metric = args.metric!;
  const ref = args.ref!;
  const conds = [...new Set(recs.map((r) => r.cond))];
  const arms = [...new Set(recs.map((r) => r.arm))];
  const by = new Map(recs.map((r) => [key(r), r]));
  const cells = [...new Set(recs.map((r) => `${r.seed}/${r.fold}`))];
  const pct = (x: number): string => (100 * x).toFixed(2);
  const lines: string[] = [];
  const commits = [...new Set(recs.map((r) => r.commit))];
  lines.push(`${recs.length} runs, commit ${commits.join(', ')}; (seed, fold) cells: ${cells.length}; conditions ${conds.join(', ')}`);
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
 * Hardness vs the generator's ground truth for the study's teachers: the one the study trained
 * (selected on validation reconstruction) and one selected on validation accuracy (same stage 1,
 * read from the study's shared checkpoint; its stage 2 trained here). Spearman over the fold's
 * training utterances of: raw D and I, D min-max normalised within each batch, h per batch (as the
 * curriculum uses it, both MI readings) and h normalised over the whole set (what hardness.json saves).
 */
async function hardness(): Promise<void> {
  if (!args.data || !args.config) throw new Error('hardness needs --data and --config');
  await initEngine();
  const out = args.out!;
  const base = resolveConfig(readConfigFile(args.config));
  const corpus0 = loadCorpus(args.data);
  const per = corpus0.modalityDifficulty;
  if (!per) throw new Error(`${args.data}: no per-modality ground truth (use the scripted preset)`);
  const score = scorerFor(corpus0.task, corpus0.numClasses);
  const file = join(out, 'hardness.jsonl');
  for (const seed of list(args.seeds!).map(Number)) {
    const config = { ...base, seed };
    for (const foldIdx of list(args.folds!).map(Number)) {
      const foldDir = join(out, `seed-${seed}`, `fold-${foldIdx}`);
      const pipeline = FeaturePipeline.load(join(foldDir, 'features'));
      const corpus = pipeline.transformCorpus(corpus0);
      pipeline.dispose();
      const fold = remapFold(makeFolds(corpus, { seed, validFraction: config.validFraction, validation: config.validation }).find((f) => f.index === foldIdx)!, corpus);
      for (const cond of list(args.conds!) as Condition[]) {
        const teacherDir = join(foldDir, cond, 'teacher');
        if (!existsSync(join(teacherDir, 'result.json'))) throw new Error(`${teacherDir}: the study has not finished this teacher yet`);
        const shape = { dims: corpus.dims, task: corpus.task, numClasses: corpus.numClasses };
        const common = { config: { ...config, conditions: [cond] }, corpus: shape, fold, condition: cond, score, primary: 'WA', progress: { quiet: true } };
        for (const selection of ['reconstruction', 'accuracy'] as const) {
          const dir = selection === 'reconstruction' ? teacherDir : join(out, 'hardness', `seed-${seed}`, `fold-${foldIdx}`, cond, 'teacher-accuracy');
          const files = modelFiles(dir, new FoldLayout(foldDir).stage1('teacher'));
          const t = await train({ ...common, kind: 'teacher', files, selectOn: selection === 'reconstruction' ? 'reconstruction' : 'task' });
          const avail = conditionAvail(cond);
          const batches = makeBatches(fold.train, { batchSize: config.optim.batchSize, shuffle: true, seed: 7, condition: cond });
          const rows: { truth: number; D: number; I: number; dBatch: number; hShared: number; hComp: number; setShared: number; setComp: number }[] = [];
          const setS = setHardness(t.model, batches, { ...config.curriculum, miTerm: 'shared' });
          const setC = setHardness(t.model, batches, { ...config.curriculum, miTerm: 'complement' });
          for (const batch of batches) {
            const { D, I } = teacherScores(t.model, batch);
            const hs = batchHardness(batch, D, I, { ...config.curriculum, miTerm: 'shared' });
            const hc = batchHardness(batch, D, I, { ...config.curriculum, miTerm: 'complement' });
            const dn = minMaxNormalise(D, batch.umask);
            batch.uttIds.forEach((ids, b) =>
              ids.forEach((id, sIdx) => {
                const i = b * batch.S + sIdx;
                if (!batch.umask[i]) return;
                rows.push({ truth: conditionDifficulty(per.get(id)!, avail), D: D[i]!, I: I[i]!, dBatch: dn[i]!, hShared: hs.get(id)!.h, hComp: hc.get(id)!.h, setShared: setS.get(id)!.h, setComp: setC.get(id)!.h });
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
            selection,
            teacherBestEpoch: t.bestEpoch,
            utterances: rows.length,
            rho_D: rho('D'),
            rho_I: rho('I'),
            rho_D_batch: rho('dBatch'),
            rho_h_batch_shared: rho('hShared'),
            rho_h_batch_complement: rho('hComp'),
            rho_h_set_shared: rho('setShared'),
            rho_h_set_complement: rho('setComp'),
          };
          appendFileSync(file, JSON.stringify(line) + '\n');
          process.stdout.write(JSON.stringify(line) + '\n');
        }
      }
    }
  }
}

const cmd = positionals[0];
if (cmd === 'hardness') await hardness();
else if (cmd === 'run') await run();
else if (cmd === 'summary') summary();
else {
  process.stderr.write('usage: npx tsx bench/study.ts run|summary [options] (see the header of bench/study.ts)\n');
  process.exitCode = 2;
}
