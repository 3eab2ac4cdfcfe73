import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynth, writeSynth } from '../../src/data/synth.ts';
import { loadCorpus } from '../../src/data/load.ts';
import { makeFolds } from '../../src/data/splits.ts';
import { HardyError } from '../../src/util/errors.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'hardy-synth-'));

test('tiny IEMOCAP-format corpus: written in the GCNet layout and read back by the real loader', () => {
  const dir = tmp();
  try {
    const out = join(dir, 'c');
    const r = writeSynth(out, { preset: 'tiny', seed: 1 });
    assert.equal(r.utterances, 80);
    const c = loadCorpus(out);
    assert.equal(c.dataset, 'iemocap4');
    assert.deepEqual(c.dims, { a: 12, t: 16, v: 16 });
    assert.deepEqual([...new Set(c.dialogues.map((d) => d.session))], [1, 2, 3, 4, 5]);
    assert.equal(c.dialogues.length, 10);
    for (const d of c.dialogues) {
      assert.match(d.id, /^Ses0[1-5][FM]_impro\d\d$/);
      assert.ok(d.utterances.some((u) => u.speaker === 'F') || d.utterances.some((u) => u.speaker === 'M'));
      for (const u of d.utterances) {
        assert.match(u.id, new RegExp(`^${d.id}_${u.speaker}\\d{3}$`));
        assert.ok(u.label >= 0 && u.label < 4);
      }
    }
    assert.equal(c.difficulty?.size, 80);
    for (const v of c.difficulty!.values()) assert.ok(v >= 0 && v <= 1);
    assert.ok(existsSync(join(out, 'features/manet_UTT', c.dialogues[0]!.utterances[0]!.id)));
    assert.ok(!readdirSync(dir).some((n) => n.includes('partial')), 'no temp folder left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('same seed -> identical files; another seed -> different data', () => {
  const dir = tmp();
  try {
    writeSynth(join(dir, 'x'), { preset: 'tiny', seed: 4 });
    writeSynth(join(dir, 'y'), { preset: 'tiny', seed: 4 });
    writeSynth(join(dir, 'z'), { preset: 'tiny', seed: 5 });
    const pkl = 'IEMOCAP_features_raw_4way.pkl';
    assert.deepEqual(readFileSync(join(dir, 'x', pkl)), readFileSync(join(dir, 'y', pkl)));
    assert.deepEqual(readFileSync(join(dir, 'x', 'difficulty.json')), readFileSync(join(dir, 'y', 'difficulty.json')));
    const f = 'features/deberta-large-4-UTT/Ses01F_impro01_F000.npy';
    assert.deepEqual(readFileSync(join(dir, 'x', f)), readFileSync(join(dir, 'y', f)));
    assert.notDeepEqual(readFileSync(join(dir, 'x', f)), readFileSync(join(dir, 'z', f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refuses a non-empty output folder and leaves it untouched', () => {
  const dir = tmp();
  try {
    writeSynth(join(dir, 'c'), { preset: 'tiny' });
    assert.throws(() => writeSynth(join(dir, 'c'), { preset: 'tiny' }), (e: unknown) => e instanceof HardyError && /not empty/.test(e.message));
    assert.ok(loadCorpus(join(dir, 'c')).dialogues.length === 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MOSI format: 7-element pickle, float64 labels in [-3, 3], train/valid/test videos', () => {
  const dir = tmp();
  try {
    writeSynth(join(dir, 'm'), { preset: 'tiny', seed: 2, format: 'mosi' });
    const c = loadCorpus(join(dir, 'm'));
    assert.equal(c.dataset, 'mosi');
    assert.equal(c.task, 'regression');
    const [f] = makeFolds(c);
    assert.deepEqual([f!.train.length, f!.valid.length, f!.test.length], [8, 2, 3]);
    assert.deepEqual([f!.train, f!.valid, f!.test].map((ds) => ds.reduce((s, d) => s + d.utterances.length, 0)), [48, 12, 18]);
    const labels = c.dialogues.flatMap((d) => d.utterances.map((u) => u.label));
    assert.ok(labels.every((y) => y >= -3 && y <= 3) && labels.some((y) => !Number.isInteger(y)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('small preset: learnable, text > audio > video, and ground-truth difficulty tracks errors', () => {
  const { dialogues } = generateSynth({ preset: 'small', seed: 1 });
  const all = dialogues.flatMap((d) => d.utterances);
  assert.ok(all.length >= 800 && all.length <= 1000);
  // nearest class centroid per modality, leave one session out (pooled over the 5 folds)
  const acc: Record<string, number> = {};
  let dWrong = 0, nWrong = 0, dRight = 0, nRight = 0;
  for (const m of ['a', 't', 'v'] as const) {
    let ok = 0;
    for (let s = 1; s <= 5; s++) {
      const tr = dialogues.filter((d) => d.session !== s).flatMap((d) => d.utterances);
      const te = dialogues.filter((d) => d.session === s).flatMap((d) => d.utterances);
      const dim = tr[0]!.features[m]!.length;
      const cent = Array.from({ length: 4 }, () => new Float64Array(dim));
      const cnt = [0, 0, 0, 0];
      for (const u of tr) if (u.features[m]) { cnt[u.label]!++; u.features[m]!.forEach((x, j) => (cent[u.label]![j]! += x)); }
      cent.forEach((c, k) => c.forEach((_, j) => (c[j]! /= cnt[k]!)));
      for (const u of te) {
        const x = u.features[m] ?? new Float32Array(dim);
        const dist = cent.map((c) => c.reduce((acc2, v, j) => acc2 + (v - x[j]!) ** 2, 0));
        const right = dist.indexOf(Math.min(...dist)) === u.label;
        if (right) ok++;
        if (m === 't') { if (right) { dRight += u.difficulty; nRight++; } else { dWrong += u.difficulty; nWrong++; } }
      }
    }
    acc[m] = ok / all.length;
  }
  assert.ok(acc.t! > acc.a! + 0.05 && acc.a! > acc.v! + 0.05, JSON.stringify(acc));
  assert.ok(acc.t! > 0.6 && acc.t! < 0.95, `text accuracy ${acc.t}: learnable, not trivial`);
  assert.ok(acc.v! > 0.3, `video above the majority-class rate: ${acc.v}`);
  assert.ok(dWrong / nWrong > dRight / nRight + 0.05, `misclassified utterances are harder: ${dWrong / nWrong} vs ${dRight / nRight}`);
});

/** Held-out R^2 of a ridge regression from rows X to rows Y (normal equations, Gauss-Jordan). */
function ridgeR2(Xtr: Float32Array[], Ytr: Float32Array[], Xte: Float32Array[], Yte: Float32Array[], lambda: number): number {
  const d = Xtr[0]!.length + 1;
  const k = Ytr[0]!.length;
  const M = Array.from({ length: d }, () => new Float64Array(d + k));
  Xtr.forEach((x0, n) => {
    const x = [1, ...x0];
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) M[i]![j]! += x[i]! * x[j]!;
      for (let j = 0; j < k; j++) M[i]![d + j]! += x[i]! * Ytr[n]![j]!;
    }
  });
  for (let i = 1; i < d; i++) M[i]![i]! += lambda;
  for (let i = 0; i < d; i++) {
    const piv = M[i]![i]!;
    for (let j = 0; j < d + k; j++) M[i]![j]! /= piv;
    for (let r = 0; r < d; r++) {
      if (r === i) continue;
      const f = M[r]![i]!;
      for (let j = 0; j < d + k; j++) M[r]![j]! -= f * M[i]![j]!;
    }
  }
  const mean = new Float64Array(k);
  for (const y of Ytr) y.forEach((v, j) => (mean[j]! += v / Ytr.length));
  let sse = 0, sst = 0;
  Xte.forEach((x0, n) => {
    const x = [1, ...x0];
    for (let j = 0; j < k; j++) {
      let p = 0;
      for (let i = 0; i < d; i++) p += x[i]! * M[i]![d + j]!;
      sse += (p - Yte[n]![j]!) ** 2;
      sst += (mean[j]! - Yte[n]![j]!) ** 2;
    }
  });
  return 1 - sse / sst;
}

test('small preset: a missing modality can be partly reconstructed from another (shared latent)', () => {
  const { dialogues } = generateSynth({ preset: 'small', seed: 1 });
  const tr = dialogues.filter((d) => d.session !== 5).flatMap((d) => d.utterances).filter((u) => u.features.v);
  const te = dialogues.filter((d) => d.session === 5).flatMap((d) => d.utterances).filter((u) => u.features.v);
  const r2 = ridgeR2(tr.map((u) => u.features.t!), tr.map((u) => u.features.a!), te.map((u) => u.features.t!), te.map((u) => u.features.a!), 50);
  assert.ok(r2 > 0.15, `text -> audio held-out R^2 ${r2}`);
  // the same regression on mismatched pairs learns nothing: the gain comes from the shared latent
  const shifted = [...tr.slice(1), tr[0]!];
  const r2shuffled = ridgeR2(tr.map((u) => u.features.t!), shifted.map((u) => u.features.a!), te.map((u) => u.features.t!), te.map((u) => u.features.a!), 50);
  assert.ok(r2shuffled < 0.05, `mismatched pairs R^2 ${r2shuffled}`);
});
