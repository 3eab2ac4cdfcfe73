/**
 * Hand-built folds for the curriculum tests: tiny dialogues whose features are small integers, so
 * every distance below is exact in float32 and the expected neighbours can be worked out by hand.
 */
import type { Batch, Dialogue, Fold, Modality, Utterance } from '../../src/data/types.ts';
import { MODALITIES } from '../../src/data/types.ts';

export interface Row {
  id: string;
  label: number;
  a: number[];
  t: number[];
  v: number[];
}

export function utt(r: Row): Utterance {
  return {
    id: r.id,
    speaker: 'F',
    label: r.label,
    features: { a: Float32Array.from(r.a), t: Float32Array.from(r.t), v: Float32Array.from(r.v) },
  };
}

export function dialogue(id: string, rows: Row[]): Dialogue {
  return { id, utterances: rows.map(utt) };
}

/**
 * Query u0 with K = 2 (worked out by hand):
 *   a (squared L2): u1 1, u2 4, u3 81, u4 81, u5 400        -> [u1, u2]
 *   v (squared L2): u2 1, u3 4, u1 81, u4 81, u5 400        -> [u2, u3]
 *   t (1 - cos):    u3 0, u4 0 (tie: lower row), u1 1, ...   -> [u3, u4]
 *   merged a, v, t: [u1, u2, u3, u4]
 *   mean L2 over a, t, v: u1 (1+9+sqrt2)/3, u2 (2+1+sqrt2)/3, u3 (9+2+0)/3, u4 (9+9+1)/3
 *   re-ranked: [u2, u3, u1, u4]
 */
export const HAND_ROWS: Row[] = [
  { id: 'u0', label: 0, a: [0], v: [0], t: [1, 0] },
  { id: 'u1', label: 1, a: [1], v: [9], t: [0, 1] },
  { id: 'u2', label: 0, a: [2], v: [1], t: [0, 1] },
  { id: 'u3', label: 2, a: [9], v: [2], t: [1, 0] },
  { id: 'u4', label: 1, a: [9], v: [9], t: [2, 0] },
  { id: 'u5', label: 3, a: [20], v: [20], t: [-1, 0] },
];

/** A fold: training dialogues d0 (u0-u2) and d1 (u3-u5); one validation and one test dialogue. */
export function handFold(): Fold {
  return {
    index: 2,
    train: [dialogue('d0', HAND_ROWS.slice(0, 3)), dialogue('d1', HAND_ROWS.slice(3))],
    valid: [dialogue('dv', [{ id: 'val0', label: 0, a: [0], v: [0], t: [1, 0] }])],
    test: [dialogue('dt', [{ id: 'test0', label: 0, a: [0], v: [0], t: [1, 0] }])],
  };
}

/** A padded batch of the given dialogues, every real utterance with availability `avail`. */
export function makeBatch(dialogues: Dialogue[], avail: [number, number, number]): Batch {
  const B = dialogues.length;
  const S = Math.max(...dialogues.map((d) => d.utterances.length));
  const dims = {} as Record<Modality, number>;
  const u0 = dialogues[0]!.utterances[0]!;
  for (const m of MODALITIES) dims[m] = u0.features[m].length;
  const features = {} as Record<Modality, Float32Array>;
  for (const m of MODALITIES) features[m] = new Float32Array(B * S * dims[m]);
  const umask = new Float32Array(B * S);
  const av = new Float32Array(B * S * 3);
  const labels = new Float32Array(B * S);
  const uttIds = dialogues.map(() => new Array<string>(S).fill(''));
  dialogues.forEach((d, b) =>
    d.utterances.forEach((u, s) => {
      const i = b * S + s;
      umask[i] = 1;
      av.set(avail, i * 3);
      labels[i] = u.label;
      uttIds[b]![s] = u.id;
      for (const m of MODALITIES) features[m].set(u.features[m], i * dims[m]);
    }),
  );
  return { B, S, dialogueIds: dialogues.map((d) => d.id), uttIds, features, umask, avail: av, labels, speakers: new Float32Array(B * S) };
}
