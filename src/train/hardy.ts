/**
 * The full HARDY-MER pipeline for one (fold, condition, seed) (docs/method.md §3-§7):
 *   stage 0  fine-tune per-modality MLPs on the fold's training utterances (optional) and replace
 *            every utterance's features; L2-normalise text;
 *   indexes  one exact index per modality over the fold's training utterances, saved with the run;
 *   teacher  trained (stage 1 complete, stage 2 the condition) on the raw standardised features
 *            (`curriculum.teacherFeatures: raw`, docs/method.md §9 item 13) or the student's, then frozen;
 *   student  stage 1 as usual; stage 2 through the trainer's `viewsFor` hook: the frozen teacher
 *            scores each batch (hardness recomputed every epoch), K_i neighbours are kept and the
 *            batch becomes K + 1 views, one clean optimiser step each. Curriculum diagnostics go
 *            into every stage-2 epoch record (metrics.jsonl) and into `curriculum.jsonl`.
 * Ablations are named presets over the same pipeline (`HARDY_METHODS`).
 */
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { drawMasks, makeBatches, modalityStats, standardize, withFeatures, type MaskSet } from '../data/index.ts';
import type { Avail, Batch, Condition, Corpus, Fold, Modality } from '../data/types.ts';
import { Curriculum, type CurriculumTiming } from '../curriculum/curriculum.ts';
import type { EpochDiagnostics } from '../curriculum/diagnostics.ts';
import { setHardness } from '../curriculum/hardness.ts';
import { conditionDifficulty } from '../data/load.ts';
import type { MerModel, ModelKind } from '../model/types.ts';
import { buildFoldIndexes, disposeFoldIndexes, foldIndexesSaved, loadFoldIndexes, saveFoldIndexes, type FoldIndexes } from '../curriculum/retrieval-index.ts';
import { Retriever } from '../curriculum/retrieval.ts';
import { trainingTable, type UtteranceTable } from '../curriculum/table.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { HardyError } from '../util/errors.ts';
import type { RunConfig } from './config.ts';
import { HARDY_METHODS, type HardyMethod, type MethodSpec } from './methods.ts';
import { FeaturePipeline } from './features.ts';
import type { ModelFiles, UnitFiles } from './files.ts';
import { finetuneFold, remapFold, type ModalityFinetuneReport } from './finetune.ts';
import type { ProgressOptions } from './progress.ts';
import { mixSeed, STREAM } from './seeds.ts';
import type { Scorer } from '../eval/metrics.ts';
import { train, trainStage1, type TrainResult } from './trainer.ts';

export interface HardyJob {
  method: HardyMethod;
  /** The run's configuration before the method's preset is applied. */
  config: RunConfig;
  corpus: Corpus;
  fold: Fold;
  condition: Condition;
  /** Metrics of predictions (`scorerFor` of src/eval/metrics.ts). */
  score: Scorer;
  /** Selection metric (higher is better); default WA for classification, ACC2 for regression. */
  primary?: string;
  /**
   * This unit's files (src/run/layout.ts); omitted = nothing written. The feature pipeline and the
   * retrieval indexes are shared by the fold's units: computed once, then reused.
   */
  files?: UnitFiles;
  testMasks?: MaskSet;
  progress?: ProgressOptions;
}

export interface HardyTiming {
  finetuneS: number;
  indexS: number;
  teacherS: number;
  modelS: number;
  /** Mean seconds per epoch of the deployed model's stage 1 and stage 2. */
  stage1EpochS: number;
  stage2EpochS: number;
  /** Summed over the stage-2 epochs. */
  curriculum?: CurriculumTiming;
}

export interface HardyResult {
  method: HardyMethod;
  config: RunConfig;
  /** The deployed model (student or MoMKE), selected epoch. */
  result: TrainResult;
  /** The teacher's training record (its model is disposed once the student is trained). */
  teacher?: TrainResult;
  finetune?: Record<Modality, ModalityFinetuneReport>;
  diagnostics: EpochDiagnostics[];
  timing: HardyTiming;
}

const seconds = (t: number): number => (performance.now() - t) / 1000;
const meanOf = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * Stage 0 + text L2 normalisation: the corpus and fold every model and index of the run sees. The
 * fitted pipeline is saved under `dir` and reused by the fold's other units (and by predict/serve).
 */
