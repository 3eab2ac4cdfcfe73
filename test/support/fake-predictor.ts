/**
 * A deterministic in-process Predictor for the server tests and the load bench: a seeded random
 * linear model per modality plus the dialogue's mean as context, so answers depend on every
 * feature, on the condition and on the dialogue grouping, and cost real arithmetic
 * (O(sum_m d_m * C) per utterance). Not a model of emotion; a stand-in with the real contract.
 */
import { Rng } from '../../src/util/rng.ts';
import { MODALITIES, type Condition, type Modality, type Task } from '../../src/data/types.ts';
import { threadNice } from '../../src/serve/threads.ts';
import type { Predictor, PredictorInfo, PredictRequest, PredictResponse, UtterancePrediction } from '../../src/serve/predictor.ts';

export interface FakeOptions {
  task?: Task;
  dims?: Record<Modality, number>;
  /** Largest |feature| accepted per modality (PredictorInfo.featureLimits); default none. */
  featureLimits?: Record<Modality, number>;
  conditions?: Condition[];
  classNames?: string[];
  seed?: number;
  /** Artificial wait per predict() call, to hold requests in flight. */
  delayMs?: number;
  /** Synchronous busy work per predict() call (blocks the thread, as tensor work does). */
  busyMs?: number;
  /** createPredictor() only: how long "loading the models" takes. */
  loadMs?: number;
  /** createPredictor() only: start the engine in this thread first, as the run's predictor does. */
  startEngine?: boolean;
}

export function makeFakePredictor(o: FakeOptions = {}): Predictor & { calls: number } {
  const task = o.task ?? 'classification';
  const dims = o.dims ?? { a: 16, t: 24, v: 8 };
  const classNames = task === 'classification' ? (o.classNames ?? ['neutral', 'happy', 'sad', 'angry']) : [];
  const C = Math.max(1, classNames.length);
  const conditions = o.conditions ?? ['a', 't', 'v', 'at', 'av', 'tv'];
  const rng = new Rng(o.seed ?? 7);
  // Per modality W [d_m, C], entries N(0, 1/d_m).
  const W = Object.fromEntries(
    MODALITIES.map((m) => [m, Float64Array.from({ length: dims[m] * C }, () => rng.normal() / Math.sqrt(dims[m]))]),
  ) as Record<Modality, Float64Array>;
  const info: PredictorInfo = {
    task,
    classNames,
    dims,
    ...(o.featureLimits ? { featureLimits: o.featureLimits } : {}),
    models: conditions.map((condition) => ({ condition, method: 'fake', teacher: true })),
  };

  function project(features: Partial<Record<Modality, Float32Array>>): Float64Array {
    const z = new Float64Array(C); // [C]
    for (const m of MODALITIES) {
      const x = features[m];
      if (!x) continue;
      for (let i = 0; i < x.length; i++) for (let c = 0; c < C; c++) z[c] += x[i] * W[m][i * C + c];
    }
    return z;
  }

  const p: Predictor & { calls: number } = {
    calls: 0,
    info: () => info,
    async predict(req: PredictRequest): Promise<PredictResponse> {
      p.calls++;
      if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
      if (o.busyMs) for (const end = performance.now() + o.busyMs; performance.now() < end; );
      const out: UtterancePrediction[] = [];
      for (const d of req.dialogues) {
        const zs = d.utterances.map((u) => project(u.features));
        const ctx = new Float64Array(C); // dialogue mean of z: [C]
        for (const z of zs) for (let c = 0; c < C; c++) ctx[c] += z[c] / zs.length;
        d.utterances.forEach((u, i) => {
          const z = zs[i].map((v, c) => v + 0.5 * ctx[c]);
          const used = MODALITIES.filter((m) => u.condition.includes(m));
          if (task === 'regression') {
            const score = 3 * Math.tanh(z[0]);
            out.push({ id: u.id, dialogue: d.id, label: score, score, used, condition: u.condition });
            return;
          }
          const mx = Math.max(...z);
          const e = z.map((v) => Math.exp(v - mx));
          const s = e.reduce((a, b) => a + b, 0);
          const probs = Array.from(e, (v) => v / s);
          const best = probs.indexOf(Math.max(...probs));
          const entropy = -probs.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0);
          out.push({ id: u.id, dialogue: d.id, probs, label: classNames[best], used, condition: u.condition, hardness: entropy / Math.log(C) });
        });
      }
      return { task, utterances: out };
    },
  };
  return p;
}

/** For the worker pool (PredictorSpec): the same stand-in built inside a worker thread. */
export async function createPredictor(o: FakeOptions): Promise<Predictor> {
  if (o.loadMs) await new Promise((r) => setTimeout(r, o.loadMs));
  if (o.startEngine) await (await import('../../src/engine/backend.ts')).initEngine();
  const p = makeFakePredictor(o);
  // The nice value of the thread that built it (Linux), for the pool's priority test.
  const nice = threadNice();
  if (nice === undefined) return p;
  const info = p.info();
  return Object.assign(p, { info: () => ({ ...info, models: info.models.map((m) => ({ ...m, threadNice: nice })) }) });
}
