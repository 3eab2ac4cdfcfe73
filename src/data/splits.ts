/**
 * Folds (docs/method.md §1): IEMOCAP leave-one-session-out, with a seeded validation subset of each
 * training fold's dialogues (never from the test session); CMU/MMSA/generic with splits: the
 * corpus' own train/valid/test lists as a single fold (no valid list: a seeded subset of train);
 * generic with groups: leave-one-group-out like the sessions, groups in sorted order as folds 1..G.
 */
import { Rng } from '../util/rng.ts';
import { HardyError } from '../util/errors.ts';
import type { Corpus, Dialogue, Fold } from './types.ts';

export interface FoldOptions {
  /** Seed for the validation subset. */
  seed?: number;
  /** Fraction of each training fold's dialogues held out for validation (default 0.1). */
  validFraction?: number;
  /**
   * IEMOCAP: `split` (default) holds out `validFraction` of the training dialogues at random (they
   * share speakers with the training set); `session` holds out one whole training session, the one
   * after the test session (5 -> 1), so validation is speaker-independent like the test fold.
   */
  validation?: 'split' | 'session';
}

/** Dialogues per IEMOCAP session, sorted by session number. */
export function sessions(corpus: Corpus): number[] {
  return [...new Set(corpus.dialogues.map((d) => d.session).filter((s): s is number => s !== undefined))].sort((a, b) => a - b);
}

export function makeFolds(corpus: Corpus, options: FoldOptions = {}): Fold[] {
  const frac = options.validFraction ?? 0.1;
  if (!(frac >= 0 && frac < 1)) throw new HardyError(`validFraction must be in [0, 1), got ${frac}`);
  const root = new Rng(options.seed ?? 0);
  // a seeded validation subset of the training dialogues, never from the test part
  const holdOut = (rng: Rng, rest: Dialogue[]): { train: Dialogue[]; valid: Dialogue[] } => {
    const nValid = frac > 0 ? Math.max(1, Math.round(rest.length * frac)) : 0;
    const validIdx = new Set(rng.shuffle(rest.map((_, i) => i)).slice(0, nValid));
    return { train: rest.filter((_, i) => !validIdx.has(i)), valid: rest.filter((_, i) => validIdx.has(i)) };
  };
  if (corpus.dialogues.every((d) => d.split !== undefined)) {
    const pick = (s: Dialogue['split']): Dialogue[] => corpus.dialogues.filter((d) => d.split === s);
    const valid = pick('valid');
    const split = valid.length ? { train: pick('train'), valid } : holdOut(root.fork(), pick('train'));
    return [{ index: 1, ...split, test: pick('test') }];
  }
  if (corpus.dialogues.every((d) => d.group !== undefined)) {
    const groups = [...new Set(corpus.dialogues.map((d) => d.group!))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    return groups.map((g, i) => {
      const rng = root.fork();
      return { index: i + 1, name: g, ...holdOut(rng, corpus.dialogues.filter((d) => d.group !== g)), test: corpus.dialogues.filter((d) => d.group === g) };
    });
  }
  if (!corpus.dialogues.every((d) => d.session !== undefined)) {
    throw new HardyError(`${corpus.source}: dialogues have neither a session, a train/valid/test split nor a group; cannot make folds`);
  }
  const all = sessions(corpus);
  if (options.validation === 'session') {
    if (all.length < 3) throw new HardyError(`${corpus.source}: validation 'session' needs at least 3 sessions (test, validation, training), found ${all.length}`);
    return all.map((s, i) => {
      const v = all[(i + 1) % all.length]!;
      return {
        index: s,
        train: corpus.dialogues.filter((d) => d.session !== s && d.session !== v),
        valid: corpus.dialogues.filter((d) => d.session === v),
        test: corpus.dialogues.filter((d) => d.session === s),
      };
    });
  }
  return all.map((s) => {
    const rng = root.fork(); // one stream per fold, so fold k does not depend on how many folds ran before
    return { index: s, ...holdOut(rng, corpus.dialogues.filter((d) => d.session !== s)), test: corpus.dialogues.filter((d) => d.session === s) };
  });
}

/** One fold by its 1-based index (IEMOCAP: the test session). */
export function getFold(corpus: Corpus, index: number, options: FoldOptions = {}): Fold {
  const folds = makeFolds(corpus, options);
  const f = folds.find((x) => x.index === index);
  if (!f) throw new HardyError(`${corpus.source}: no fold ${index} (available: ${folds.map((x) => x.index).join(', ')})`);
  return f;
}
