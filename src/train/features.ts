/**
 * The per-fold feature pipeline every model of a fold sees (docs/method.md §3 "Feature fine-tuning MLP",
 * §7): the optional fine-tuned MLP of each modality (its second layer's output), then unit L2 norm
 * for text. It is saved in the fold's folder, so `eval`, `predict` and `serve` apply to any
 * utterance exactly what training applied.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { l2NormalizeRows, mapFeatures } from '../data/batches.ts';
import { MODALITIES, type Corpus, type Modality } from '../data/types.ts';
import { FinetuneMlp } from '../model/finetune.ts';
import { HardyError } from '../util/errors.ts';
import { readBundle, writeBundle, type TensorSet } from './checkpoint.ts';
import { join } from 'node:path';

export const FEATURES_FORMAT = 'hardy-mer/features';
/** Rows per forward pass when extracting. */
const CHUNK = 1024;

interface Header {
  format: typeof FEATURES_FORMAT;
  version: 1;
  inputDims: Record<Modality, number>;
  /** Per modality: the fine-tuned MLP's output size (classes, or 1); absent = raw features. */
  finetune?: Record<Modality, { outDim: number }>;
}

export class FeaturePipeline {
  constructor(
    readonly inputDims: Record<Modality, number>,
    /** Fine-tuned MLP per modality (stage 0); absent = raw features. */
    readonly mlps?: Record<Modality, FinetuneMlp>,
  ) {}

  /** The fine-tuning MLP keeps the dimension (its second layer is d -> d). */
  get outputDims(): Record<Modality, number> {
    return { ...this.inputDims };
  }

  /** rows [n, d_m] of modality m -> transformed rows [n, d_m]. */
  apply(m: Modality, rows: Float32Array, n: number): Float32Array {
    const d = this.inputDims[m];
    if (rows.length !== n * d) throw new HardyError(`feature pipeline: ${m} rows hold ${rows.length} values, expected ${n} x ${d}`);
    const out = rows.slice();
    const mlp = this.mlps?.[m];
    if (mlp) {
      for (let start = 0; start < n; start += CHUNK) {
        const k = Math.min(CHUNK, n - start);
        const f = tf.tidy(() => mlp.forward(tf.tensor2d(rows.subarray(start * d, (start + k) * d), [k, d])).feature);
        out.set(f.dataSync() as Float32Array, start * d);
        f.dispose();
      }
    }
    return m === 't' ? l2NormalizeRows(out, d) : out;
  }

  /** A copy of `corpus` with every utterance's features transformed. */
  transformCorpus(corpus: Corpus): Corpus {
    const utts = corpus.dialogues.flatMap((dl) => dl.utterances);
    const done = {} as Record<Modality, Float32Array>;
    for (const m of MODALITIES) {
      const d = this.inputDims[m];
      const rows = new Float32Array(utts.length * d);
      utts.forEach((u, i) => rows.set(u.features[m], i * d));
      done[m] = this.apply(m, rows, utts.length);
    }
    const row = new Map(utts.map((u, i) => [u.id, i]));
    return mapFeatures(corpus, (m, _x, u) => done[m].slice(row.get(u.id)! * this.inputDims[m], (row.get(u.id)! + 1) * this.inputDims[m]));
  }

  save(dir: string): void {
    const header: Header = { format: FEATURES_FORMAT, version: 1, inputDims: this.inputDims };
    const sets: Record<string, TensorSet> = {};
    if (this.mlps) {
      header.finetune = {} as Record<Modality, { outDim: number }>;
      for (const m of MODALITIES) {
        header.finetune[m] = { outDim: this.mlps[m].outDim };
        sets[m] = this.mlps[m].params.getWeights();
      }
    }
    writeBundle(dir, 'features.json', 'features.bin', header, sets);
  }

  static exists(dir: string): boolean {
    return existsSync(join(dir, 'features.json'));
  }

  static load(dir: string): FeaturePipeline {
    const { header, sets } = readBundle(dir, 'features.json', 'features.bin', FEATURES_FORMAT);
    return FeaturePipeline.fromBundle(header, sets, join(dir, 'features.json'));
  }

  /** From a parsed bundle (`source` names it in errors); the web page builds its pipelines this way. */
  static fromBundle(header: Record<string, unknown>, sets: Record<string, TensorSet>, source: string): FeaturePipeline {
    const h = header as unknown as Header;
    if (!h.finetune) return new FeaturePipeline(h.inputDims);
    const mlps = {} as Record<Modality, FinetuneMlp>;
    for (const m of MODALITIES) {
      mlps[m] = new FinetuneMlp(h.inputDims[m], h.finetune[m].outDim, 0, `ft.${m}`);
      mlps[m].params.setWeights(sets[m] ?? new Map(), source);
    }
    return new FeaturePipeline(h.inputDims, mlps);
  }

  dispose(): void {
    if (this.mlps) for (const m of MODALITIES) this.mlps[m].dispose();
  }
}
