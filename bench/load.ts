/**
 * Data-loading benchmark: writes the `iemocap` synthetic preset (5,531 utterances, 512/1024/1024
 * floats) once, then times `loadCorpus` on it (the requirement is < 15 s on this machine).
 * Usage: npm run bench:load [-- <folder>]   (default folder: a temp dir, removed afterwards)
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSynth } from '../src/data/synth.ts';
import { loadCorpus } from '../src/data/load.ts';
import { inspectCorpus } from '../src/data/inspect.ts';

const given = process.argv[2];
const dir = given ?? mkdtempSync(join(tmpdir(), 'hardy-bench-load-'));
const corpusDir = join(dir, 'iemocap');
try {
  if (!existsSync(corpusDir)) {
    const t0 = performance.now();
    writeSynth(corpusDir, { preset: 'iemocap', seed: 0 });
    console.log(`synth --preset iemocap: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  }
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const c = loadCorpus(corpusDir);
    times.push((performance.now() - t0) / 1000);
    if (i === 0) {
      const r = inspectCorpus(c);
      console.log(`loaded ${r.dialogues} dialogues, ${r.utterances} utterances, dims a=${r.dims.a} t=${r.dims.t} v=${r.dims.v}, sessions ${r.groups.map((g) => `${g.name.split(' ')[1]}:${g.dialogues}/${g.utterances}`).join(' ')}`);
    }
  }
  times.sort((a, b) => a - b);
  console.log(`loadCorpus (3 runs; every audio/text .npy and face track plus the label pickle): median ${times[1]!.toFixed(2)} s, min ${times[0]!.toFixed(2)} s, max ${times[2]!.toFixed(2)} s`);
} finally {
  if (!given) rmSync(dir, { recursive: true, force: true });
}
