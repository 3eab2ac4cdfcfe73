/**
 * Missing-modality masks (docs/method.md §2). A fixed condition gives every utterance the same
 * availability; the random protocol draws a non-empty subset per utterance at missing rate r and
 * stores it, so every model is scored on the same test masks.
 */
import { Rng } from '../util/rng.ts';
import { describeValue, HardyError, quoteId } from '../util/errors.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { readRegularText } from '../util/files.ts';
import { CONDITIONS, MODALITIES, type Avail, type Condition, type Dialogue } from './types.ts';

export function conditionAvail(c: Condition): Avail {
  if (!CONDITIONS.includes(c)) throw new HardyError(`unknown condition '${c}' (expected one of ${CONDITIONS.join(', ')})`);
  return MODALITIES.map((m) => (c.includes(m) ? 1 : 0)) as Avail;
}

export function parseCondition(s: string): Condition {
  const sorted = MODALITIES.filter((m) => s.includes(m)).join('');
  if (sorted.length !== s.length || !CONDITIONS.includes(sorted as Condition)) {
    throw new HardyError(`unknown condition '${s}' (expected one of ${CONDITIONS.join(', ')})`);
  }
  return sorted as Condition;
}

/**
 * Per-utterance availability drawn at a missing rate. Ids are data, so they key a Map: in a plain
 * object the id `__proto__` would set the prototype instead of an entry (and be lost). On disk:
 * `{rate, seed, avail: {uid: [a, t, v]}}`.
 */
export interface MaskSet {
  rate: number;
  seed: number;
  /** uid -> [a, t, v] availability. */
  avail: Map<string, Avail>;
}

/**
 * Draws one availability per utterance at missing rate r in [0, 0.7] (in dialogue order, so the
 * same dialogues and seed give the same masks). Each utterance keeps one modality chosen
 * uniformly and each other one with probability q = 1 - 1.5 r, so the expected fraction missing
 * is exactly r (2q/3 of the other two kept) and no utterance loses all three. For r >= 2/3 every
 * utterance keeps exactly one modality (a missing rate of 2/3, the most a non-empty subset allows).
 */
export function drawMasks(dialogues: readonly Dialogue[], rate: number, seed: number): MaskSet {
  if (!(rate >= 0 && rate <= 0.7 + 1e-9)) throw new HardyError(`missing rate must be in [0, 0.7], got ${rate}`);
  const rng = new Rng(seed);
  const q = Math.max(0, Math.min(1, 1 - 1.5 * rate));
  const avail = new Map<string, Avail>();
  for (const d of dialogues) {
    for (const u of d.utterances) {
      const keep = rng.int(3);
      avail.set(u.id, [0, 1, 2].map((k) => (k === keep || rng.next() < q ? 1 : 0)) as Avail);
    }
  }
  return { rate, seed, avail };
}

export function saveMasks(path: string, masks: MaskSet): void {
  // Object.fromEntries defines own properties, so `__proto__` is written as an ordinary key
  writeJsonAtomic(path, { rate: masks.rate, seed: masks.seed, avail: Object.fromEntries(masks.avail) });
}

export function loadMasks(path: string): MaskSet {
  let raw: unknown;
  try {
    raw = JSON.parse(readRegularText(path, 'mask file')); // JSON.parse keeps `__proto__` as an own key
  } catch (err) {
    throw new HardyError(`${path}: cannot read mask file (${(err as Error).message})`);
  }
  const m = raw as { rate?: unknown; seed?: unknown; avail?: unknown };
  if (typeof m !== 'object' || m === null || typeof m.rate !== 'number' || typeof m.seed !== 'number' || typeof m.avail !== 'object' || m.avail === null || Array.isArray(m.avail)) {
    throw new HardyError(`${path}: expected {rate, seed, avail: {uid: [a, t, v]}}`);
  }
  const avail = new Map<string, Avail>();
  for (const [uid, a] of Object.entries(m.avail)) {
    if (!Array.isArray(a) || a.length !== 3 || !a.every((x) => x === 0 || x === 1) || a.every((x) => x === 0)) {
      throw new HardyError(`${path}: utterance ${quoteId(uid)} has availability ${describeValue(a)}, expected three 0/1 flags with at least one 1`);
    }
    avail.set(uid, a as Avail);
  }
  return { rate: m.rate, seed: m.seed, avail };
}

/** Fraction of missing modality slots in a mask set. */
export function missingFraction(masks: MaskSet): number {
  const all = [...masks.avail.values()];
  if (all.length === 0) return 0;
  return all.reduce((s, a) => s + (3 - a[0] - a[1] - a[2]), 0) / (3 * all.length);
}
