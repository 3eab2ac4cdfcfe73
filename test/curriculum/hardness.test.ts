import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchHardness, combineHardness, minMaxNormalise } from '../../src/curriculum/hardness.ts';
import { dynamicK } from '../../src/curriculum/retrieval.ts';
import { DEFAULT_CONFIG } from '../../src/train/config.ts';
import { dialogue, makeBatch } from './fixtures.ts';

const W = DEFAULT_CONFIG.curriculum;
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const close = (a: ArrayLike<number>, b: number[]) => b.forEach((e, i) => assert.ok(Math.abs(a[i]! - e) < 1e-6, `${i}: ${a[i]} vs ${e}`));

test('min-max over real utterances only; padding gets 0 and never sets the range', () => {
  const x = Float32Array.from([2, 4, 1000, 3, -50]);
  const m = Float32Array.from([1, 1, 0, 1, 0]);
  close(minMaxNormalise(x, m), [0, 1, 0, 0.5, 0]);
});

test('min-max edge cases: constant, range below 1e-5, a single utterance, no utterance', () => {
  close(minMaxNormalise(Float32Array.from([3, 3, 3]), Float32Array.from([1, 1, 1])), [0, 0, 0]);
  close(minMaxNormalise(Float32Array.from([1, 1.000005, 9]), Float32Array.from([1, 1, 0])), [0, 0, 0]);
  close(minMaxNormalise(Float32Array.from([1, 1.00002]), Float32Array.from([1, 1])), [0, 1]);
  close(minMaxNormalise(Float32Array.from([7, 1]), Float32Array.from([1, 0])), [0, 0]);
  close(minMaxNormalise(Float32Array.from([7, 1]), Float32Array.from([0, 0])), [0, 0]);
});

test('h = sigmoid(beta (alpha1 D_norm + alpha2 I_term)) under both MI readings', () => {
  const D = Float32Array.from([0, 2, 1, 99]);
  const I = Float32Array.from([5, 1, 3, -9]);
  const m = Float32Array.from([1, 1, 1, 0]);
  // D_norm = [0, 1, 0.5], I_norm = [1, 0, 0.5]
  close(combineHardness(D, I, m, W), [sig(4 * 0.4), sig(4 * 0.6), sig(4 * (0.3 + 0.2)), 0]);
  const comp = combineHardness(D, I, m, { ...W, miTerm: 'complement' });
  close(comp, [sig(0), sig(4 * (0.6 + 0.4)), sig(4 * (0.3 + 0.2)), 0]);
  // Ablations: direct-only and indirect-only.
  close(combineHardness(D, I, m, { ...W, alpha2: 0 }), [sig(0), sig(2.4), sig(1.2), 0]);
  close(combineHardness(D, I, m, { ...W, alpha1: 0 }), [sig(1.6), sig(0), sig(0.8), 0]);
});

test('centre shifts the sigmoid: centre 0.5 lets the easiest utterance drop to K_min', () => {
  const D = Float32Array.from([0, 2, 1]);
  const I = Float32Array.from([0, 1, 0.5]);
  const m = Float32Array.from([1, 1, 1]);
  // s = 0.6 D_norm + 0.4 I_norm = [0, 1, 0.5]
  const paper = combineHardness(D, I, m, W);
  const centred = combineHardness(D, I, m, { ...W, centre: 0.5 });
  close(paper, [sig(0), sig(4), sig(2)]);
  close(centred, [sig(-2), sig(2), sig(0)]);
  const { K, Kmin } = W;
  assert.deepEqual([...paper].map((h) => dynamicK(h, K, Kmin)), [2, 3, 3]);
  assert.deepEqual([...centred].map((h) => dynamicK(h, K, Kmin)), [1, 3, 2]);
});