export function prepareFeatures(
  job: Pick<HardyJob, 'corpus' | 'fold'> & { files?: Partial<Pick<UnitFiles, 'features' | 'finetuneReport'>> },
  config: RunConfig,
): { corpus: Corpus; fold: Fold; reports?: Record<Modality, ModalityFinetuneReport> } {
  let pipeline: FeaturePipeline;
  let reports: Record<Modality, ModalityFinetuneReport> | undefined;
  const dir = job.files?.features;
  const reportFile = job.files?.finetuneReport;
  if (dir && FeaturePipeline.exists(dir)) {
    pipeline = FeaturePipeline.load(dir);
    if (Boolean(pipeline.mlps) !== config.finetune.enabled) {
      pipeline.dispose();
      throw new HardyError(`${dir}: saved features were made with fine-tuning ${config.finetune.enabled ? 'off' : 'on'}; use another run folder`);
    }
    if (reportFile && existsSync(reportFile)) reports = JSON.parse(readFileSync(reportFile, 'utf8')) as Record<Modality, ModalityFinetuneReport>;
  } else if (config.finetune.enabled) {
    const ft = finetuneFold(job.corpus, job.fold, {
      epochs: config.finetune.epochs,
      batchSize: config.finetune.batchSize,
      lr: config.optim.lr,
      weightDecay: config.optim.weightDecay,
      seed: mixSeed(config.seed, STREAM.finetune, job.fold.index),
    });
    pipeline = ft.pipeline;
    reports = ft.reports;
  } else {
    pipeline = new FeaturePipeline(job.corpus.dims);
  }
  if (dir && !FeaturePipeline.exists(dir)) {
    if (reportFile && reports) writeJsonAtomic(reportFile, reports);
    pipeline.save(dir); // written last: its presence means the folder is complete
  }
  // Text is L2-normalised before the student sees it (docs/method.md §7): the pipeline's last step.
  const corpus = pipeline.transformCorpus(job.corpus);
  pipeline.dispose();
  return { corpus, fold: remapFold(job.fold, corpus), reports };
}

/** Indexes saved under `dir` are reloaded (and re-checked); otherwise built and saved. */
function foldIndexes(table: UtteranceTable, fold: Fold, dir: string | undefined): FoldIndexes {
  if (dir && foldIndexesSaved(dir)) {
    const idx = loadFoldIndexes(dir, fold);
    if (idx.a.ids.length !== table.ids.length || idx.a.ids.some((id, r) => id !== table.ids[r])) {
      disposeFoldIndexes(idx);
      throw new HardyError(`${dir}: saved indexes do not hold fold ${fold.index}'s training utterances in order; delete the folder to rebuild`);
    }
    return idx;
  }
  const idx = buildFoldIndexes(table, fold);
  if (dir) saveFoldIndexes(idx, dir);
  return idx;
}

/** Appends diagnostics as JSON lines; a resumed run first drops the lines of epochs it redoes. */
class DiagnosticsLog {
  private first = true;
  constructor(private readonly path: string | undefined) {}

  write(d: EpochDiagnostics): void {
    if (!this.path) return;
    if (this.first && existsSync(this.path)) {
      const kept = readFileSync(this.path, 'utf8')
        .split('\n')
        .filter((l) => l && (JSON.parse(l) as EpochDiagnostics).epoch < d.epoch);
      writeFileAtomic(this.path, kept.map((l) => l + '\n').join(''));
    }
    this.first = false;
    appendFileSync(this.path, JSON.stringify(d) + '\n');
  }
}

/**
 * The frozen teacher's hardness of every training utterance under the unit's condition (or one
 * seeded draw of random masks), normalised over the whole training set, `{uid: h}`: what `predict` reports for new utterances, as the mean
 * over their nearest training utterances (a new utterance has no true features to reconstruct).
 */
function saveTrainingHardness(path: string, teacher: MerModel, fold: Fold, job: HardyJob, config: RunConfig): void {
  const p = config.protocol;
  const masks = p.kind === 'random' ? drawMasks(fold.train, p.missingRate, mixSeed(config.seed, STREAM.hardnessMasks, fold.index)) : undefined;
  const batches = makeBatches(fold.train, { batchSize: config.optim.batchSize, condition: masks ? undefined : job.condition, masks });
  const hard = setHardness(teacher, batches, config.curriculum);
  writeJsonAtomic(path, Object.fromEntries([...hard].map(([id, h]) => [id, h.h])));
}

