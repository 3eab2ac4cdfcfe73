/**
 * `node --import tsx bench/baselines.ts [--max-batches N] [--rounds R]`
 *
 * Seconds per training epoch of each baseline at its paper's size, beside MoMKE's in the same
 * process: the `iemocap` synthetic preset (real IEMOCAP-4 sizes, a/t/v = 512/1024/1024), fold 1's
 * training dialogues, B = 16 dialogues per batch, availability drawn by the random protocol at rate
 * 0.3, stage-2 loss (MMIN: with its imagination terms; GCNet: with its reconstruction), one Adam step
 * per batch after one untimed warm-up step. Models: MoMKE D = 256, depth 4, 2 heads; MMIN D = 256
 * (embeddings 128, autoencoders 256-128-64, five blocks); GCNet H = 200, window 2/2; dropout 0.5.
 * The methods run in turn, `rounds` times (MoMKE, MMIN, GCNet, MoMKE, ...), so a change of machine
 * load shows up as a spread between rounds; ratios are of CPU seconds (steadier than wall time on a
 * shared machine), to MoMKE's mean. Last line: one JSON object.
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../src/engine/backend.ts';
import { drawMasks, getFold, loadCorpus, makeBatches, writeSynth } from '../src/data/index.ts';
import { createModel } from '../src/model/factory.ts';
import { trainingLoss } from '../src/model/objective.ts';
import type { ModelKind } from '../src/model/types.ts';
import { Adam } from '../src/train/adam.ts';
import { stepOn } from '../src/train/step.ts';
import { Rng } from '../src/util/rng.ts';
import { mean, timed } from './support.ts';

const { values: v } = parseArgs({ options: { 'max-batches': { type: 'string' }, rounds: { type: 'string', default: '2' } } });
const maxBatches = v['max-batches'] === undefined ? Infinity : Number(v['max-batches']);
const rounds = Number(v.rounds);
const engine = await initEngine();

const dir = mkdtempSync(join(tmpdir(), 'hardy-bench-baselines-'));
writeSynth(dir, { preset: 'iemocap', seed: 1 });
const corpus = loadCorpus(dir);
rmSync(dir, { recursive: true, force: true });
const fold = getFold(corpus, 1);
const batches = makeBatches(fold.train, { batchSize: 16, shuffle: true, seed: 3, masks: drawMasks(fold.train, 0.3, 7) }).slice(0, maxBatches);
const utterances = batches.reduce((a, b) => a + b.uttIds.flat().filter(Boolean).length, 0);

const SIZES: Record<string, { kind: ModelKind; hidden: number }> = {
  momke: { kind: 'momke', hidden: 256 },
  mmin: { kind: 'mmin', hidden: 256 },
  gcnet: { kind: 'gcnet', hidden: 200 },
};

/** Wall and CPU seconds (both BLAS threads count) of one epoch of `name`, and its parameter count. */
function epoch(name: string): { wall: number; cpu: number; params: number } {
  const { kind, hidden } = SIZES[name]!;
  const model = createModel(kind, { hidden, depth: 4, heads: 2, dropout: 0.5, dims: corpus.dims, numClasses: corpus.numClasses, task: corpus.task, decoderHidden: 1024 }, 1);
  model.beginStage2?.();
  const adam = new Adam(model.params, { lr: 1e-4, weightDecay: 1e-5 });
  const rng = new Rng(1);
  const step = (i: number): number => stepOn(model, adam, () => trainingLoss(model, batches[i]!, { stage: 2, rng }));
  step(0); // warm-up: optimiser moments, kernel caches
  const { ms, cpuMs } = timed(() => {
    for (let i = 0; i < batches.length; i++) step(i);
  });
  const params = model.params.count();
  adam.dispose();
  model.dispose();
  return { wall: ms / 1000, cpu: cpuMs / 1000, params };
}

const times: Record<string, { wall: number; cpu: number; params: number }[]> = { momke: [], mmin: [], gcnet: [] };
for (let r = 0; r < rounds; r++) {
  for (const name of Object.keys(times)) {
    const t = epoch(name);
    times[name]!.push(t);
    console.log(`round ${r + 1} ${name}: ${t.wall.toFixed(1)} s wall, ${t.cpu.toFixed(1)} s CPU (load ${loadavg()[0]!.toFixed(1)})`);
  }
}
const ref = mean(times.momke!.map((t) => t.cpu));
const out = Object.fromEntries(
  Object.entries(times).map(([k, ts]) => {
    const cpu = mean(ts.map((t) => t.cpu));
    return [k, { params: ts[0]!.params, wallSecondsPerEpoch: +mean(ts.map((t) => t.wall)).toFixed(2), cpuSecondsPerEpoch: +cpu.toFixed(2), cpuRatioToMomke: +(cpu / ref).toFixed(2) }];
  }),
);
console.log(`${batches.length} batches, ${utterances} utterances per epoch; matmul ${engine.matmul}`);
console.log(JSON.stringify({ bench: 'baselines-epoch', batches: batches.length, utterances, matmul: engine.matmul, load: loadavg()[0], ...out }));
