import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynth } from '../../src/data/synth.ts';
import { makeFolds, getFold } from '../../src/data/splits.ts';
import { conditionAvail, parseCondition, drawMasks, saveMasks, loadMasks, missingFraction } from '../../src/data/masks.ts';
import { makeBatch, makeBatches, l2Normalize, modalityStats, standardize, withFeatures } from '../../src/data/batches.ts';
import { loadCorpus } from '../../src/data/load.ts';
import type { Corpus, Dialogue } from '../../src/data/types.ts';

/** An in-memory corpus shaped like the loader's output, from the small synthetic preset. */
function smallCorpus(): Corpus {
  const { dialogues, dims } = generateSynth({ preset: 'small', seed: 3 });
  return {
    dataset: 'iemocap4', task: 'classification', numClasses: 4, classNames: ['happy', 'sad', 'neutral', 'angry'], dims, source: 'mem',
    dialogues: dialogues.map((d) => ({
      id: d.vid, session: d.session,
      utterances: d.utterances.map((u) => ({ id: u.uid, speaker: u.speaker, label: u.label, features: { a: u.features.a!, t: u.features.t!, v: u.features.v ?? new Float32Array(dims.v) } })),
    })),
  };
}
const corpus = smallCorpus();

test('IEMOCAP folds: leave one session out, 10% seeded validation from training sessions only, disjoint and complete', () => {
  const folds = makeFolds(corpus, { seed: 5 });
  assert.deepEqual(folds.map((f) => f.index), [1, 2, 3, 4, 5]);
  for (const f of folds) {
    assert.ok(f.test.length > 0 && f.test.every((d) => d.session === f.index));
    assert.ok([...f.train, ...f.valid].every((d) => d.session !== f.index));
    const ids = [...f.train, ...f.valid, ...f.test].map((d) => d.id);
    assert.equal(new Set(ids).size, corpus.dialogues.length);
    assert.equal(f.valid.length, Math.round(0.1 * (f.train.length + f.valid.length)));
  }
  assert.deepEqual(makeFolds(corpus, { seed: 5 })[2]!.valid.map((d) => d.id), folds[2]!.valid.map((d) => d.id));
  const other = makeFolds(corpus, { seed: 6 });
  assert.ok(other.some((f, i) => f.valid.map((d) => d.id).join() !== folds[i]!.valid.map((d) => d.id).join()));
  assert.equal(getFold(corpus, 3, { seed: 5 }).test[0]!.session, 3);
  assert.throws(() => getFold(corpus, 9), /no fold 9/);
});

test('CMU folds come from the corpus split lists', () => {
  const c = loadCorpus('fixtures/data/gcnet_mosi');
  const [f] = makeFolds(c);
  assert.deepEqual([f!.train.map((d) => d.id), f!.valid.map((d) => d.id), f!.test.map((d) => d.id)], [['vidA1'], ['vidB2'], ['vidC3']]);
});

test('conditions map to availability in a,t,v order', () => {
  assert.deepEqual(conditionAvail('a'), [1, 0, 0]);
  assert.deepEqual(conditionAvail('tv'), [0, 1, 1]);
  assert.deepEqual(conditionAvail('atv'), [1, 1, 1]);
  assert.equal(parseCondition('va'), 'av');
  assert.throws(() => parseCondition('x'), /unknown condition/);
});