/**
 * What the teacher trains on and scores (`curriculum.teacherFeatures`): the student's corpus, or the
 * raw features standardised on the fold's training utterances, with `input` mapping a student batch
 * to the same batch over those features (the curriculum scores the student's batches).
 */
export function teacherView(job: Pick<HardyJob, 'corpus' | 'fold'>, corpus: Corpus, fold: Fold, config: RunConfig): { corpus: Corpus; fold: Fold; input?: (batch: Batch) => Batch } {
  if (config.curriculum.teacherFeatures === 'student') return { corpus, fold };
  const raw = standardize(job.corpus, modalityStats(job.fold.train));
  const rawFold = remapFold(job.fold, raw);
  const byId = new Map(rawFold.train.flatMap((d) => d.utterances.map((u) => [u.id, u.features] as const)));
  return { corpus: raw, fold: rawFold, input: (batch) => withFeatures(batch, byId) };
}

/**
 * The oracle's truth, when a synthetic corpus records it: the mean recoverability difficulty of the
 * missing modalities (`scripted`), else the utterance's overall difficulty (the other presets).
 */
export function truthOf(corpus: Corpus): ((id: string, avail: Avail) => number) | undefined {
  const per = corpus.modalityDifficulty;
  if (per) return (id, avail) => conditionDifficulty(per.get(id)!, avail);
  const overall = corpus.difficulty;
  if (overall) return (id) => overall.get(id)!;
  return undefined;
}

function methodOf(method: HardyMethod): MethodSpec {
  const spec = HARDY_METHODS[method];
  if (!spec) throw new HardyError(`unknown method '${method}' (expected ${Object.keys(HARDY_METHODS).join(', ')})`);
  return spec;
}

const primaryOf = (job: Pick<HardyJob, 'primary' | 'corpus'>): string => job.primary ?? (job.corpus.task === 'classification' ? 'WA' : 'ACC2');

/** What the units of one fold and seed share, as src/run/ schedules it: `trainHardy` finds it done. */
export type FoldJob = Omit<HardyJob, 'condition' | 'testMasks' | 'files'> & { files: Pick<UnitFiles, 'features' | 'finetuneReport' | 'indexes'> };

/** Stage 0 and, for a method with a curriculum, the retrieval indexes: computed and saved, unless saved already. */
export function prepareFold(job: FoldJob): void {
  const spec = methodOf(job.method);
  const { fold } = prepareFeatures(job, spec.apply(job.config));
  if (spec.curriculum) disposeFoldIndexes(foldIndexes(trainingTable(fold), fold, job.files.indexes));
}

/**
 * The model kinds whose stage 1 the fold's units share (each then a job of its own): the teacher
 * (a curriculum with a teacher) and the deployed model, when their schedule has both stages.
 */
export function sharedStage1Kinds(method: HardyMethod, runConfig: RunConfig): ModelKind[] {
  const spec = methodOf(method);
  const config = spec.apply(runConfig);
  const kinds: ModelKind[] = spec.curriculum && config.curriculum.hardness !== 'oracle' ? ['teacher', spec.model] : [spec.model];
  return kinds.filter((k) => config[k].stage1Epochs > 0 && config[k].epochs > config[k].stage1Epochs);
}

/** Stage 1 of `kind` on the fold's prepared features (after `prepareFold`), into `files.stage1Checkpoint`. */
export async function trainFoldStage1(job: FoldJob, kind: ModelKind, files: ModelFiles & { stage1Checkpoint: string }): Promise<void> {
  const config = methodOf(job.method).apply(job.config);
  const prepared = prepareFeatures(job, config);
  // the teacher on what trainHardy gives it (`curriculum.teacherFeatures`), every other kind on the student's corpus
  const { corpus, fold } = kind === 'teacher' ? teacherView(job, prepared.corpus, prepared.fold, config) : prepared;
  const shape = { dims: corpus.dims, task: corpus.task, numClasses: corpus.numClasses };
  await trainStage1({ kind, config, corpus: shape, fold, condition: 'atv', score: job.score, primary: primaryOf(job), files, progress: job.progress });
}

