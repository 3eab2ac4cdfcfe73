/** A tiny model config and hand-built batches for model, engine and trainer tests (no corpus, no batcher needed). */
import type { Batch, Modality } from '../../src/data/types.ts';
import type { ModelConfig } from '../../src/model/types.ts';
import { Rng } from '../../src/util/rng.ts';

export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    hidden: 8,
    depth: 2,
    heads: 2,
    dropout: 0,
    dims: { a: 5, t: 6, v: 4 },
    numClasses: 3,
    task: 'classification',
    decoderHidden: 7,
    ...over,
  };
}

/**
 * B dialogues with the given real lengths (padded to max), random features and labels;
 * `avail(b, s)` gives the availability of (a, t, v) for a real utterance.
 */
export function randomBatch(
  cfg: ModelConfig,
  lens: number[],
  seed = 7,
  avail: (b: number, s: number) => [number, number, number] = () => [1, 1, 1],
): Batch {
  const rng = new Rng(seed);
  const B = lens.length;
  const S = Math.max(...lens);
  const features = {} as Record<Modality, Float32Array>;
  for (const m of ['a', 't', 'v'] as Modality[]) {
    const f = new Float32Array(B * S * cfg.dims[m]);
    for (let b = 0; b < B; b++)
      for (let s = 0; s < lens[b]!; s++)
        for (let j = 0; j < cfg.dims[m]; j++) f[(b * S + s) * cfg.dims[m] + j] = rng.normal();
    features[m] = f;
  }
  const umask = new Float32Array(B * S);
  const av = new Float32Array(B * S * 3);
  const labels = new Float32Array(B * S);
  const uttIds: string[][] = [];
  for (let b = 0; b < B; b++) {
    const ids: string[] = [];
    for (let s = 0; s < S; s++) {
      const real = s < lens[b]!;
      ids.push(real ? `d${b}_${s}` : '');
      if (!real) continue;
      umask[b * S + s] = 1;
      av.set(avail(b, s), (b * S + s) * 3);
      labels[b * S + s] = cfg.task === 'classification' ? rng.int(cfg.numClasses) : rng.next() * 6 - 3;
    }
    uttIds.push(ids);
  }
  return { B, S, dialogueIds: lens.map((_, b) => `d${b}`), uttIds, features, umask, avail: av, labels, speakers: new Float32Array(B * S) };
}
