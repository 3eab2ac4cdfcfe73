import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedDifference, t975 } from '../../src/eval/paired.ts';
import { compareRuns, formatComparison, type RunColumns } from '../../src/eval/compare.ts';

const near = (a: number | null | undefined, b: number, what: string, tol = 1e-6) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) < tol, `${what}: ${a} vs ${b}`);

test("t quantiles: Student's t 97.5 % points from the tables", () => {
  near(t975(1), 12.7062047, 'df 1');
  near(t975(3), 3.18244631, 'df 3');
  near(t975(4), 2.77644511, 'df 4');
  near(t975(30), 2.04227246, 'df 30');
});

test('paired difference: mean, sample sd and the t interval, by hand', () => {
  // d = 1, 2, 3, 4: mean 2.5, sd sqrt(5/3) = 1.2909944, se 0.6454972, half 3.1824463 * se = 2.0542603
  const d = pairedDifference([1, 2, 3, 4]);
  assert.equal(d.n, 4);
  assert.equal(d.df, 3);
  near(d.mean, 2.5, 'mean');
  near(d.sd, 1.2909944, 'sd');
  near(d.lo, 0.4457397, 'lo');
  near(d.hi, 4.5542603, 'hi');
  // d = 0.02, -0.01, 0.03: mean 0.0133333, sd 0.0208167, half 4.3026527 * 0.0120185 = 0.0517114
  const e = pairedDifference([0.02, -0.01, 0.03]);
  near(e.lo, -0.0383781, 'lo');
  near(e.hi, 0.0650448, 'hi');
  const one = pairedDifference([0.5]);
  assert.deepEqual([one.mean, one.sd, one.lo, one.hi], [0.5, null, null, null], 'one pair: no interval');
});

const fr = (seed: number, fold: number, WA: number) => ({ seed, fold, metrics: { WA } });
const HARDY: RunColumns = { label: 'hardy', method: 'hardy', dataset: 'generic', selection: 'val', columns: { a: [fr(1, 1, 0.6), fr(2, 1, 0.64)], at: [fr(1, 1, 0.7), fr(2, 1, 0.72)] } };
const MOMKE: RunColumns = { label: 'momke', method: 'momke', dataset: 'generic', selection: 'val', columns: { a: [fr(2, 1, 0.6), fr(1, 1, 0.58)], at: [fr(1, 1, 0.71), fr(2, 1, 0.69)] } };

test('compare: mean ± std over seeds, best per column, paired (seed, fold) differences against the baseline', () => {
  const c = compareRuns([HARDY, MOMKE], 'WA', 'momke');
  assert.deepEqual(c.columns, ['a', 'at', 'average']);
  const [h, m] = c.rows;
  near(h!.cells.a!.mean, 0.62, 'hardy a');
  near(h!.cells.a!.std, 0.0282843, 'hardy a std (n - 1)');
  near(m!.cells.a!.mean, 0.59, 'momke a');
  near(h!.cells.average!.mean, 0.665, 'hardy average');
  assert.deepEqual(c.best, { a: 'hardy', at: 'hardy', average: 'hardy' });
  // a: d = 0.02 (seed 1), 0.04 (seed 2) -- paired by seed, not by list order: mean 0.03, sd 0.0141421, half 12.7062047 * 0.01
  near(h!.diff.a!.mean, 0.03, 'a diff');
  near(h!.diff.a!.lo, 0.03 - 0.127062, 'a lo');
  near(h!.diff.a!.hi, 0.03 + 0.127062, 'a hi');
  // at: d = -0.01, 0.03: mean 0.01, se 0.02
  near(h!.diff.at!.lo, 0.01 - 0.2541241, 'at lo');
  // average: per (seed, fold) the mean over a, at: hardy 0.65, 0.68; momke 0.645, 0.645 -> d = 0.005, 0.035
  near(h!.diff.average!.mean, 0.02, 'average diff');
  near(h!.diff.average!.hi, 0.02 + 12.7062047 * 0.015, 'average hi');
  assert.deepEqual(m!.diff, {}, 'no difference of the baseline to itself');
});

test('compare: lower is better for MAE; one seed spreads over folds; a column one run lacks stays empty', () => {
  const mk = (label: string, xs: number[]): RunColumns => ({ label, method: label, dataset: 'mosi', selection: 'val', columns: { a: xs.map((x, i) => ({ seed: 1, fold: i + 1, metrics: { MAE: x } })) } });
  const c = compareRuns([mk('x', [1.0, 0.8]), mk('y', [0.9, 0.7]), { ...mk('z', [0.5]), columns: { t: [{ seed: 1, fold: 1, metrics: { MAE: 0.1 } }] } }], 'MAE', 'x');
  assert.equal(c.best.a, 'y');
  near(c.rows[0]!.cells.a!.std, Math.SQRT1_2 * 0.2, 'std over the two folds');
  assert.equal(c.rows[2]!.cells.a, undefined);
  assert.equal(c.rows[2]!.diff.a, undefined);
});

test('compare formats: markdown with the best in bold and a differences table; csv one line per cell; json round-trips', () => {
  const c = compareRuns([HARDY, MOMKE], 'WA', 'momke');
  const md = formatComparison(c, 'md');
  assert.match(md, /\| method \| a \| at \| average \|/);
  assert.match(md, /\| hardy \| \*\*62\.00 ± 2\.83\*\* \| \*\*71\.00 ± 1\.41\*\* \| \*\*66\.50 ± 2\.12\*\* \|/);
  assert.match(md, /\| momke \| 59\.00 ± 1\.41 \| 70\.00 ± 1\.41 \| 64\.50 \|/);
  assert.match(md, /\| hardy \| \+3\.00 \[−9\.71, \+15\.71\] \| \+1\.00 \[−24\.41, \+26\.41\] \| \+2\.00 \[−17\.06, \+21\.06\] \|/);
  const csv = formatComparison(c, 'csv').trim().split('\n');
  assert.equal(csv.length, 1 + 2 * 3);
  const f = csv[1]!.split(',');
  assert.deepEqual(f.slice(0, 4), ['hardy', 'hardy', 'a', 'WA']);
  near(Number(f[4]), 0.62, 'csv mean');
  near(Number(f[5]), 0.0282843, 'csv std');
  assert.deepEqual([f[6], f[7], f[11]], ['2', '1', '2'], 'n, best, pairs');
  near(Number(f[9]), 0.03 - 0.127062, 'csv diff lo');
  assert.equal(csv[0], 'method,run,column,metric,mean,std,n,best,diff_mean,diff_lo,diff_hi,diff_n');
  assert.deepEqual(JSON.parse(formatComparison(c, 'json')), JSON.parse(JSON.stringify(c)));
  const table = formatComparison(c, 'table');
  assert.match(table, /hardy\s+62\.00 ± 2\.83 \*/);
});
