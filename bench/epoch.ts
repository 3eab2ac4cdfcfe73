/**
 * `npm run bench:epoch [-- --matmul native|xnnpack|stock|auto] [--k 3] [--max-batches N] [--no-ref]`
 *
 * One stage-2 student epoch with K = 3, ours against PyTorch. Data: the `iemocap` synthetic preset
 * (real IEMOCAP-4 sizes, a/t/v = 512/1024/1024), fold 1's training dialogues, shuffled, B = 16,
 * padded to the longest dialogue of each batch, availability drawn by the random protocol at rate
 * 0.3 (the curriculum's views keep each batch's shape and masks and change only feature values, so
 * K + 1 copies of a batch cost what its K + 1 views cost). Model: the paper's student, D = 256,
 * depth 4, 2 heads, dropout 0.5, stage-2 loss (masked CE + reconstruction), Adam.
 *
 * Timed on both sides: for every batch, K + 1 consecutive optimiser steps (forward, backward,
 * Adam), after one untimed warm-up step; batch building, data generation and loading are outside.
 * Ours runs the project's code (Student, trainingLoss, stepOn, Adam); PyTorch (bench/torch_epoch.py,
 * 2 threads, OMP_WAIT_POLICY=PASSIVE) reads the very same padded batches from a temp file this script
 * writes, and runs after ours so the two do not compete. Last line of output: one JSON object.
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { initEngine, type MatmulChoice } from '../src/engine/backend.ts';
import { drawMasks, getFold, loadCorpus, makeBatches, MODALITIES, writeSynth, type Batch } from '../src/data/index.ts';
import { trainingLoss } from '../src/model/objective.ts';
import { Student } from '../src/model/student.ts';
import { Adam } from '../src/train/adam.ts';
import { stepOn } from '../src/train/step.ts';
import { Rng } from '../src/util/rng.ts';
import { ENGINE_FLAGS, engineFlags, peakRssMb, round, runPythonRef, timed } from './support.ts';
import { inTempDir } from '../test/support/cli.ts';

const MODEL = { hidden: 256, depth: 4, heads: 2, dropout: 0.5, decoderHidden: 1024 };

interface Args { matmul?: MatmulChoice; k: number; maxBatches: number; ref: boolean }

/** Flags through node:util's parser; the checks say what a bad value should be. */
function readArgs(argv: string[]): Args {
  const { values: v } = parseArgs({ args: argv, strict: true, options: { ...ENGINE_FLAGS, k: { type: 'string', default: '3' }, 'max-batches': { type: 'string' } } });
  const args: Args = { ...engineFlags(v), k: Number(v.k), maxBatches: v['max-batches'] === undefined ? Infinity : Number(v['max-batches']) };
  if (!(args.k >= 0) || !(args.maxBatches >= 1)) throw new Error('--k must be >= 0 and --max-batches >= 1');
  return args;
}

/** Fold 1's training batches of the iemocap preset (written to `dir`). */
function epochBatches(dir: string, maxBatches: number): { batches: Batch[]; dims: Record<string, number>; classes: number } {
  writeSynth(dir, { preset: 'iemocap', seed: 1 });
  const corpus = loadCorpus(dir);
  const fold = getFold(corpus, 1);
  const masks = drawMasks(fold.train, 0.3, 7);
  const batches = makeBatches(fold.train, { batchSize: 16, shuffle: true, seed: 3, masks }).slice(0, maxBatches);
  const dims = Object.fromEntries(MODALITIES.map((m) => [m, batches[0]!.features[m].length / (batches[0]!.B * batches[0]!.S)]));
  return { batches, dims, classes: corpus.numClasses };
}

