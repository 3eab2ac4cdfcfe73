/** Synthetic corpora for training tests, written in the real format and read by the real loader. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus, writeSynth, type SynthPreset } from '../../src/data/index.ts';
import type { Corpus } from '../../src/data/types.ts';

const cache = new Map<string, Corpus>();

export function synthCorpus(preset: SynthPreset = 'tiny', format: 'iemocap' | 'mosi' = 'iemocap', seed = 1): Corpus {
  const key = `${preset}-${format}-${seed}`;
  if (!cache.has(key)) {
    const dir = join(mkdtempSync(join(tmpdir(), 'hardy-synth-')), key);
    writeSynth(dir, { preset, format, seed });
    cache.set(key, loadCorpus(dir));
  }
  return cache.get(key)!;
}
