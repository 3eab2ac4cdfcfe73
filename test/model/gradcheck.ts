/**
 * Finite-difference gradient check in float32: central differences at `samples` coordinates of
 * each variable, compared with tfjs autograd. Returns the worst relative error per variable,
 * ||analytic - numeric|| / max(||analytic||, ||numeric||, floor * G), over the sampled coordinates,
 * where G is the largest such gradient norm of any variable: a variable whose true gradient is 0
 * (e.g. the key bias of attention, which softmax cancels) is then judged against the model's scale
 * rather than against float32 noise.
 *
 * ReLU kinks: a coordinate whose central differences at eps and eps/4 disagree by more than 5%
 * sits on a non-smooth point at that scale; it is skipped and counted (`skipped`), and callers bound
 * the skipped fraction. A wrong gradient does not make the two estimates disagree, so this does
 * not hide errors.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../../src/model/params.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomTensor } from '../support/random.ts';

export interface GradCheckResult {
  worst: number;
  worstVar: string;
  /** Norm of the sampled analytic gradient (so a test can also assert it is not trivially 0). */
  analyticNorm: number;
  checked: number;
  skipped: number;
}

export function gradCheck(
  vars: Record<string, tf.Variable>,
  f: () => tf.Scalar,
  { eps = 1e-2, samples = 8, seed = 3, floor = 1e-2 } = {},
): GradCheckResult {
  const rng = new Rng(seed);
  const list = Object.entries(vars);
  const { value, grads } = tf.variableGrads(f, list.map(([, v]) => v));
  value.dispose();
  const evalAt = (): number => {
    const y = f();
    const out = y.dataSync()[0]!;
    y.dispose();
    return out;
  };
  const stats: { label: string; diff: number; na: number; nn: number }[] = [];
  let checked = 0;
  let skipped = 0;
  for (const [label, v] of list) {
    const g = grads[v.name];
    const ga = g ? (g.dataSync() as Float32Array) : new Float32Array(v.size);
    const base = v.dataSync().slice() as Float32Array;
    const idx = new Set<number>();
    while (idx.size < Math.min(samples, v.size)) idx.add(rng.int(v.size));
    let diff = 0;
    let na = 0;
    let nn = 0;
    for (const i of idx) {
      const probe = (delta: number): number => {
        const vals = base.slice();
        vals[i] = base[i]! + delta;
        tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
        return evalAt();
      };
      const num = (probe(eps) - probe(-eps)) / (2 * eps);
      const narrow = (probe(eps / 4) - probe(-eps / 4)) / (eps / 2);
      checked++;
      if (Math.abs(num - narrow) > 0.05 * Math.max(Math.abs(num), Math.abs(narrow), 1e-2)) {
        skipped++;
        continue;
      }
      diff += (ga[i]! - num) ** 2;
      na += ga[i]! ** 2;
      nn += num ** 2;
    }
    tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
    stats.push({ label, diff: Math.sqrt(diff), na: Math.sqrt(na), nn: Math.sqrt(nn) });
  }
  tf.dispose(Object.values(grads));
  const G = Math.max(...stats.map((s) => Math.max(s.na, s.nn)));
  let worst = 0;
  let worstVar = '';
  let total = 0;
  for (const s of stats) {
    const rel = s.diff / Math.max(s.na, s.nn, floor * G, 1e-12);
    total += s.na ** 2;
    if (rel > worst) {
      worst = rel;
      worstVar = s.label;
    }
  }
  return { worst, worstVar, analyticNorm: Math.sqrt(total), checked, skipped };
}

/** Gradient check of sum(module(inputs) * R) w.r.t. the module's parameters and its inputs (relative error < 1e-2). */
export function checkModule(params: ParamStore, inputs: Record<string, tf.Variable>, apply: () => tf.Tensor, eps = 1e-2): void {
  const outShape = tf.tidy(() => apply()).shape;
  const R = randomTensor(outShape, new Rng(99));
  const vars: Record<string, tf.Variable> = { ...inputs };
  for (const [name, v] of params.vars) vars[name] = v;
  const r = gradCheck(vars, () => tf.tidy(() => tf.sum(tf.mul(apply(), R))) as tf.Scalar, { eps });
  assert.ok(r.analyticNorm > 1e-3, `gradient is trivially zero (${r.analyticNorm})`);
  assert.ok(r.worst < 1e-2, `gradient mismatch ${r.worst.toExponential(2)} at ${r.worstVar}`);
  R.dispose();
}
