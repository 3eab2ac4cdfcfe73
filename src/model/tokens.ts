/**
 * The real utterances of a padded [B, S] batch as N rows. Every layer except attention acts on one
 * utterance at a time, so the models run those layers on [N, ·] rows and skip the padding (the
 * published code computes on it: with dialogues of 25-50 utterances padded to 50 that is a quarter
 * of the matrix-product work, with IEMOCAP's dialogue lengths more than half); only attention mixes
 * the utterances of a dialogue, and it reads each dialogue's rows (`starts`) in the native kernel, or
 * the [B, S, ·] grid on the tfjs-ops path. Outputs at real utterances are the same either way
 * (padding is masked out of every attention key and loss), and the grid puts exact zeros at padding.
 */
import * as tf from '@tensorflow/tfjs';
import { pickRows, placeRows, type RowLayout } from '../engine/ops.ts';
import { MODALITIES, type Modality } from '../data/types.ts';
import { modalityMasks } from './inputs.ts';
import type { ForwardResult, ModelInputs } from './types.ts';

export class TokenLayout implements RowLayout {
  /** Real utterances. */
  readonly N: number;
  /** [B + 1]: dialogue b owns rows starts[b]..starts[b+1]. */
  readonly starts: number[];
  /** [N] int32: flat grid position b * S + s of row n (row-major, so rows keep dialogue order). */
  private readonly rows: tf.Tensor1D;
  /** [B * S] int32: the row of each grid position, N at padding. */
  private readonly slots: tf.Tensor1D;

  /** The index tensors belong to the caller's tf.tidy scope, like the forward pass's other tensors. */
  constructor(readonly B: number, readonly S: number, umask: ArrayLike<number>) {
    const rows: number[] = [];
    const slots = new Int32Array(B * S).fill(-1);
    this.starts = [0];
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) if (umask[b * S + s]) slots[b * S + s] = rows.push(b * S + s) - 1;
      this.starts.push(rows.length);
    }
    this.N = rows.length;
    if (this.N === 0) throw new Error('a batch with no real utterance');
    for (let i = 0; i < slots.length; i++) if (slots[i] === -1) slots[i] = this.N;
    this.rows = tf.tensor1d(rows, 'int32');
    this.slots = tf.tensor1d(slots, 'int32');
  }

  private get dense(): boolean {
    return this.N === this.B * this.S;
  }

  /** [B, S, ...rest] -> [N, ...rest] */
  toRows(x: tf.Tensor): tf.Tensor {
    const rest = x.shape.slice(2);
    if (this.dense) return tf.reshape(x, [this.N, ...rest]);
    const flat = tf.reshape(x, [this.B * this.S, width(rest)]) as tf.Tensor2D;
    return tf.reshape(pickRows(flat, this.rows, this.slots), [this.N, ...rest]);
  }

  /** [N, ...rest] -> [B, S, ...rest], zeros at padding. */
  toGrid(y: tf.Tensor): tf.Tensor {
    const rest = y.shape.slice(1);
    if (this.dense) return tf.reshape(y, [this.B, this.S, ...rest]);
    const flat = tf.reshape(y, [this.N, width(rest)]) as tf.Tensor2D;
    return tf.reshape(placeRows(flat, this.rows, this.slots), [this.B, this.S, ...rest]);
  }
}

const width = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** What every forward pass starts from: the layout of `inputs` and each modality's mask [N] as rows. */
export function layoutOf(inputs: ModelInputs): { L: TokenLayout; masks: Record<Modality, tf.Tensor> } {
  const [B, S] = inputs.umask.shape as [number, number];
  const L = new TokenLayout(B, S, inputs.umask.dataSync());
  const grid = modalityMasks(inputs); // [B, S]
  const masks = {} as Record<Modality, tf.Tensor>;
  for (const m of MODALITIES) masks[m] = L.toRows(grid[m]);
  return { L, masks };
}

/** A forward result computed on rows, laid out as the [B, S, ·] grid the losses and callers read. */
export function resultOnGrid(L: TokenLayout, r: ForwardResult): ForwardResult {
  const grid = <K extends string>(o: Record<K, tf.Tensor>): Record<K, tf.Tensor> =>
    Object.fromEntries(Object.entries<tf.Tensor>(o).map(([k, t]) => [k, L.toGrid(t)])) as Record<K, tf.Tensor>;
  return {
    logits: L.toGrid(r.logits),
    reps: r.reps && grid(r.reps),
    joint: r.joint && grid(r.joint),
    recon: r.recon && L.toGrid(r.recon),
    unimodal: r.unimodal && grid(r.unimodal),
    aux: r.aux,
  };
}
