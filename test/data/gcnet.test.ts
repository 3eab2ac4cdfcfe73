import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, copyFileSync, mkdirSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus } from '../../src/data/load.ts';
import { HardyError } from '../../src/util/errors.ts';
import type { Corpus } from '../../src/data/types.ts';

const IEMOCAP = 'fixtures/data/gcnet_iemocap';
const MOSI = 'fixtures/data/gcnet_mosi';
const BAD = 'fixtures/data/bad';

interface Expected {
  dims: Record<string, number>;
  utterances: Record<string, { label: number; dialogue: string; a: number[]; t: number[]; v: number[]; speaker?: string }>;
}

function close(actual: Float32Array, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) < 1e-5, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

function checkAgainst(corpus: Corpus, exp: Expected): void {
  assert.deepEqual(corpus.dims, exp.dims);
  const utts = corpus.dialogues.flatMap((d) => d.utterances.map((u) => ({ d: d.id, u })));
  assert.equal(utts.length, Object.keys(exp.utterances).length);
  for (const { d, u } of utts) {
    const e = exp.utterances[u.id]!;
    assert.ok(e, u.id);
    assert.equal(d, e.dialogue);
    assert.ok(Math.abs(u.label - e.label) < 1e-9, `${u.id} label`);
    if (e.speaker) assert.equal(u.speaker, e.speaker);
    close(u.features.a, e.a, `${u.id}.a`);
    close(u.features.t, e.t, `${u.id}.t`);
    close(u.features.v, e.v, `${u.id}.v`);
  }
}

test('IEMOCAP GCNet fixture (NumPy 1, protocol 2): counts, sessions, labels, pooled frames, own-speaker faces, empty face -> zero', () => {
  const exp = JSON.parse(readFileSync(join(IEMOCAP, 'expected.json'), 'utf8')) as Expected & { dialogues: string[]; sessions: Record<string, number> };
  const c = loadCorpus(IEMOCAP);
  assert.equal(c.dataset, 'iemocap4');
  assert.equal(c.task, 'classification');
  assert.equal(c.numClasses, 4);
  assert.deepEqual(c.dialogues.map((d) => d.id), exp.dialogues);
  for (const d of c.dialogues) assert.equal(d.session, exp.sessions[d.id]);
  checkAgainst(c, exp);
  assert.ok(c.notes?.some((n) => n.startsWith('v: 1 utterance')));
});

test('CMU-MOSI GCNet fixture (NumPy 2, protocol 4): float64 scalar labels, splits, face folders pooled over all faces', () => {
  const exp = JSON.parse(readFileSync(join(MOSI, 'expected.json'), 'utf8')) as Expected & { splits: Record<string, string> };
  const c = loadCorpus(MOSI);
  assert.equal(c.dataset, 'mosi');
  assert.equal(c.task, 'regression');
  for (const d of c.dialogues) assert.equal(d.split, exp.splits[d.id]);
  checkAgainst(c, exp);
  for (const u of c.dialogues.flatMap((d) => d.utterances)) assert.equal(u.speaker, '');
});

