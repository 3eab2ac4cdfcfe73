/**
 * Graphs over the utterances of each dialogue and the two convolutions GCNet stacks on them
 * (docs/baselines.md). Node i of dialogue b is grid position (b, s); j is a neighbour of i when both
 * are real utterances of the same dialogue and j - i lies in [-past, future] (i itself included).
 * Each edge j -> i has a relation type:
 *   temporal: 0 past (j < i), 1 self (j = i), 2 future (j > i)
 *   speaker:  2 * speaker(j) + speaker(i)   (speakers 0/1; a one-speaker corpus uses type 0 only)
 *
 * The window is small, so instead of an edge list the graph is O = past + future + 1 offsets: the
 * neighbours at offset o are the grid shifted by o along S (exact zeros past either end), and a
 * coefficient per (node, relation, offset) says whether that edge exists and how it is normalised.
 * Aggregation is then one batched product [B S, R, O] x [B S, O, D]; the gradients are those of
 * slice, pad and matMul, all tfjs kernels (a gather with repeated indices would need a scatter-add
 * the wasm backend lacks; see engine/ops.ts pickRows).
 */
import * as tf from '@tensorflow/tfjs';
import { Linear } from './layers.ts';
import type { ParamStore } from './params.ts';

export type GraphKind = 'temporal' | 'speaker';
export const RELATIONS: Record<GraphKind, number> = { temporal: 3, speaker: 4 };

/** The graph of one batch: which edges exist and their relation types, as plain arrays. */
export class DialogueGraph {
  readonly offsets: number[];
  readonly relations: number;
  /** [B, S, R, O]: 1 where the edge at offset o exists with relation r. */
  readonly edges: Float32Array;

  constructor(
    readonly kind: GraphKind,
    readonly B: number,
    readonly S: number,
    umask: ArrayLike<number>,
    speakers: ArrayLike<number>,
    past: number,
    future: number,
  ) {
    this.offsets = [];
    for (let o = -past; o <= future; o++) this.offsets.push(o);
    const R = (this.relations = RELATIONS[kind]);
    const O = this.offsets.length;
    this.edges = new Float32Array(B * S * R * O);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        if (!umask[b * S + s]) continue;
        this.offsets.forEach((o, k) => {
          const j = s + o;
          if (j < 0 || j >= S || !umask[b * S + j]) return;
          const r = kind === 'temporal' ? Math.sign(o) + 1 : 2 * (speakers[b * S + j]! ? 1 : 0) + (speakers[b * S + s]! ? 1 : 0);
          this.edges[((b * S + s) * R + r) * O + k] = 1;
        });
      }
    }
  }

  /** Per-relation mean: each edge weighted by 1 / (edges of its node and relation). [B S, R, O] */
  meanWeights(): tf.Tensor3D {
    const R = this.relations;
    const O = this.offsets.length;
    const w = this.edges.slice();
    for (let nr = 0; nr < this.B * this.S * R; nr++) {
      let n = 0;
      for (let k = 0; k < O; k++) n += w[nr * O + k]!;
      if (n > 1) for (let k = 0; k < O; k++) w[nr * O + k]! /= n;
    }
    return tf.tensor3d(w, [this.B * this.S, R, O]);
  }

  /** Every edge with weight 1, relations merged (sum aggregation). [B S, 1, O] */
  sumWeights(): tf.Tensor3D {
    const R = this.relations;
    const O = this.offsets.length;
    const w = new Float32Array(this.B * this.S * O);
    for (let i = 0; i < this.B * this.S; i++) for (let r = 0; r < R; r++) for (let k = 0; k < O; k++) w[i * O + k]! += this.edges[(i * R + r) * O + k]!;
    return tf.tensor3d(w, [this.B * this.S, 1, O]);
  }

  /**
   * x [B, S, D] -> [B S, R', D]: for each node, the weighted sum over its neighbours of their
   * features, one row per relation of `weights` [B S, R', O].
   */
  aggregate(x: tf.Tensor, weights: tf.Tensor3D): tf.Tensor {
    const [B, S, D] = x.shape as [number, number, number];
    const shifted = this.offsets.map((o) => shift(x, o, B, S, D)); // O x [B, S, D]
    const nb = tf.reshape(tf.stack(shifted, 2), [B * S, this.offsets.length, D]) as tf.Tensor3D;
    return tf.matMul(weights, nb); // [B S, R', D]
  }
}

/** y[b, s] = x[b, s + o], zeros where s + o falls outside [0, S). */
function shift(x: tf.Tensor, o: number, B: number, S: number, D: number): tf.Tensor {
  if (o === 0) return x;
  if (Math.abs(o) >= S) return tf.zerosLike(x);
  return o > 0
    ? tf.pad(tf.slice(x, [0, o, 0], [B, S - o, D]), [[0, 0], [0, o], [0, 0]])
    : tf.pad(tf.slice(x, [0, 0, 0], [B, S + o, D]), [[0, 0], [-o, 0], [0, 0]]);
}

/**
 * Relational graph convolution: x'_i = W_0 x_i + b + sum_r W_r mean_{j in N_r(i)} x_j.
 * x [B, S, D] -> [B, S, H]; the R relation weights are one [R D, H] matrix.
 */
export class RelationalGraphConv {
  private readonly root: Linear;
  private readonly rel: tf.Variable;

  constructor(params: ParamStore, name: string, readonly inDim: number, readonly outDim: number, readonly relations: number) {
    this.root = new Linear(params, `${name}.root`, inDim, outDim);
    this.rel = params.matrix(`${name}.rel.W`, relations * inDim, outDim);
  }

  apply(x: tf.Tensor, graph: DialogueGraph, weights: tf.Tensor3D): tf.Tensor {
    const [B, S] = x.shape as [number, number];
    const agg = tf.reshape(graph.aggregate(x, weights), [B * S, this.relations * this.inDim]);
    return tf.add(this.root.apply(x), tf.reshape(tf.matMul(agg, this.rel), [B, S, this.outDim]));
  }
}

/** Graph convolution with a root weight: x'_i = W_1 x_i + b + W_2 sum_{j in N(i)} x_j. [B, S, D] -> [B, S, H] */
export class GraphConv {
  private readonly root: Linear;
  private readonly nb: tf.Variable;

  constructor(params: ParamStore, name: string, readonly inDim: number, readonly outDim: number) {
    this.root = new Linear(params, `${name}.root`, inDim, outDim);
    this.nb = params.matrix(`${name}.nb.W`, inDim, outDim);
  }

  apply(x: tf.Tensor, graph: DialogueGraph, weights: tf.Tensor3D): tf.Tensor {
    const [B, S] = x.shape as [number, number];
    const agg = tf.reshape(graph.aggregate(x, weights), [B * S, this.inDim]);
    return tf.add(this.root.apply(x), tf.reshape(tf.matMul(agg, this.nb), [B, S, this.outDim]));
  }
}