test('random masks: never all missing, missing fraction tracks r, deterministic, saved and reloaded', () => {
  const dialogues = corpus.dialogues;
  for (const r of [0, 0.1, 0.3, 0.5, 0.6]) {
    const m = drawMasks(dialogues, r, 11);
    for (const a of [...m.avail.values()]) assert.ok(a[0] + a[1] + a[2] >= 1);
    assert.ok(Math.abs(missingFraction(m) - r) < 0.03, `r=${r}: ${missingFraction(m)}`);
  }
  assert.equal(missingFraction(drawMasks(dialogues, 0.7, 1)), 2 / 3); // one modality kept each
  assert.deepEqual(drawMasks(dialogues, 0.4, 2), drawMasks(dialogues, 0.4, 2));
  assert.notDeepEqual(drawMasks(dialogues, 0.4, 2).avail, drawMasks(dialogues, 0.4, 3).avail);
  const dir = mkdtempSync(join(tmpdir(), 'hardy-masks-'));
  try {
    const m = drawMasks(dialogues, 0.3, 4);
    saveMasks(join(dir, 'm.json'), m);
    assert.deepEqual(loadMasks(join(dir, 'm.json')), m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => drawMasks(dialogues, 0.8, 1), /missing rate/);
});

test('a batch pads to the longest dialogue and keeps the true features; avail carries the condition', () => {
  const ds: Dialogue[] = corpus.dialogues.slice(0, 3);
  const S = Math.max(...ds.map((d) => d.utterances.length));
  const b = makeBatch(ds, { condition: 'tv' });
  assert.equal(b.B, 3);
  assert.equal(b.S, S);
  assert.equal(b.features.t.length, 3 * S * corpus.dims.t);
  for (let i = 0; i < 3; i++) {
    const n = ds[i]!.utterances.length;
    for (let s = 0; s < S; s++) {
      const k = i * S + s;
      const real = s < n;
      assert.equal(b.umask[k], real ? 1 : 0);
      assert.deepEqual(Array.from(b.avail.subarray(k * 3, k * 3 + 3)), real ? [0, 1, 1] : [0, 0, 0]);
      assert.equal(b.uttIds[i]![s], real ? ds[i]!.utterances[s]!.id : '');
      const u = ds[i]!.utterances[s];
      const a = b.features.a.subarray(k * corpus.dims.a, (k + 1) * corpus.dims.a);
      // missing modalities are NOT zeroed here: the model zeroes them from avail
      if (u) assert.deepEqual(Array.from(a), Array.from(u.features.a));
      else assert.ok(a.every((x) => x === 0));
      if (u) {
        assert.equal(b.labels[k], u.label);
        assert.equal(b.speakers[k], u.speaker === 'M' ? 1 : 0);
      }
    }
  }
});

test('makeBatches: covers each dialogue once, seeded shuffle, per-utterance masks', () => {
  const ds = corpus.dialogues;
  const bs = makeBatches(ds, { batchSize: 4, shuffle: true, seed: 9 });
  assert.equal(bs.length, Math.ceil(ds.length / 4));
  assert.deepEqual(bs.flatMap((b) => b.dialogueIds).sort(), ds.map((d) => d.id).sort());
  assert.deepEqual(makeBatches(ds, { batchSize: 4, shuffle: true, seed: 9 }).map((b) => b.dialogueIds), bs.map((b) => b.dialogueIds));
  assert.notDeepEqual(makeBatches(ds, { batchSize: 4, shuffle: true, seed: 10 }).map((b) => b.dialogueIds), bs.map((b) => b.dialogueIds));
  assert.deepEqual(makeBatches(ds, { batchSize: 4 }).flatMap((b) => b.dialogueIds), ds.map((d) => d.id));
  const masks = drawMasks(ds, 0.5, 1);
  const b = makeBatch(ds.slice(0, 1), { masks });
  ds[0]!.utterances.forEach((u, s) => assert.deepEqual(Array.from(b.avail.subarray(s * 3, s * 3 + 3)), masks.avail.get(u.id)));
  assert.throws(() => makeBatch(ds.slice(0, 1), { masks: { rate: 0.5, seed: 1, avail: new Map() } }), /no entry for utterance/);
});

test('text L2 normalisation and standardisation are pure transforms', () => {
  const n = l2Normalize(corpus);
  const u0 = n.dialogues[0]!.utterances[0]!;
  assert.ok(Math.abs(Math.hypot(...u0.features.t) - 1) < 1e-5);
  assert.equal(u0.features.a, corpus.dialogues[0]!.utterances[0]!.features.a); // other modalities untouched
  assert.notEqual(Math.abs(Math.hypot(...corpus.dialogues[0]!.utterances[0]!.features.t) - 1) < 1e-5, true);
  const stats = modalityStats(corpus.dialogues);
  const s = modalityStats(standardize(corpus, stats).dialogues);
  for (const m of ['a', 't', 'v'] as const) {
    assert.ok(s[m].mean.every((x) => Math.abs(x) < 1e-4));
    assert.ok(s[m].std.every((x) => Math.abs(x - 1) < 1e-3 || x === 0));
  }
});

test('ids are data: __proto__, constructor and toString keep their masks through save/load and batching', () => {
  const ids = ['__proto__', 'constructor', 'toString', 'u4'];
  const feats = { a: new Float32Array(2), t: new Float32Array(2), v: new Float32Array(2) };
  const ds = [{ id: '__proto__', utterances: ids.map((id) => ({ id, speaker: 'F', label: 0, features: feats })) }];
  const masks = drawMasks(ds, 0.6, 5);
  assert.deepEqual([...masks.avail.keys()], ids);
  const dir = mkdtempSync(join(tmpdir(), 'masks-proto-'));
  try {
    const file = join(dir, 'test-masks.json');
    saveMasks(file, masks);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')).avail), ids, 'written as ordinary keys');
    const back = loadMasks(file);
    assert.deepEqual(back, masks);
    const b = makeBatch(ds, { masks: back });
    ids.forEach((id, s) => assert.deepEqual(Array.from(b.avail.subarray(s * 3, s * 3 + 3)), masks.avail.get(id), id));
    assert.ok(Array.from(b.avail).some((x, i) => x === 0 && i < 12), 'some modality is masked at rate 0.6');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("withFeatures: each real position gets its utterance's vectors from the map; layout, masks and labels stay", () => {
  const folds = makeFolds(corpus, { seed: 5 });
  const dialogues = folds[0]!.train.slice(0, 3);
  const batch = makeBatch(dialogues, { condition: 'at' });
  const other = standardize(corpus, modalityStats(dialogues));
  const byId = new Map(other.dialogues.flatMap((d) => d.utterances.map((u) => [u.id, u.features] as const)));
  const out = withFeatures(batch, byId);
  assert.deepEqual(out.uttIds, batch.uttIds);
  assert.equal(out.avail, batch.avail);
  assert.equal(out.labels, batch.labels);
  for (const m of ['a', 't', 'v'] as const) {
    const d = corpus.dims[m];
    for (let i = 0; i < batch.B * batch.S; i++) {
      const row = Array.from(out.features[m].subarray(i * d, (i + 1) * d));
      const id = batch.uttIds[Math.floor(i / batch.S)]![i % batch.S]!;
      if (!batch.umask[i]) assert.ok(row.every((x) => x === 0), 'padding stays zero');
      else assert.deepEqual(row, Array.from(byId.get(id)![m]));
    }
    assert.notDeepEqual(Array.from(out.features[m]), Array.from(batch.features[m]));
  }
  const missing = new Map(byId);
  missing.delete(batch.uttIds[1]![0]!);
  assert.throws(() => withFeatures(batch, missing), new RegExp(`no features for utterance .*${batch.uttIds[1]![0]!}`));
});
