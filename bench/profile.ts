/**
 * `npm run bench:profile [-- --matmul native|xnnpack] [--steps 3]`
 *
 * Where a training step of the student-size model (bench/step.ts's shape) spends its time, per
 * wasm kernel: every kernel registered for the wasm backend is wrapped with a timer (wasm kernels
 * run synchronously, so wall time per call is exact), then `steps` steps run after one warm-up.
 * Prints a table (kernel, calls per step, ms per step, share) and, last, one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { initEngine, type MatmulChoice } from '../src/engine/backend.ts';
import { trainingLoss } from '../src/model/objective.ts';
import { Student } from '../src/model/student.ts';
import { Adam } from '../src/train/adam.ts';
import { stepOn } from '../src/train/step.ts';
import { Rng } from '../src/util/rng.ts';
import { syntheticBatch, STEP_SHAPE } from './step.ts';
import { round } from './support.ts';

interface Stat { calls: number; ms: number }

/** Wraps every wasm kernel with a timer; nested kernels (a kernel calling another) count in both. */
function instrument(stats: Map<string, Stat>): void {
  for (const k of tf.getKernelsForBackend('wasm')) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = inner(args);
        const s = stats.get(k.kernelName) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += performance.now() - t0;
        stats.set(k.kernelName, s);
        return out;
      },
    });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const steps = Number(opt('--steps') ?? 3);
  const engine = await initEngine(opt('--matmul') ? { matmul: opt('--matmul') as MatmulChoice } : {});
  const model = new Student({ ...STEP_SHAPE.model, numClasses: STEP_SHAPE.classes, task: 'classification' }, 1);
  const adam = new Adam(model.params, { lr: 1e-4, weightDecay: 1e-5 });
  const rng = new Rng(2);
  const batch = syntheticBatch(rng);
  const step = (): number => stepOn(model, adam, () => trainingLoss(model, batch, { stage: 2, rng }));
  step(); // warm-up (Adam's moments, XNNPACK operators)
  const stats = new Map<string, Stat>();
  instrument(stats);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const stepMs = (performance.now() - t0) / steps;
  const rows = [...stats].map(([name, s]) => ({ name, calls: s.calls / steps, ms: s.ms / steps })).sort((a, b) => b.ms - a.ms);
  const kernelMs = rows.reduce((s, r) => s + r.ms, 0);
  console.log(`matmul ${engine.matmul}; ${stepMs.toFixed(0)} ms/step, of which ${kernelMs.toFixed(0)} ms inside kernels (nested calls counted twice), load ${loadavg()[0]!.toFixed(1)}`);
  console.log('kernel'.padEnd(22) + 'calls/step'.padStart(11) + 'ms/step'.padStart(10) + 'share'.padStart(8));
  for (const r of rows.slice(0, 25)) {
    console.log(r.name.padEnd(22) + r.calls.toFixed(0).padStart(11) + r.ms.toFixed(1).padStart(10) + `${((100 * r.ms) / stepMs).toFixed(1)}%`.padStart(8));
  }
  const calls = rows.reduce((s, r) => s + r.calls, 0);
  console.log(JSON.stringify({
    matmul: engine.matmul, step_ms: Math.round(stepMs), kernel_calls_per_step: Math.round(calls),
    outside_kernels_ms: Math.round(stepMs - kernelMs), load_avg_1m: round(loadavg()[0]!),
    top: rows.slice(0, 12).map((r) => [r.name, Math.round(r.ms), Math.round(r.calls)]),
  }));
  model.dispose();
  adam.dispose();
}

await main();