test('feature folder names are configurable', () => {
  const dir = copyTree(IEMOCAP);
  try {
    cpSync(join(dir, 'features/deberta-large-4-UTT'), join(dir, 'features/roberta-large-4-UTT'), { recursive: true });
    rmSync(join(dir, 'features/deberta-large-4-UTT'), { recursive: true });
    assert.throws(() => loadCorpus(dir, 'iemocap4'), /deberta-large-4-UTT: feature folder not found/);
    const c = loadCorpus(dir, 'iemocap4', { featureDirs: { t: 'roberta-large-4-UTT' } });
    assert.equal(c.dims.t, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function copyTree(src: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hardy-gcnet-'));
  cpSync(src, dir, { recursive: true });
  return dir;
}

const UID = 'Ses01F_impro01_M000';
const A = 'features/wav2vec-large-c-UTT';

/** Each bad input: mutate a copy of the good tree, expect one HardyError naming the file and the id. */
const cases: Array<{ name: string; mutate: (dir: string) => void; file: (dir: string) => string; id: string; pattern: RegExp; dataset?: 'iemocap4' | 'iemocap6' }> = [
  { name: 'missing label pickle', mutate: (d) => rmSync(join(d, 'IEMOCAP_features_raw_4way.pkl')), file: (d) => join(d, 'IEMOCAP_features_raw_4way.pkl'), id: 'IEMOCAP_features_raw_4way.pkl', pattern: /label pickle not found/, dataset: 'iemocap4' },
  { name: 'missing feature file', mutate: (d) => rmSync(join(d, A, `${UID}.npy`)), file: (d) => join(d, A, `${UID}.npy`), id: UID, pattern: /no feature for utterance/ },
  { name: 'two feature entries for one id', mutate: (d) => mkdirSync(join(d, A, UID)), file: (d) => join(d, A), id: UID, pattern: /two feature entries/ },
  { name: 'a dimension that differs', mutate: (d) => copyFileSync(join(BAD, 'dim5_feature.npy'), join(d, A, `${UID}.npy`)), file: (d) => join(d, A, `${UID}.npy`), id: UID, pattern: /dimension 5, expected 4/ },
  { name: 'NaN in a feature', mutate: (d) => copyFileSync(join(BAD, 'nan_feature.npy'), join(d, A, `${UID}.npy`)), file: (d) => join(d, A, `${UID}.npy`), id: UID, pattern: /contains NaN/ },
  { name: 'Inf in a feature', mutate: (d) => copyFileSync(join(BAD, 'inf_feature.npy'), join(d, A, `${UID}.npy`)), file: (d) => join(d, A, `${UID}.npy`), id: UID, pattern: /contains Inf/ },
  {
    name: 'a truncated .npy',
    mutate: (d) => { const f = join(d, A, `${UID}.npy`); truncateSync(f, statSync(f).size - 3); },
    file: (d) => join(d, A, `${UID}.npy`), id: UID, pattern: /truncated \.npy data/,
  },
  { name: 'a label pickle naming os.system', mutate: (d) => copyFileSync(join(BAD, 'os_system_p0.pkl'), join(d, 'IEMOCAP_features_raw_4way.pkl')), file: (d) => join(d, 'IEMOCAP_features_raw_4way.pkl'), id: 'os.system', pattern: /not plain data/ },
  { name: 'a label outside the class range', mutate: (d) => copyFileSync(join(BAD, 'iemocap_label_out_of_range.pkl'), join(d, 'IEMOCAP_features_raw_4way.pkl')), file: (d) => join(d, 'IEMOCAP_features_raw_4way.pkl'), id: 'Ses01M_script01_1_F000', pattern: /label 4, expected an integer class in 0\.\.3/ },
  { name: 'a face file of the wrong dimension', mutate: (d) => copyFileSync(join(BAD, 'dim5_feature.npy'), join(d, 'features/manet_UTT', UID, 'compress_M.npy')), file: (d) => join(d, 'features/manet_UTT', UID, 'compress_M.npy'), id: UID, pattern: /dimension 5, expected 6/ },
];

for (const c of cases) {
  test(`bad input: ${c.name} -> one clear error naming the file and id`, () => {
    const dir = copyTree(IEMOCAP);
    try {
      c.mutate(dir);
      assert.throws(
        () => loadCorpus(dir, c.dataset),
        (e: unknown) => {
          assert.ok(e instanceof HardyError, String(e));
          assert.ok(e.message.includes(c.file(dir)), `message names the file: ${e.message}`);
          assert.ok(e.message.includes(c.id), `message names the id: ${e.message}`);
          assert.match(e.message, c.pattern);
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the 6-way dataset name needs the 6-way pickle; a 7-element pickle is not IEMOCAP', () => {
  assert.throws(() => loadCorpus(IEMOCAP, 'iemocap6'), /IEMOCAP_features_raw_6way\.pkl: label pickle not found/);
  const dir = copyTree(MOSI);
  try {
    copyFileSync(join(dir, 'CMUMOSI_features_raw_2way.pkl'), join(dir, 'IEMOCAP_features_raw_4way.pkl'));
    assert.throws(() => loadCorpus(dir, 'iemocap4'), /expected a 6-element list .* found 7 elements/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('difficulty.json is validated against the corpus', () => {
  const dir = copyTree(IEMOCAP);
  try {
    writeFileSync(join(dir, 'difficulty.json'), JSON.stringify({ [UID]: 0.5 }));
    assert.throws(() => loadCorpus(dir), /difficulty\.json: utterance 'Ses01F_impro01_F000' has difficulty undefined/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IEMOCAP speakers stored another way fall back to the uid letter', async () => {
  const { encodePickle } = await import('../../src/data/formats/pickle-writer.ts');
  const { readPickle } = await import('../../src/data/formats/pickle.ts');
  const dir = copyTree(IEMOCAP);
  try {
    const file = join(dir, 'IEMOCAP_features_raw_4way.pkl');
    const [ids, labels, speakers, sents, tr, te] = readPickle(file) as [Map<string, string[]>, Map<string, number[]>, Map<string, string[]>, Map<string, string[]>, Set<string>, Set<string>];
    for (const [vid, s] of speakers) speakers.set(vid, s.map((x) => (x === 'F' ? 'female' : 'male')));
    writeFileSync(file, encodePickle([ids, labels, speakers as never, sents, tr, te], 2));
    const c = loadCorpus(dir);
    for (const u of c.dialogues.flatMap((d) => d.utterances)) assert.equal(u.speaker, u.id.split('_').pop()![0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('difficulty.json: an utterance id __proto__ is looked up as data, not as Object.prototype', async () => {
  const { readDifficulty } = await import('../../src/data/load.ts');
  const corpus = { dialogues: [{ id: 'd', utterances: [{ id: '__proto__' }, { id: 'constructor' }] }] } as unknown as Corpus;
  const dir = mkdtempSync(join(tmpdir(), 'hardy-diff-'));
  try {
    const file = join(dir, 'difficulty.json');
    writeFileSync(file, '{"constructor": 0.5}');
    assert.throws(() => readDifficulty(file, corpus), /utterance '__proto__' has difficulty undefined/);
    writeFileSync(file, '{"__proto__": 0.25, "constructor": 0.5}');
    assert.deepEqual([...readDifficulty(file, corpus)], [['__proto__', 0.25], ['constructor', 0.5]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
