/**
 * Folds (docs/method.md §1): IEMOCAP leave-one-session-out, with a seeded validation subset of each
 * training fold's dialogues (never from the test session); CMU/MMSA: the corpus' own
 * train/valid/test lists as a single fold.
 */
import { Rng } from '../util/rng.ts';
import { HardyError } from '../util/errors.ts';
import type { Corpus, Dialogue, Fold } from './types.ts';

export interface FoldOptions {
  /** Seed for the validation subset. */
  seed?: number;
  /** Fraction of each training fold's dialogues held out for validation (default 0.1). */
  validFraction?: number;
}

/** Dialogues per IEMOCAP session, sorted by session number. */
export function sessions(corpus: Corpus): number[] {
  return [...new Set(corpus.dialogues.map((d) => d.session).filter((s): s is number => s !== undefined))].sort((a, b) => a - b);
}

export function makeFolds(corpus: Corpus, options: FoldOptions = {}): Fold[] {
  const frac = options.validFraction ?? 0.1;
  if (!(frac >= 0 && frac < 1)) throw new HardyError(`validFraction must be in [0, 1), got ${frac}`);
  const bySplit = corpus.dialogues.every((d) => d.split !== undefined);
  if (bySplit) {
    const pick = (s: Dialogue['split']): Dialogue[] => corpus.dialogues.filter((d) => d.split === s);
    return [{ index: 1, train: pick('train'), valid: pick('valid'), test: pick('test') }];
  }
  if (!corpus.dialogues.every((d) => d.session !== undefined)) {
    throw new HardyError(`${corpus.source}: dialogues have neither a session nor a train/valid/test split; cannot make folds`);
  }
  const root = new Rng(options.seed ?? 0);
  return sessions(corpus).map((s) => {
    const rng = root.fork(); // one stream per fold, so fold k does not depend on how many folds ran before
    const test = corpus.dialogues.filter((d) => d.session === s);
    const rest = corpus.dialogues.filter((d) => d.session !== s);
    const nValid = frac > 0 ? Math.max(1, Math.round(rest.length * frac)) : 0;
    const order = rng.shuffle(rest.map((_, i) => i));
    const validIdx = new Set(order.slice(0, nValid));
    return {
      index: s,
      train: rest.filter((_, i) => !validIdx.has(i)),
      valid: rest.filter((_, i) => validIdx.has(i)),
      test,
    };
  });
}

/** One fold by its 1-based index (IEMOCAP: the test session). */
export function getFold(corpus: Corpus, index: number, options: FoldOptions = {}): Fold {
  const folds = makeFolds(corpus, options);
  const f = folds.find((x) => x.index === index);
  if (!f) throw new HardyError(`${corpus.source}: no fold ${index} (available: ${folds.map((x) => x.index).join(', ')})`);
  return f;
}
