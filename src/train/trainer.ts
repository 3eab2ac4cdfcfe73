/**
 * Training of one model for one fold and one condition (or one missing rate), docs/method.md §7:
 * stage 1 on complete inputs with the unimodal heads, stage 2 on the condition's masks; at the
 * switch each modality's expert is restored from its best stage-1 epoch (unimodal validation
 * score); per-epoch validation and test; selection of the best stage-2 epoch on the validation
 * split (or the test split under `selection: 'test'`, the paper's optimistic protocol, recorded in
 * every output); optional early stop; checkpoint after every epoch so a killed run resumes from the
 * last finished epoch and ends with the same numbers.
 *
 * Curriculum extension point (student stage 2): `hooks.viewsFor(batch, epoch)` returns the views
 * of a training batch (view 0 = the batch itself); the trainer takes one clean optimiser step per
 * view, each with loss = task loss + L_rec against that view's complete features.
 *
 * `train()` reads as its phases, each a function over one `Training` state object:
 *   restoreOrInit -> per epoch: [enterStage2] -> runEpoch -> evaluateEpoch -> recordSelection -> saveEpoch
 *   -> finish.
 */
import { appendFileSync } from 'node:fs';
import { drawMasks, makeBatches, saveMasks, type MaskSet } from '../data/index.ts';
import { MODALITIES, type Batch, type Condition, type Dialogue, type Fold, type Modality } from '../data/types.ts';
import { modalityWeights } from '../model/backbone.ts';
import { createModel, modelConfig, type CorpusShape } from '../model/factory.ts';
import type { MetricRecord, Scorer } from '../eval/metrics.ts';
import { describeSelection, type Selection } from '../eval/selection.ts';
import type { MerModel, ModelKind, Stage } from '../model/types.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { HardyError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { Adam } from './adam.ts';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, saveModel, type TensorSet } from './checkpoint.ts';
import type { RunConfig, StageSchedule } from './config.ts';
import type { ModelFiles } from './files.ts';
import { predict, reconstructionMse, type Predictions } from './evaluate.ts';
import { Progress, type ProgressOptions } from './progress.ts';
import { mixSeed, STREAM, streamRng } from './seeds.ts';
import { trainStep } from './step.ts';

export interface TrainHooks {
  /** Before every epoch. `rng` is derived from (seed, fold, epoch), so resumed runs see the same. */
  beforeEpoch?(epoch: number, info: { stage: Stage; rng: Rng; model: MerModel }): void | Promise<void>;
  /** Stage 2: the views of one training batch; view 0 must be the batch itself. */
  viewsFor?(batch: Batch, epoch: number): Batch[] | Promise<Batch[]>;
  /** After an epoch's steps; a returned object is stored in that epoch's record as `hooks`. */
  afterEpoch?(epoch: number): Record<string, unknown> | void | Promise<Record<string, unknown> | void>;
}

export interface TrainJob {
  kind: ModelKind;
  config: RunConfig;
  corpus: CorpusShape;
  fold: Fold;
  /** Fixed protocol: the available modalities in stage 2 and evaluation. Unused under `protocol.kind = 'random'`. */
  condition: Condition;
  score: Scorer;
  /** Name of the selection metric in `score`'s output (higher is better), e.g. 'WA' or 'ACC2'. */
  primary: string;
  /** Where the metrics, checkpoints, the selected model and its result go; omitted = nothing written. */
  files?: ModelFiles;
  hooks?: TrainHooks;
  /** Random protocol: the fixed test masks (drawn from the seed and saved in `files` when absent). */
  testMasks?: MaskSet;
  /** Default: the config's schedule for `kind`. */
  schedule?: StageSchedule;
  /**
   * Stage-2 selection: the task metric `primary` (default) or the reconstruction error of the
   * missing modalities on the selection split, lower is better (the teacher's job: method.md §10.3).
   */
  selectOn?: 'task' | 'reconstruction';
  decoderHidden?: number;
  progress?: ProgressOptions;
}

