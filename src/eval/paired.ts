/**
 * Paired differences between two methods scored on the same (seed, fold, condition) units, and
 * their 95 % confidence interval from Student's t distribution:
 *
 *   d_i = x_i(method) - x_i(baseline)          one pair per matched unit, i = 1..n
 *   mean = (1/n) sum d_i,  sd = sqrt(sum (d_i - mean)^2 / (n - 1)),  se = sd / sqrt(n)
 *   CI   = mean -+ t_{0.975, n-1} * se         (two-sided 95 %, n - 1 degrees of freedom)
 *
 * Pairing removes what the two runs share (the same fold's test utterances, the same seed's
 * split and masks), so the interval is far narrower than one from two independent means. With a
 * single pair there is no spread to estimate: the interval is undefined (null).
 */
import jstat from 'jstat';

export interface PairedDifference {
  /** Number of matched pairs. */
  n: number;
  mean: number;
  /** Sample standard deviation of the differences (n - 1); null for n = 1. */
  sd: number | null;
  /** 95 % interval; null for n = 1. */
  lo: number | null;
  hi: number | null;
  /** Degrees of freedom of the t quantile (n - 1). */
  df: number;
}

/** Two-sided 95 % quantile of Student's t with `df` degrees of freedom (12.706 for df = 1). */
export function t975(df: number): number {
  return jstat.jStat.studentt.inv(0.975, df);
}

export function pairedDifference(diffs: readonly number[]): PairedDifference {
  const n = diffs.length;
  if (n === 0) throw new Error('pairedDifference: no pairs');
  const mean = diffs.reduce((s, d) => s + d, 0) / n;
  if (n === 1) return { n, mean, sd: null, lo: null, hi: null, df: 0 };
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / (n - 1));
  const half = t975(n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, lo: mean - half, hi: mean + half, df: n - 1 };
}
