import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../../src/data/load.ts';
import { videoOf } from '../../src/data/mmsa.ts';

type Exp = Record<string, { split: string; video: string; label: number; a: number[]; t: number[]; v: number[] }>;

for (const [dir, file] of [['fixtures/data/mmsa_np2', 'aligned_50.pkl'], ['fixtures/data/mmsa_np1', 'unaligned_50.pkl']] as const) {
  test(`MMSA ${file}: mean over valid frames (-inf frames and lengths), grouped by video, splits kept`, () => {
    const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Exp;
    for (const c of [loadCorpus(dir), loadCorpus(join(dir, file)), loadCorpus(dir, 'mmsa')]) {
      assert.equal(c.dataset, 'mmsa');
      assert.deepEqual(c.dims, { a: 2, t: 3, v: 2 });
      assert.deepEqual(c.dialogues.map((d) => `${d.split}:${d.id}:${d.utterances.length}`), ['train:vA:2', 'train:vB:1', 'valid:vC:1', 'test:vD:2']);
      for (const d of c.dialogues) {
        for (const u of d.utterances) {
          const e = exp[u.id]!;
          assert.equal(d.split, e.split);
          assert.equal(d.id, e.video);
          assert.ok(Math.abs(u.label - e.label) < 1e-6);
          for (const m of ['a', 't', 'v'] as const) {
            e[m].forEach((x, i) => assert.ok(Math.abs(u.features[m][i]! - x) < 1e-5, `${u.id}.${m}[${i}]`));
            assert.ok(u.features[m].every(Number.isFinite));
          }
        }
      }
    }
  });
}

test('video ids: MMSA $_$ separator, else the last underscore', () => {
  assert.equal(videoOf('03bSnISJMiM$_$11'), '03bSnISJMiM');
  assert.equal(videoOf('abc_def_3'), 'abc_def');
  assert.equal(videoOf('plain'), 'plain');
});

test('MMSA lengths and labels stored as Python lists (MMSA getLengths.py) load like NumPy arrays', () => {
  const dir = 'fixtures/data/mmsa_lists';
  const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Exp;
  const c = loadCorpus(dir, 'mmsa');
  const utts = c.dialogues.flatMap((d) => d.utterances);
  assert.equal(utts.length, Object.keys(exp).length);
  for (const u of utts) {
    const e = exp[u.id]!;
    assert.ok(Math.abs(u.label - e.label) < 1e-6);
    // audio of odd samples has lengths T - 1: a pooled vector over all T frames would differ
    for (const m of ['a', 't', 'v'] as const) e[m].forEach((x, i) => assert.ok(Math.abs(u.features[m][i]! - x) < 1e-5, `${u.id}.${m}[${i}]`));
  }
});

test('MMSA list lengths: a None entry or a short list is an error naming the field', () => {
  assert.throws(() => loadCorpus('fixtures/data/bad/mmsa_length_none.pkl'), /mmsa_length_none\.pkl: train\.audio_lengths\[1\] is None, expected a number/);
  assert.throws(() => loadCorpus('fixtures/data/bad/mmsa_lengths_short.pkl'), /train\.audio_lengths has 2 values for 3 ids/);
});