/** Writes every batch as float32 runs (a, t, v features, umask, avail, labels) plus a JSON header. */
function writeBatches(dir: string, batches: Batch[]): string {
  const parts: Float32Array[] = [];
  const entries: { B: number; S: number; offset: number }[] = [];
  let offset = 0;
  for (const b of batches) {
    entries.push({ B: b.B, S: b.S, offset });
    for (const p of [...MODALITIES.map((m) => b.features[m]), b.umask, b.avail, b.labels]) {
      parts.push(p);
      offset += p.length;
    }
  }
  const bin = join(dir, 'batches.f32');
  writeFileSync(bin, Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
  const header = join(dir, 'batches.json');
  writeFileSync(header, JSON.stringify({ bin, batches: entries }));
  return header;
}

async function runOurs(args: Args, batches: Batch[], dims: Record<string, number>, classes: number) {
  const engine = await initEngine(args.matmul ? { matmul: args.matmul } : {});
  const model = new Student({ ...MODEL, dims: dims as Record<'a' | 't' | 'v', number>, numClasses: classes, task: 'classification' }, 1);
  const adam = new Adam(model.params, { lr: 1e-4, weightDecay: 1e-5 });
  const rng = new Rng(2);
  const step = (b: Batch): number => stepOn(model, adam, () => trainingLoss(model, b, { stage: 2, rng }));
  step(batches[0]!); // warm-up
  const stepsMs: number[] = [];
  const { ms, cpuMs } = timed(() =>
    batches.forEach((b, i) => {
      let loss = 0;
      for (let v = 0; v <= args.k; v++) {
        const s = timed(() => step(b));
        loss = s.value;
        stepsMs.push(s.ms);
      }
      process.stderr.write(`ours batch ${i + 1}/${batches.length} (S=${b.S}): loss ${loss.toFixed(4)}\n`);
    }),
  );
  model.dispose();
  adam.dispose();
  return { ms, cpuMs, stepsMs, rssMb: peakRssMb(), matmul: engine.matmul };
}

function runRef(header: string, views: number): { ms: number; cpuMs: number; stepsMs: number[]; rssMb: number } | null {
  const out = runPythonRef<{ epoch_ms: number; epoch_cpu_ms: number; steps_ms: number[]; rss_mb: number }>(
    'torch_epoch.py', [header, '--views', String(views)], "PyTorch from Debian's python3-torch",
  );
  return out && { ms: out.epoch_ms, cpuMs: out.epoch_cpu_ms, stepsMs: out.steps_ms, rssMb: out.rss_mb };
}

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  await inTempDir('epoch', async (dir) => {
    const { batches, dims, classes } = epochBatches(join(dir, 'data'), args.maxBatches);
    const header = args.ref ? writeBatches(dir, batches) : '';
    const shapes = batches.map((b) => `${b.B}x${b.S}`).join(' ');
    process.stderr.write(`epoch: ${batches.length} batches (${shapes}), ${batches.length * (args.k + 1)} steps\n`);
    const load0 = loadavg()[0]!;
    const ours = await runOurs(args, batches, dims, classes);
    const ref = args.ref ? runRef(header, args.k + 1) : null;
    if (!args.ref) process.stderr.write('reference not run: --no-ref\n');
    const ms = (x: number): number => round(x, 0);
    console.log(JSON.stringify({
      ours_ms: ms(ours.ms),
      ref_ms: ref ? ms(ref.ms) : null,
      ratio: ref ? round(ours.ms / ref.ms, 2) : null,
      ours_rss_mb: ours.rssMb,
      ref_rss_mb: ref?.rssMb ?? null,
      matmul: ours.matmul,
      ours_cpu_ms: ms(ours.cpuMs),
      ref_cpu_ms: ref ? ms(ref.cpuMs) : null,
      cpu_ratio: ref ? round(ours.cpuMs / ref.cpuMs, 2) : null,
      steps: batches.length * (args.k + 1),
      k: args.k,
      batch_shapes: shapes,
      load_avg_1m: [round(load0), round(loadavg()[0]!)],
      ours_steps_ms: ours.stepsMs.map(ms),
      ref_steps_ms: ref?.stepsMs.map(ms) ?? null,
    }));
  });
}

await main();
