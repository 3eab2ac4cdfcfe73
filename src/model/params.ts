/**
 * Named trainable parameters. Every layer registers its variables here under a dotted path
 * (`expert.l0.a.attn.q.W`), so checkpoints, the optimiser and the stage-switch restore all address
 * weights by name and never by position.
 */
import * as tf from '@tensorflow/tfjs';
import { torchLinearInit } from '../engine/ops.ts';
import type { Rng } from '../util/rng.ts';
import { HardyError } from '../util/errors.ts';

/** A weight as plain data: what checkpoints store and `setWeights` accepts. */
export interface WeightData {
  shape: number[];
  values: Float32Array;
}

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();

  constructor(readonly rng: Rng) {}

  private add(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} registered twice`);
    const v = tf.variable(init, trainable, name + '#' + uid++);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  /** Matrix [fanIn, fanOut] with PyTorch's nn.Linear default init (see torchLinearInit). */
  matrix(name: string, fanIn: number, fanOut: number): tf.Variable {
    return this.add(name, torchLinearInit([fanIn, fanOut], this.rng));
  }

  /** Zero vector (biases). */
  zeros(name: string, n: number): tf.Variable {
    return this.add(name, tf.zeros([n]));
  }

  /**
   * A zero weight the optimiser never updates (tfjs leaves non-trainable variables out of
   * `variableGrads`), saved and restored with the others: MMIN's frozen imagination targets.
   */
  frozen(name: string, shape: number[]): tf.Variable {
    return this.add(name, tf.zeros(shape), false);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copies of the weights whose name satisfies `keep` (all by default). */
  getWeights(keep: (name: string) => boolean = () => true): Map<string, WeightData> {
    const out = new Map<string, WeightData>();
    for (const [name, v] of this.vars) {
      if (keep(name)) out.set(name, { shape: [...v.shape], values: v.dataSync() as Float32Array });
    }
    return out;
  }

  /**
   * Assign the given weights (a subset is fine: the stage switch restores only some). Every name
   * must exist with the same shape, so a checkpoint of another architecture fails loudly.
   */
  setWeights(weights: Map<string, WeightData>, source = 'weights'): void {
    for (const [name, w] of weights) {
      const v = this.vars.get(name);
      if (!v) throw new HardyError(`${source}: weight ${name} does not exist in this model`);
      if (v.shape.join('x') !== w.shape.join('x')) {
        throw new HardyError(`${source}: weight ${name} has shape [${w.shape}], expected [${v.shape}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(w.values, v.shape)));
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

// tfjs variable names are global in the engine; the suffix keeps two models in one process apart.
let uid = 0;