export interface EpochRecord {
  epoch: number;
  stage: Stage;
  loss: number;
  steps: number;
  /** Wall-clock seconds of the training steps, and of the evaluation after them. */
  seconds: number;
  evalSeconds: number;
  valid?: MetricRecord;
  test: MetricRecord;
  /** Stage 1: each modality's unimodal score on the selection split. */
  unimodal?: Record<Modality, number>;
  /** Stage 2 under `selectOn: 'reconstruction'`: mean squared error of the missing modalities on the selection split. */
  rec?: number;
  hooks?: Record<string, unknown>;
}

interface Best {
  epoch: number;
  score: number;
}

/** Everything besides tensors that a resumed run needs. */
interface TrainState {
  history: EpochRecord[];
  best: Best;
  unimodalBest: Record<Modality, Best>;
  /** Models without unimodal heads (MMIN): the best stage-1 epoch by the fused score. */
  stage1Best?: Best;
  switched: boolean;
  restored?: Record<Modality, number>;
  sinceBest: number;
  stopped: boolean;
  adamStep: number;
}

export interface TrainResult {
  model: MerModel;
  history: EpochRecord[];
  bestEpoch: number;
  selection: Selection;
  /** Metrics of the selected epoch. */
  valid?: MetricRecord;
  test: MetricRecord;
  /** Stage-1 epoch whose expert each modality got back at the switch (-1: none recorded). */
  restored?: Record<Modality, number>;
  /** The test masks used (random protocol). */
  testMasks?: MaskSet;
  /** Test-split predictions of the selected model. */
  testPredictions: Predictions;
}

const EMPTY_BEST = (): Best => ({ epoch: -1, score: -Infinity });

/**
 * A state read back from a checkpoint's JSON, where EMPTY_BEST's -Infinity became null. Left as null,
 * `score > null` compares with 0, so no negative score (minus the reconstruction error) would ever
 * count as better.
 */
function reviveState(st: TrainState): TrainState {
  const revive = (b: Best): Best => ({ epoch: b.epoch, score: b.score ?? -Infinity });
  return {
    ...st,
    best: revive(st.best),
    unimodalBest: { a: revive(st.unimodalBest.a), t: revive(st.unimodalBest.t), v: revive(st.unimodalBest.v) },
    ...(st.stage1Best ? { stage1Best: revive(st.stage1Best) } : {}),
  };
}

/** One model's training in progress: the job, its fixed parts, and what the phases update. */
interface Training {
  job: TrainJob;
  sched: StageSchedule;
  /** Random protocol: the missing rate; undefined under the fixed protocol. */
  random?: number;
  /** For progress lines and errors. */
  label: string;
  model: MerModel;
  adam: Adam;
  /** Evaluation masks, fixed for the whole run (random protocol). */
  validMasks?: MaskSet;
  testMasks?: MaskSet;
  /** Whether the schedule has a stage 2 (else the single stage is selected on directly). */
  hasStage2: boolean;
  /** Where the end of stage 1 is shared with the fold's other units, when it is. */
  stage1Checkpoint?: string;
  /** Saved in every checkpoint. */
  st: TrainState;
  /** Weights of the best epoch so far, and each modality's best stage-1 expert. */
  bestWeights?: TensorSet;
  snaps: Partial<Record<Modality, TensorSet>>;
  /** A model without unimodal heads: the weights of its best stage-1 epoch (restored whole at the switch). */
  stage1Snap?: TensorSet;
  /** First epoch to run (after a restore). */
  start: number;
  progress: Progress;
}

/** Mean per-dimension squared error of the missing modalities over the (utterance, modality) pairs. */
function reconstructionError(model: MerModel, dialogues: Dialogue[], batchSize: number, condition: Condition, masks: MaskSet | undefined): number {
  const zero = { a: new Float32Array(model.config.dims.a), t: new Float32Array(model.config.dims.t), v: new Float32Array(model.config.dims.v) };
  const r = reconstructionMse(model, dialogues, { batchSize, condition: masks ? undefined : condition, masks, baseline: zero });
  const n = r.a.count + r.t.count + r.v.count;
  return n ? (r.a.model * r.a.count + r.t.model * r.t.count + r.v.model * r.v.count) / n : 0;
}

