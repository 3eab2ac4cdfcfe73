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

/** What a stream is for; part of the derivation so streams never coincide. */
export const STREAM = { init: 1, epoch: 2, hooks: 3, evalMasks: 4 } as const;

export function streamRng(seed: number, stream: number, fold: number, epoch = 0): Rng {
  return new Rng(mixSeed(seed, stream, fold, epoch));
}
