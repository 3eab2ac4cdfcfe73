import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conditionDifficulty, loadCorpus, makeFolds, writeSynth } from '../../src/data/index.ts';
import { generateSynth } from '../../src/data/synth.ts';
import { neighbourAgreement, ridgeProbe } from '../../src/data/calibrate.ts';
import type { Utterance } from '../../src/data/types.ts';

const cos = (x: Float32Array, y: Float32Array): number => {
  let d = 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < x.length; i++) {
    d += x[i]! * y[i]!;
    a += x[i]! ** 2;
    b += y[i]! ** 2;
  }
  return d / Math.sqrt(a * b);
};

test('scripted preset: lines reused across sessions, per-modality ground truth, speaker offsets', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'hardy-scripted-')), 'c');
  writeSynth(dir, { preset: 'scripted', seed: 2 });
  const corpus = loadCorpus(dir);
  assert.equal(corpus.dialogues.length, 30);
  assert.equal(corpus.dialogues.flatMap((d) => d.utterances).length, 900);
  assert.ok(corpus.modalityDifficulty && corpus.modalityDifficulty.size === 900);
  for (const [id, r] of corpus.modalityDifficulty) {
    for (const m of ['a', 't', 'v'] as const) assert.ok(r[m] >= 0.05 && r[m] <= 0.9, `${id} ${m} ${r[m]}`);
    assert.ok(Math.abs(corpus.difficulty!.get(id)! - (r.a + r.t + r.v) / 3) < 1e-6);
  }
  // Script 1 is performed in all five sessions: line i of every performance has (nearly) the same
  // text, much closer than the text of another line; labels mostly agree across performances.
  const perf = [1, 2, 3, 4, 5].map((s) => corpus.dialogues.find((d) => d.session === s && d.id.includes('script01'))!);
  let same = 0;
  let other = 0;
  let agree = 0;
  for (let i = 0; i < 30; i++) {
    same += cos(perf[0]!.utterances[i]!.features.t, perf[3]!.utterances[i]!.features.t);
    other += cos(perf[0]!.utterances[i]!.features.t, perf[3]!.utterances[(i + 7) % 30]!.features.t);
    agree += Number(perf[0]!.utterances[i]!.label === perf[3]!.utterances[i]!.label);
  }
  assert.ok(same / 30 > 0.85 && other / 30 < 0.5, `same line ${same / 30}, other line ${other / 30}`);
  assert.ok(agree / 30 > 0.75);
  // Improvised lines are new: no near-duplicate text across sessions.
  const impro = corpus.dialogues.filter((d) => d.id.includes('impro01'));
  assert.ok(cos(impro[0]!.utterances[0]!.features.t, impro[1]!.utterances[0]!.features.t) < 0.85);
  // A speaker shifts audio: the mean audio of one actor differs from another's more than noise allows.
  const meanOf = (us: Utterance[]) => us[0]!.features.a.map((_, k) => us.reduce((s, u) => s + u.features.a[k]!, 0) / us.length);
  const byActor = (s: number, g: string) => corpus.dialogues.filter((d) => d.session === s).flatMap((d) => d.utterances).filter((u) => u.speaker === g);
  const d = meanOf(byActor(1, 'F')).reduce((s, x, k) => s + (x - meanOf(byActor(2, 'F'))[k]!) ** 2, 0);
  assert.ok(Math.sqrt(d) > 1, `actor mean distance ${Math.sqrt(d)}`);
});

test("scripted coupling: 1 ties audio's and video's recoverability to the line's text, 0 is the default corpus, and it is checked", () => {
  const rhos = (coupling?: number) => generateSynth({ preset: 'scripted', seed: 3, coupling }).dialogues.flatMap((d) => d.utterances.map((u) => u.modalityDifficulty!));
  // kappa = 1: every performance takes its line's text rho for audio and video
  const tied = rhos(1);
  assert.ok(tied.every((r) => r.a === r.t && r.v === r.t));
  // kappa = 0 draws nothing extra: the very corpus generated without the option
  assert.deepEqual(generateSynth({ preset: 'scripted', seed: 3, coupling: 0 }).dialogues, generateSynth({ preset: 'scripted', seed: 3 }).dialogues);
  const free = rhos(0);
  assert.ok(free.filter((r) => r.a === r.t).length < 5);
  // kappa = 0.5: about half of the audio rhos are the text's (900 draws: 0.5 +- 0.05 at 3 sigma)
  const half = rhos(0.5).filter((r) => r.a === r.t).length / 900;
  assert.ok(half > 0.43 && half < 0.57, `share tied ${half}`);
  assert.throws(() => generateSynth({ preset: 'scripted', coupling: 1.5 }), /coupling must be a number in \[0, 1\]/);
  assert.throws(() => generateSynth({ preset: 'small', coupling: 0.5 }), /coupling is a parameter of the 'scripted' preset/);
});

test('true difficulty under a condition: the mean over the missing modalities, by hand', () => {
  const r = { a: 0.2, t: 0.4, v: 0.9 };
  assert.equal(conditionDifficulty(r, [1, 0, 0]), (0.4 + 0.9) / 2);
  assert.equal(conditionDifficulty(r, [0, 1, 1]), 0.2);
  assert.equal(conditionDifficulty(r, [1, 1, 1]), 0);
});

test("validation 'session': the session after the test session, whole, and never in training", () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'hardy-vs-')), 'c');
  writeSynth(dir, { preset: 'tiny', seed: 1 });
  const corpus = loadCorpus(dir);
  const folds = makeFolds(corpus, { validation: 'session' });
  assert.deepEqual(folds.map((f) => [f.index, [...new Set(f.valid.map((d) => d.session))]]), [[1, [2]], [2, [3]], [3, [4]], [4, [5]], [5, [1]]]);
  for (const f of folds) {
    assert.equal(f.valid.length, corpus.dialogues.filter((d) => d.session === f.valid[0]!.session).length);
    assert.ok(f.train.every((d) => d.session !== f.index && d.session !== f.valid[0]!.session));
    assert.equal(f.train.length + f.valid.length + f.test.length, corpus.dialogues.length);
  }
});

test('calibration: a ridge probe separates separable classes; neighbour agreement by hand', () => {
  const u = (id: string, label: number, a: number[]): Utterance => ({ id, speaker: 'F', label, features: { a: Float32Array.from(a), t: Float32Array.from(a), v: Float32Array.from(a) } });
  const train = [u('1', 0, [1, 0]), u('2', 0, [2, 0.1]), u('3', 1, [0, 1]), u('4', 1, [0.1, 2])];
  assert.equal(ridgeProbe(train, [u('5', 0, [3, 0]), u('6', 1, [0, 3])], 'a', 2, 0.01), 1);
  // cosine directions: 1 (1, 0), 2 (.999, .050), 3 (0, 1), 4 (.050, .999), 7 (.958, .287):
  // nearest of 1 is 2 (same label), of 2 is 1 (yes), 3 <-> 4 (yes, yes), of 7 (label 1) is 2 (.971, label 0: no).
  const utts = [...train, u('7', 1, [1, 0.3])];
  assert.equal(neighbourAgreement(utts, 'a'), 4 / 5);
});