export async function train(job: TrainJob): Promise<TrainResult> {
  const tr = restoreOrInit(job);
  await runEpochs(tr, tr.sched.epochs);
  tr.adam.dispose();
  return finish(tr);
}

/**
 * Stage 1 alone, for the units of one fold and seed to share (src/run/graph.ts runs it as a job of
 * its own before them): trains into `files.checkpoint` (resumable like any training) and ends by
 * leaving the end of stage 1 in `files.stage1Checkpoint`, which the units start from. Condition-free
 * (complete inputs, condition-free streams), so it is exactly the stage 1 a unit would have run.
 */
export async function trainStage1(job: TrainJob & { files: ModelFiles & { stage1Checkpoint: string } }): Promise<void> {
  const tr = restoreOrInit(job, true);
  if (!tr.stage1Checkpoint) throw new HardyError(`${tr.label}: the schedule has no stage 1 to share (stage1Epochs ${tr.sched.stage1Epochs} of ${tr.sched.epochs} epochs)`);
  await runEpochs(tr, tr.sched.stage1Epochs);
  // Killed between the last epoch's own checkpoint and the shared one: the shared one is written now.
  if (!hasCheckpoint(tr.stage1Checkpoint)) saveCheckpoint(tr.stage1Checkpoint, tr.sched.stage1Epochs - 1, tr.model, tr.st, checkpointSets(tr));
  tr.adam.dispose();
  tr.model.dispose();
}

/** Epochs from `tr.start` up to `end` (exclusive) or the early stop. */
async function runEpochs(tr: Training, end: number): Promise<void> {
  const job = tr.job;
  for (let epoch = tr.start; epoch < end && !tr.st.stopped; epoch++) {
    // A macrotask turn per epoch: timers and signals get their turn (a job process notices that its
    // parent is gone; a queue worker renews its job's lock), since the steps only await microtasks.
    await new Promise((resolve) => setImmediate(resolve));
    const stage: Stage = epoch < tr.sched.stage1Epochs ? 1 : 2;
    if (stage === 2 && !tr.st.switched) enterStage2(tr);
    const ran = await runEpoch(tr, epoch, stage);
    const t1 = performance.now();
    const record = evaluateEpoch(tr, epoch, stage, ran);
    recordSelection(tr, record);
    record.evalSeconds = (performance.now() - t1) / 1000;
    tr.st.history.push(record);
    const sel = tr.job.config.selection === 'val' ? record.valid : record.test;
    tr.progress.endEpoch(epoch, `stage ${stage} ${tr.job.config.selection} ${job.primary} ${sel?.[job.primary]?.toFixed(4) ?? '-'}`);
    saveEpoch(tr, record);
  }
}

/**
 * A fresh model and optimiser, then the state to continue from: the unit's own checkpoint, else the
 * fold's shared end of stage 1, else the start.
 */
