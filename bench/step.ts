/**
 * `npm run bench:step [-- --matmul native|xnnpack|stock|auto] [--steps N] [--warmup N] [--no-ref]`
 *
 * One training step (forward, backward, Adam) of the student-size model, ours against PyTorch:
 * B = 16 dialogues x S = 50 utterances, inputs a/t/v = 512/1024/1024, D = 256, depth 4, 2 heads,
 * dropout 0.5, stage 2 (masked CE + reconstruction), 4 classes. Ours is the project's real code path
 * (Student, trainingLoss, stepOn, Adam); the reference is bench/torch_ref.py, the same model in
 * PyTorch on 2 threads with OMP_WAIT_POLICY=PASSIVE, run after ours in the same invocation so the two
 * do not compete for the cores. Medians over `steps` timed steps after `warmup` untimed ones.
 * The matmul path also follows HARDY_MER_MATMUL. Last line of output: one JSON object.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initEngine, type MatmulChoice } from '../src/engine/backend.ts';
import { MODALITIES, type Batch } from '../src/data/types.ts';
import { trainingLoss } from '../src/model/objective.ts';
import { Student } from '../src/model/student.ts';
import type { ModelConfig } from '../src/model/types.ts';
import { Adam } from '../src/train/adam.ts';
import { stepOn } from '../src/train/step.ts';
import { Rng } from '../src/util/rng.ts';
import { ENGINE_FLAGS, engineFlags, median, round, runPythonRef, timed } from './support.ts';

const SHAPE = { B: 16, S: 50, dims: { a: 512, t: 1024, v: 1024 }, hidden: 256, depth: 4, heads: 2, dropout: 0.5, classes: 4 };
/** The shape above as a model config (bench/profile.ts profiles the same step). */
export const STEP_SHAPE = {
  model: { hidden: SHAPE.hidden, depth: SHAPE.depth, heads: SHAPE.heads, dropout: SHAPE.dropout, dims: SHAPE.dims, decoderHidden: 1024 },
  classes: SHAPE.classes,
};

interface Args { matmul?: MatmulChoice; steps: number; warmup: number; ref: boolean }

/** Flags through node:util's parser; the checks say what a bad value should be. */
function readArgs(argv: string[]): Args {
  const { values: v } = parseArgs({ args: argv, strict: true, options: { ...ENGINE_FLAGS, steps: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' } } });
  const args: Args = { ...engineFlags(v), steps: Number(v.steps), warmup: Number(v.warmup) };
  if (!(args.steps >= 1) || !(args.warmup >= 0)) throw new Error('--steps must be >= 1 and --warmup >= 0');
  return args;
}

/**
 * A synthetic batch with the real layout: dialogue lengths 25..50 (rest padding), each real
 * utterance missing each modality with probability 0.3 but keeping at least one.
 */
export function syntheticBatch(rng: Rng): Batch {
  const { B, S, dims, classes } = SHAPE;
  const features = {} as Batch['features'];
  for (const m of MODALITIES) {
    const f = new Float32Array(B * S * dims[m]);
    for (let i = 0; i < f.length; i++) f[i] = rng.normal();
    features[m] = f;
  }
  const umask = new Float32Array(B * S);
  const avail = new Float32Array(B * S * 3);
  const labels = new Float32Array(B * S);
  const uttIds: string[][] = [];
  for (let b = 0; b < B; b++) {
    const len = 25 + rng.int(S - 25 + 1);
    uttIds.push([]);
    for (let s = 0; s < S; s++) {
      const real = s < len;
      uttIds[b]!.push(real ? `d${b}_u${s}` : '');
      if (!real) continue;
      const i = b * S + s;
      umask[i] = 1;
      labels[i] = rng.int(classes);
      const keep = [0, 1, 2].map(() => rng.next() >= 0.3);
      if (!keep.some(Boolean)) keep[rng.int(3)] = true;
      keep.forEach((k, m) => (avail[i * 3 + m] = k ? 1 : 0));
    }
  }
  return { B, S, dialogueIds: uttIds.map((_, b) => `d${b}`), uttIds, features, umask, avail, labels, speakers: new Float32Array(B * S) };
}

const rssMb = (): number => Math.round(process.memoryUsage.rss() / 2 ** 20);

async function runOurs(args: Args): Promise<{ ms: number[]; cpuMs: number[]; rssMb: number; matmul: string; params: number }> {
  const engine = await initEngine(args.matmul ? { matmul: args.matmul } : {});
  const config: ModelConfig = {
    hidden: SHAPE.hidden, depth: SHAPE.depth, heads: SHAPE.heads, dropout: SHAPE.dropout,
    dims: SHAPE.dims, numClasses: SHAPE.classes, task: 'classification', decoderHidden: 1024,
  };
  const model = new Student(config, 1);
  const adam = new Adam(model.params, { lr: 1e-4, weightDecay: 1e-5 });
  const rng = new Rng(2);
  const batch = syntheticBatch(rng);
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let peak = rssMb();
  for (let i = 0; i < args.warmup + args.steps; i++) {
    const t = timed(() => stepOn(model, adam, () => trainingLoss(model, batch, { stage: 2, rng })));
    peak = Math.max(peak, rssMb());
    if (i >= args.warmup) {
      ms.push(t.ms);
      cpuMs.push(t.cpuMs);
    }
    process.stderr.write(`ours step ${i + 1}/${args.warmup + args.steps}${i < args.warmup ? ' (warm-up)' : ''}: ${t.ms.toFixed(0)} ms, loss ${t.value.toFixed(4)}\n`);
  }
  const params = model.params.count();
  model.dispose();
  adam.dispose();
  return { ms, cpuMs, rssMb: peak, matmul: engine.matmul, params };
}

function runRef(args: Args): { ms: number[]; cpuMs: number[]; rssMb: number; params: number } | null {
  const out = runPythonRef<{ steps_ms: number[]; steps_cpu_ms: number[]; rss_mb: number; params: number }>(
    'torch_ref.py', ['--steps', String(args.steps), '--warmup', String(args.warmup)], "PyTorch from Debian's python3-torch",
  );
  return out && { ms: out.steps_ms, cpuMs: out.steps_cpu_ms, rssMb: out.rss_mb, params: out.params };
}

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  const ours = await runOurs(args);
  const ref = args.ref ? runRef(args) : null;
  if (!args.ref) process.stderr.write('reference not run: --no-ref\n');
  const oursMs = median(ours.ms);
  const refMs = ref ? median(ref.ms) : null;
  console.log(JSON.stringify({
    ours_ms: round(oursMs),
    ref_ms: refMs === null ? null : round(refMs),
    ratio: refMs === null ? null : round(oursMs / refMs, 2),
    ours_rss_mb: ours.rssMb,
    ref_rss_mb: ref?.rssMb ?? null,
    matmul: ours.matmul,
    // CPU time (all threads) per step: less sensitive than wall time to other jobs on the machine.
    ours_cpu_ms: round(median(ours.cpuMs)),
    ref_cpu_ms: ref ? round(median(ref.cpuMs)) : null,
    load_avg_1m: round(loadavg()[0]!),
    steps: args.steps,
    warmup: args.warmup,
    params: ours.params,
    ref_params: ref?.params ?? null,
    ours_steps_ms: ours.ms.map(round),
    ref_steps_ms: ref?.ms.map(round) ?? null,
  }));
}

// Run only as a script (bench/profile.ts imports the batch and shape from here).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