test('hardness is keyed by utterance id and follows its utterance when dialogues are reordered', () => {
  const rows = (p: string, n: number, base: number) =>
    Array.from({ length: n }, (_, k) => ({ id: `${p}${k}`, label: 0, a: [base + k], v: [0], t: [1, 0] }));
  const d0 = dialogue('d0', rows('x', 3, 0));
  const d1 = dialogue('d1', rows('y', 1, 10));
  const d2 = dialogue('d2', rows('z', 2, 20));
  // Scores as a function of the utterance (read from its features), laid out [B, S] like a teacher's output.
  const score = (bt: ReturnType<typeof makeBatch>) => {
    const D = new Float32Array(bt.B * bt.S);
    const I = new Float32Array(bt.B * bt.S);
    for (let i = 0; i < D.length; i++) {
      D[i] = bt.umask[i] ? bt.features.a[i]! : 1e6; // padding garbage must not matter
      I[i] = bt.umask[i] ? (bt.features.a[i]! * 7) % 5 : -1e6;
    }
    return { D, I };
  };
  const b1 = makeBatch([d0, d1, d2], [1, 1, 1]);
  const b2 = makeBatch([d2, d0, d1], [1, 1, 1]);
  const h1 = batchHardness(b1, score(b1).D, score(b1).I, W);
  const h2 = batchHardness(b2, score(b2).D, score(b2).I, W);
  assert.equal(h1.size, 6);
  assert.deepEqual([...h1.keys()].sort(), ['x0', 'x1', 'x2', 'y0', 'z0', 'z1']);
  for (const [id, h] of h1) assert.deepEqual(h2.get(id), h);
  // The hardest by direct score is the one with the largest feature, z1 (a = 21).
  assert.equal(h1.get('z1')!.direct, 21);
  assert.ok(h1.get('z1')!.h > h1.get('x0')!.h);
});

test("the real teacher's scores stay with their utterance across batch layouts", async () => {
  const { initEngine } = await import('../../src/engine/backend.ts');
  const { Teacher } = await import('../../src/model/teacher.ts');
  const { teacherScores, epochHardness } = await import('../../src/curriculum/hardness.ts');
  const { Rng } = await import('../../src/util/rng.ts');
  await initEngine();
  const teacher = new Teacher(
    { hidden: 8, depth: 1, heads: 2, dropout: 0.5, dims: { a: 3, t: 2, v: 4 }, numClasses: 3, task: 'classification', decoderHidden: 6 },
    11,
  );
  const rng = new Rng(4);
  const vec = (n: number) => Array.from({ length: n }, () => rng.normal());
  const dlg = (name: string, n: number) =>
    dialogue(name, Array.from({ length: n }, (_, k) => ({ id: `${name}_${k}`, label: k % 3, a: vec(3), t: vec(2), v: vec(4) })));
  const ds = [dlg('p', 3), dlg('q', 1), dlg('r', 2), dlg('s', 4)];
  const avail: [number, number, number] = [0, 1, 0]; // text only: audio and video are reconstructed
  const h1 = epochHardness(teacher, [makeBatch([ds[0]!, ds[1]!], avail), makeBatch([ds[2]!, ds[3]!], avail)], W);
  const h2 = epochHardness(teacher, [makeBatch([ds[1]!, ds[0]!], avail), makeBatch([ds[3]!, ds[2]!], avail)], W);
  assert.equal(h1.size, 10);
  for (const [id, h] of h1) {
    const g = h2.get(id)!;
    assert.ok(Math.abs(g.h - h.h) < 1e-5 && Math.abs(g.direct - h.direct) < 1e-5, id);
  }
  // Each utterance's raw scores equal those of its dialogue scored alone: nothing is shifted.
  for (const d of ds) {
    const alone = makeBatch([d], avail);
    const { D, I } = teacherScores(teacher, alone);
    d.utterances.forEach((u, s) => {
      assert.ok(Math.abs(h1.get(u.id)!.direct - D[s]!) < 1e-5, u.id);
      assert.ok(Math.abs(h1.get(u.id)!.indirect - I[s]!) < 1e-4, u.id);
      assert.ok(D[s]! > 0);
    });
  }
  teacher.dispose();
});