function restoreOrInit(job: TrainJob, stage1Only = false): Training {
  const { config, fold, kind } = job;
  const sched = job.schedule ?? config[kind];
  const seed = config.seed;
  const random = config.protocol.kind === 'random' ? config.protocol.missingRate : undefined;
  if (config.selection === 'val' && fold.valid.length === 0) {
    throw new HardyError(`fold ${fold.index}: no validation dialogues; set validFraction > 0 or selection 'test'`);
  }
  const label = `${kind} fold ${fold.index} ${random !== undefined ? `rate ${random}` : job.condition}`;

  const model = createModel(kind, modelConfig(config.model, job.corpus, job.decoderHidden), mixSeed(seed, STREAM.init, fold.index));
  const adam = new Adam(model.params, { lr: config.optim.lr, weightDecay: config.optim.weightDecay });
  const validMasks = random !== undefined ? drawMasks(fold.valid, random, mixSeed(seed, STREAM.evalMasks, fold.index, 1)) : undefined;
  const testMasks = random !== undefined ? (job.testMasks ?? drawMasks(fold.test, random, mixSeed(seed, STREAM.evalMasks, fold.index, 2))) : undefined;
  const files = job.files;
  if (files && testMasks && !stage1Only) saveMasks(files.testMasks, testMasks);

  const hasStage2 = sched.epochs > sched.stage1Epochs;
  // Stage 1 does not depend on the condition (complete inputs, condition-free RNG streams), so the
  // units of one fold and seed share it: the first one to finish stage 1 leaves its end state in
  // `stage1Checkpoint`, and the others start from there, exactly where they would have been.
  const stage1Checkpoint = hasStage2 && sched.stage1Epochs > 0 ? files?.stage1Checkpoint : undefined;
  let st: TrainState = {
    history: [],
    best: EMPTY_BEST(),
    unimodalBest: { a: EMPTY_BEST(), t: EMPTY_BEST(), v: EMPTY_BEST() },
    switched: false,
    sinceBest: 0,
    stopped: false,
    adamStep: 0,
  };
  let bestWeights: TensorSet | undefined;
  const snaps: Partial<Record<Modality, TensorSet>> = {};
  let stage1Snap: TensorSet | undefined;
  let start = 0;
  if (files) {
    let ck = loadCheckpoint<TrainState>(files.checkpoint, model);
    if (!ck && stage1Checkpoint) {
      ck = loadCheckpoint<TrainState>(stage1Checkpoint, model);
      if (ck && ck.epoch !== sched.stage1Epochs - 1) {
        throw new HardyError(`${stage1Checkpoint}: shared stage-1 checkpoint is at epoch ${ck.epoch + 1}, expected ${sched.stage1Epochs}; delete it to retrain stage 1`);
      }
    }
    if (ck) {
      st = reviveState(ck.state);
      adam.setState({ step: ck.state.adamStep, m: ck.sets['adam.m'] ?? new Map(), v: ck.sets['adam.v'] ?? new Map() });
      bestWeights = ck.sets.best;
      for (const m of MODALITIES) if (ck.sets[`expert.${m}`]) snaps[m] = ck.sets[`expert.${m}`];
      stage1Snap = ck.sets.stage1;
      start = ck.epoch + 1;
    }
    // The metrics file is the history: rewriting it drops lines of an epoch that was cut short.
    writeFileAtomic(files.metrics, st.history.map((r) => JSON.stringify(r) + '\n').join(''));
  }
  const progress = new Progress(label, sched.epochs, start, job.progress);
  return { job, sched, random, label, model, adam, validMasks, testMasks, hasStage2, stage1Checkpoint, st, bestWeights, snaps, stage1Snap, start, progress };
}

/**
 * The stage switch: each modality's expert (projection, blocks, unimodal head) back to its best
 * stage-1 epoch; a model without unimodal heads gets its whole best stage-1 epoch back. Then the
 * model's own stage-2 hook (MMIN freezes its pre-trained parts).
 */
function enterStage2(tr: Training): void {
  const { st, snaps, model } = tr;
  for (const m of MODALITIES) if (snaps[m]) model.params.setWeights(snaps[m]!, `stage-1 snapshot of ${m}`);
  st.restored = { a: st.unimodalBest.a.epoch, t: st.unimodalBest.t.epoch, v: st.unimodalBest.v.epoch };
  if (tr.stage1Snap) {
    model.params.setWeights(tr.stage1Snap, 'best stage-1 epoch');
    const e = st.stage1Best!.epoch;
    st.restored = { a: e, t: e, v: e };
  }
  model.beginStage2?.();
  st.switched = true;
}

interface EpochRun {
  loss: number;
  steps: number;
  seconds: number;
  hookInfo?: Record<string, unknown>;
}

