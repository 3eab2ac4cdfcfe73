/**
 * Per-epoch random streams derived from (seed, purpose, fold, epoch) rather than carried forward,
 * so a run resumed at epoch e draws exactly what an uninterrupted run draws there: no generator
 * state needs saving.
 */
import { Rng } from '../util/rng.ts';

/** Stable 32-bit mix of integers (murmur3 finaliser per step). */
export function mixSeed(...keys: number[]): number {
  let h = 0x811c9dc5;
  for (const k of keys) {
    h = Math.imul(h ^ (k >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * Every seeded stream of a unit, by what it is for: the purpose is part of the derivation
 * `mixSeed(seed, STREAM.x, fold, ...)`, so streams never coincide. The values are fixed: changing
 * one changes every number a run produces.
 */
export const STREAM = {
  /** A model's initial weights. */
  init: 1,
  /** Per epoch: the shuffle and the training masks, then dropout. */
  epoch: 2,
  /** Per epoch: what the trainer's hooks draw (the curriculum's random K_i). */
  hooks: 3,
  /** The validation (…, 1) and test (…, 2) masks of the random protocol. */
  evalMasks: 4,
  /** Stage 0: the per-modality fine-tuning MLPs (weights, shuffles, dropout). */
  finetune: 0x0f7e,
  /** The random-protocol masks under which the training utterances' hardness is saved for predict. */
  hardnessMasks: 0x4a,
  /** The curriculum's own generator. */
  curriculum: 0xc0,
} as const;

export function streamRng(seed: number, stream: number, fold: number, epoch = 0): Rng {
  return new Rng(mixSeed(seed, stream, fold, epoch));
}