export async function trainHardy(job: HardyJob): Promise<HardyResult> {
  const spec = methodOf(job.method);
  const config = spec.apply(job.config);
  const primary = primaryOf(job);
  const score = job.score;
  const files = job.files;
  const timing: HardyTiming = { finetuneS: 0, indexS: 0, teacherS: 0, modelS: 0, stage1EpochS: 0, stage2EpochS: 0 };

  let t = performance.now();
  const { corpus, fold, reports } = prepareFeatures(job, config);
  timing.finetuneS = seconds(t);
  if (files) {
    writeJsonAtomic(files.record, { method: job.method, describe: spec.describe, condition: job.condition, fold: fold.index, config, finetune: reports });
  }
  const shape = { dims: corpus.dims, task: corpus.task, numClasses: corpus.numClasses };
  const common = { config, corpus: shape, fold, condition: job.condition, score, primary, testMasks: job.testMasks, progress: job.progress };

  const diagnostics: EpochDiagnostics[] = [];
  let teacher: TrainResult | undefined;
  let curriculum: Curriculum | undefined;
  let curTiming: CurriculumTiming | undefined;
  const cc = config.curriculum;
  if (spec.curriculum) {
    t = performance.now();
    const table = trainingTable(fold);
    const indexes = foldIndexes(table, fold, files?.indexes);
    const polarity = corpus.task === 'regression' ? Math.sign : (l: number) => l;
    const retriever = new Retriever(table, indexes, cc.K, { rerank: cc.rerank, neighbours: cc.neighbours }, polarity);
    disposeFoldIndexes(indexes); // the per-modality lists are computed; the indexes stay on disk
    timing.indexS = seconds(t);

    t = performance.now();
    // The oracle control needs no teacher: its hardness is the generator's ground truth.
    if (cc.hardness === 'oracle' && !truthOf(corpus)) {
      throw new HardyError(`${corpus.source}: the oracle hardness needs the ground truth of a synthetic corpus (difficulty.json beside the labels); this corpus has none`);
    }
    const tv = teacherView(job, corpus, fold, config);
    if (cc.hardness !== 'oracle') {
      const tShape = { dims: tv.corpus.dims, task: tv.corpus.task, numClasses: tv.corpus.numClasses };
      const selectOn = cc.teacherSelection === 'reconstruction' ? 'reconstruction' : 'task';
      teacher = await train({ ...common, corpus: tShape, fold: tv.fold, kind: 'teacher', files: files?.models.teacher, selectOn });
    }
    timing.teacherS = seconds(t);
    curriculum = new Curriculum(teacher?.model, retriever, cc, corpus.task, mixSeed(config.seed, STREAM.curriculum, fold.index), truthOf(corpus), tv.input);
    if (files && teacher) saveTrainingHardness(files.hardness, teacher.model, tv.fold, job, config);
    curTiming = { hardnessMs: 0, retrievalMs: 0, viewsMs: 0 };
  }

  const log = new DiagnosticsLog(files?.curriculumLog);
  t = performance.now();
  const result = await train({
    ...common,
    kind: spec.model,
    files: files?.models[spec.model],
    hooks: spec.selfViews
      ? { viewsFor: (batch) => Array.from({ length: cc.K + 1 }, () => batch) }
      : curriculum
      ? {
          beforeEpoch: (_epoch, { rng }) => curriculum.beginEpoch(rng),
          viewsFor: (batch) => curriculum.views(batch),
          afterEpoch: (epoch) => {
            const { diagnostics: d, timing: ct } = curriculum.endEpoch(epoch);
            if (d.utterances === 0) return; // stage 1: no curriculum
            diagnostics.push(d);
            log.write(d);
            for (const k of ['hardnessMs', 'retrievalMs', 'viewsMs'] as const) curTiming![k] += ct[k];
            return { curriculum: d, curriculumTiming: ct };
          },
        }
      : undefined,
  });
  timing.modelS = seconds(t);
  timing.stage1EpochS = meanOf(result.history.filter((r) => r.stage === 1).map((r) => r.seconds));
  timing.stage2EpochS = meanOf(result.history.filter((r) => r.stage === 2).map((r) => r.seconds));
  timing.curriculum = curTiming;
  teacher?.model.dispose();
  return { method: job.method, config, result, teacher, finetune: reports, diagnostics, timing };
}