/** One epoch of optimiser steps (every view of every batch), between the epoch hooks. */
async function runEpoch(tr: Training, epoch: number, stage: Stage): Promise<EpochRun> {
  const { job, model, adam, progress } = tr;
  const { fold, hooks = {} } = job;
  const seed = job.config.seed;
  const rng = streamRng(seed, STREAM.epoch, fold.index, epoch);
  await hooks.beforeEpoch?.(epoch, { stage, rng: streamRng(seed, STREAM.hooks, fold.index, epoch), model });
  const t0 = performance.now();
  const shuffleSeed = rng.nextUint32();
  const trainMasks = stage === 2 && tr.random !== undefined ? drawMasks(fold.train, tr.random, rng.nextUint32()) : undefined;
  const batches = makeBatches(fold.train, {
    batchSize: job.config.optim.batchSize,
    shuffle: true,
    seed: shuffleSeed,
    condition: stage === 1 ? 'atv' : job.condition,
    masks: trainMasks,
  });
  progress.startEpoch();
  let steps = 0;
  for (let i = 0; i < batches.length; i++) {
    const views = stage === 2 && hooks.viewsFor ? await hooks.viewsFor(batches[i]!, epoch) : [batches[i]!];
    for (const view of views) {
      const loss = trainStep(model, adam, view, { stage, rng, fusedStage1: job.config.stage1Loss === 'fused' });
      if (!Number.isFinite(loss)) {
        // The weights in memory are spoiled; the checkpoint on disk (last finished epoch) is not.
        const files = job.files;
        const kept = files && hasCheckpoint(files.checkpoint) ? `the last good checkpoint (epoch ${epoch}) is kept in ${files.checkpoint}` : 'no checkpoint was written';
        throw new HardyError(`${tr.label}: the training loss became ${loss} at epoch ${epoch + 1}, batch ${i + 1}; stopped, ${kept}. Lower optim.lr or check the features, then --resume`);
      }
      progress.step(epoch, i + 1, batches.length, loss);
      steps++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const hookInfo = (await hooks.afterEpoch?.(epoch)) ?? undefined;
  return { loss: progress.runningLoss(), steps, seconds, hookInfo };
}

/**
 * The epoch's record: valid and test metrics (stage 1 on complete inputs, stage 2 on the condition or
 * the masks), in stage 1 each modality's unimodal score on the selection split, and in stage 2 under
 * `selectOn: 'reconstruction'` the missing modalities' reconstruction error on the selection split.
 */
function evaluateEpoch(tr: Training, epoch: number, stage: Stage, ran: EpochRun): EpochRecord {
  const { job, model } = tr;
  const { fold } = job;
  const batchSize = job.config.optim.batchSize;
  const evalOn = (dialogues: Dialogue[], masks: MaskSet | undefined): MetricRecord => {
    const p =
      stage === 1 && tr.hasStage2
        ? predict(model, dialogues, { stage, batchSize, complete: true })
        : predict(model, dialogues, { stage, batchSize, condition: masks ? undefined : job.condition, masks });
    return job.score(p.preds, p.labels);
  };
  const record: EpochRecord = {
    epoch,
    stage,
    loss: ran.loss,
    steps: ran.steps,
    seconds: ran.seconds,
    evalSeconds: 0,
    valid: fold.valid.length ? evalOn(fold.valid, tr.validMasks) : undefined,
    test: evalOn(fold.test, tr.testMasks),
  };
  if (ran.hookInfo) record.hooks = ran.hookInfo;
  if (stage === 1) {
    const p = predict(model, job.config.selection === 'val' ? fold.valid : fold.test, { stage: 1, batchSize, complete: true });
    if (p.unimodal) {
      record.unimodal = { a: 0, t: 0, v: 0 };
      for (const m of MODALITIES) record.unimodal[m] = job.score(p.unimodal[m], p.labels)[job.primary]!;
    }
  }
  if (stage === 2 && job.selectOn === 'reconstruction') {
    const val = job.config.selection === 'val';
    record.rec = reconstructionError(model, val ? fold.valid : fold.test, batchSize, job.condition, val ? tr.validMasks : tr.testMasks);
  }
  return record;
}

/**
 * Selection: in stage 1 each modality's best expert (restored at the switch); in stage 2 (or a
 * single-stage schedule) the best epoch on the selection split, and the early stop.
 */
function recordSelection(tr: Training, record: EpochRecord): void {
  const { st, job, model } = tr;
  const { epoch } = record;
  if (record.unimodal) {
    for (const m of MODALITIES) {
      const s = record.unimodal[m];
      if (s > st.unimodalBest[m].score) {
        st.unimodalBest[m] = { epoch, score: s };
        tr.snaps[m] = model.params.getWeights(modalityWeights(m));
      }
    }
  } else if (record.stage === 1) {
    // A model without unimodal heads (MMIN): its whole best stage-1 epoch by the fused score.
    const fused = (job.config.selection === 'val' ? record.valid! : record.test)[job.primary]!;
    if (fused > (st.stage1Best?.score ?? -Infinity)) {
      st.stage1Best = { epoch, score: fused };
      tr.stage1Snap = model.params.getWeights();
    }
  }
  if (record.stage === 2 || !tr.hasStage2) {
    const patience = job.config.earlyStopPatience;
    const score = record.rec !== undefined ? -record.rec : (job.config.selection === 'val' ? record.valid! : record.test)[job.primary];
    if (score === undefined) throw new HardyError(`selection metric '${job.primary}' is not among ${Object.keys(record.test).join(', ')}`);
    if (score > st.best.score) {
      st.best = { epoch, score };
      tr.bestWeights = model.params.getWeights();
      st.sinceBest = 0;
    } else if (++st.sinceBest >= patience && patience > 0) {
      st.stopped = true;
    }
  }
}

/** The tensors a checkpoint holds besides the model (Adam's moments, selection snapshots); sets `st.adamStep`. */
function checkpointSets(tr: Training): Record<string, TensorSet> {
  const a = tr.adam.getState();
  const sets: Record<string, TensorSet> = { 'adam.m': a.m, 'adam.v': a.v };
  if (tr.bestWeights) sets.best = tr.bestWeights;
  for (const m of MODALITIES) if (tr.snaps[m]) sets[`expert.${m}`] = tr.snaps[m]!;
  if (tr.stage1Snap) sets.stage1 = tr.stage1Snap;
  tr.st.adamStep = a.step;
  return sets;
}

/** The epoch's metrics line and checkpoint; the end of stage 1 also into the fold's shared checkpoint. */
function saveEpoch(tr: Training, record: EpochRecord): void {
  const files = tr.job.files;
  if (!files) return;
  appendFileSync(files.metrics, JSON.stringify(record) + '\n');
  const sets = checkpointSets(tr);
  saveCheckpoint(files.checkpoint, record.epoch, tr.model, tr.st, sets);
  if (tr.stage1Checkpoint && record.epoch === tr.sched.stage1Epochs - 1 && !hasCheckpoint(tr.stage1Checkpoint)) {
    saveCheckpoint(tr.stage1Checkpoint, record.epoch, tr.model, tr.st, sets);
  }
}

/** The selected epoch's weights back in the model, its test predictions, and the saved model and result. */
function finish(tr: Training): TrainResult {
  const { job, model, st, testMasks } = tr;
  const { config, fold, kind } = job;
  const selection = config.selection;
  if (tr.bestWeights) model.params.setWeights(tr.bestWeights);
  const chosen = st.history.find((r) => r.epoch === st.best.epoch) ?? st.history[st.history.length - 1]!;
  // The selected model's test predictions (confusion matrices, per-utterance reports).
  const testPredictions = predict(model, fold.test, { stage: chosen.stage, batchSize: config.optim.batchSize, condition: testMasks ? undefined : job.condition, masks: testMasks });
  delete testPredictions.unimodal;
  const result: TrainResult = {
    testPredictions,
    model,
    history: st.history,
    bestEpoch: chosen.epoch,
    selection,
    valid: chosen.valid,
    test: chosen.test,
    restored: st.restored,
    testMasks,
  };
  if (job.files) {
    const meta = {
      kind,
      fold: fold.index,
      condition: tr.random !== undefined ? undefined : job.condition,
      missingRate: tr.random,
      seed: config.seed,
      bestEpoch: result.bestEpoch,
      selection,
      selectionNote: describeSelection(selection),
    };
    saveModel(job.files.model, model, meta);
    writeJsonAtomic(job.files.result, { ...meta, valid: result.valid, test: result.test, restored: result.restored, epochs: st.history.length });
  }
  return result;
}
