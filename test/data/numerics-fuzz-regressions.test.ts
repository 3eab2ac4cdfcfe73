// NaN/Inf in inputs are detected at load and named with the utterance id (issue 8).
// MMSA: -inf marks a missing frame (README, "MMSA pickles") in any modality and is skipped; NaN or +inf
// inside the valid frames is corrupt and refused; frames past `lengths[i]` are padding and ignored;
// an utterance whose frames are all -inf gets a zero vector, counted in the notes. Lengths must be
// whole numbers >= 0 (a NaN length used to give a silent zero vector).
// GCNet: features have no missing-frame marker, so any NaN/Inf is refused (audio is covered in gcnet.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus } from '../../src/data/load.ts';
import { loadMmsa } from '../../src/data/mmsa.ts';
import { writeNpyF32 } from '../../src/data/formats/npy.ts';
import { HardyError } from '../../src/util/errors.ts';

const DIR = 'fixtures/hostile/numerics';
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, Record<string, Record<'a' | 't' | 'v', number[]>>>;

const refused = (file: string, pattern: RegExp) => (e: unknown): boolean => e instanceof HardyError && e.message.startsWith(`${file}: `) && pattern.test(e.message);

for (const [name, pattern] of [
  ['nan_audio.pkl', /utterance 'vid\$_\$1' \(train\.audio\) has NaN at frame 2, element 0/],
  ['posinf_vision.pkl', /utterance 'vid\$_\$0' \(train\.vision\) has \+Inf at frame 1, element 1/],
  ['nan_text.pkl', /utterance 'vid\$_\$2' \(train\.text\) has NaN at frame 3, element 1/],
  ['nan_length.pkl', /utterance 'vid\$_\$1' has train\.audio_lengths = NaN, expected a whole number/],
  ['negative_length.pkl', /utterance 'vid\$_\$1' has train\.vision_lengths = -1, expected a whole number/],
  ['nan_label.pkl', /utterance 'vid\$_\$1' has label NaN/],
] as const) {
  test(`MMSA ${name}: refused with the utterance id`, () => {
    const file = join(DIR, name);
    assert.throws(() => loadMmsa(file), refused(file, pattern));
  });
}

for (const name of ['nan_audio_padding.pkl', 'all_neginf_audio.pkl', 'neginf_frames.pkl']) {
  test(`MMSA ${name}: loads; -inf frames skipped, padding ignored, the pooled vectors NumPy computed`, () => {
    const c = loadMmsa(join(DIR, name));
    const exp = expected[name]!;
    for (const u of c.dialogues.flatMap((d) => d.utterances)) {
      for (const m of ['a', 't', 'v'] as const) {
        assert.ok(u.features[m].every(Number.isFinite), `${u.id}.${m} finite`);
        exp[u.id]![m].forEach((x, j) => assert.ok(Math.abs(u.features[m][j]! - x) < 1e-6, `${name} ${u.id}.${m}[${j}]`));
      }
    }
    if (name === 'all_neginf_audio.pkl') {
      assert.deepEqual(Array.from(c.dialogues[0]!.utterances[0]!.features.a), [0, 0]);
      assert.match((c.notes ?? []).join(' '), /1 modality vector\(s\) had no valid frame/);
    }
  });
}

const UID = 'Ses01F_impro01_M000';
for (const [what, rel, data, pattern] of [
  ['NaN in a face track (video)', `features/manet_UTT/${UID}/compress_M.npy`, [1, 2, NaN, 4, 5, 6], /contains NaN at element 2/],
  ['-inf in a text frame (no missing-frame marker in GCNet)', `features/deberta-large-4-UTT/${UID}.npy`, [1, 2, 3, 4, 5, 6, 7, 8, 9, -Infinity], /contains Inf at element 9/],
] as const) {
  test(`GCNet: ${what} is refused with the file and utterance id`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardy-numerics-'));
    try {
      cpSync('fixtures/data/gcnet_iemocap', dir, { recursive: true });
      const file = join(dir, rel);
      const shape = data.length === 6 ? [6] : [2, 5];
      writeNpyF32(file, Float32Array.from(data), shape);
      assert.throws(() => loadCorpus(dir), (e: unknown) => refused(file, pattern)(e) && (e as Error).message.includes(UID));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
