/**
 * One table over several runs (`hardy-mer compare`): methods as rows, columns = the conditions
 * (and missing rates) the runs were scored under, each cell the mean +- std over seeds of the fold
 * mean (std over folds when there is one seed, as in the results object), the best per column
 * marked; and, against a chosen baseline run, the paired difference per column over the matched
 * (seed, fold) units with its 95 % t interval (paired.ts). The `average` column is over the
 * conditions every run has (missing-rate columns left out), per (seed, fold) first, so its pairs
 * stay independent across folds and seeds instead of counting one fold six times. Pure: the runs
 * come in as data.
 */
import { meanStd } from './aggregate.ts';
import type { OutputFormat } from './formats.ts';
import { pairedDifference, type PairedDifference } from './paired.ts';
import { isRateColumn, RAW_METRICS, type FoldResult } from './report-data.ts';

/** What compare needs of one run: its label and, per column, the per-(seed, fold) metrics. */
export interface RunColumns {
  /** Row label: the method, or the run folder when two runs share a method. */
  label: string;
  method: string;
  dataset: string;
  selection: string;
  columns: Record<string, FoldResult[]>;
}

export interface Cell {
  mean: number;
  std: number;
  /** Seeds (or folds, with one seed) the spread is over. */
  n: number;
}

export interface ComparisonRow {
  label: string;
  method: string;
  cells: Record<string, Cell | undefined>;
  /** Paired difference to the baseline per column (undefined for the baseline row and unmatched columns). */
  diff: Record<string, PairedDifference | undefined>;
}

export interface Comparison {
  metric: string;
  /** Higher is better (false for MAE). */
  higherIsBetter: boolean;
  columns: string[];
  baseline: string;
  rows: ComparisonRow[];
  /** Column -> label of the best row. */
  best: Record<string, string>;
}

export const AVERAGE = 'average';
const key = (f: { seed: number; fold: number }) => `${f.seed}/${f.fold}`;
const unitOf = (k: string) => ({ seed: Number(k.split('/')[0]), fold: Number(k.split('/')[1]) });

/** Mean +- std over seeds of the per-seed fold mean; one seed: over folds. */
function cellOf(folds: FoldResult[], metric: string): Cell | undefined {
  const xs = folds.filter((f) => typeof f.metrics[metric] === 'number');
  if (!xs.length) return undefined;
  const seeds = [...new Set(xs.map((f) => f.seed))];
  const perSeed = seeds.map((s) => {
    const own = xs.filter((f) => f.seed === s);
    return { [metric]: own.reduce((a, f) => a + f.metrics[metric]!, 0) / own.length };
  });
  const spread = meanStd(seeds.length > 1 ? perSeed : xs.map((f) => ({ [metric]: f.metrics[metric]! })))[metric]!;
  const mean = meanStd(perSeed)[metric]!.mean;
  return { mean, std: spread.std, n: spread.n };
}

/** (seed, fold) -> value of one column. */
function byUnit(folds: FoldResult[] | undefined, metric: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of folds ?? []) if (typeof f.metrics[metric] === 'number') m.set(key(f), f.metrics[metric]!);
  return m;
}

/** (seed, fold) -> mean over `columns` of a run (only units that have every column). */
function averageByUnit(run: RunColumns, columns: string[], metric: string): Map<string, number> {
  const maps = columns.map((c) => byUnit(run.columns[c], metric));
  const out = new Map<string, number>();
  if (!maps.length) return out;
  for (const k of maps[0]!.keys()) if (maps.every((m) => m.has(k))) out.set(k, maps.reduce((s, m) => s + m.get(k)!, 0) / maps.length);
  return out;
}

function diffOf(run: Map<string, number>, base: Map<string, number>): PairedDifference | undefined {
  const d: number[] = [];
  for (const [k, x] of run) if (base.has(k)) d.push(x - base.get(k)!);
  return d.length ? pairedDifference(d) : undefined;
}

/** `baseline` is a row label; columns keep the order of first appearance (conditions, then rates). */
export function compareRuns(runs: RunColumns[], metric: string, baseline: string): Comparison {
  if (!runs.some((r) => r.label === baseline)) throw new Error(`compareRuns: no run labelled '${baseline}'`);
  const columns = [...new Set(runs.flatMap((r) => Object.keys(r.columns)))];
  const higherIsBetter = metric !== 'MAE';
  const base = runs.find((r) => r.label === baseline)!;
  const common = columns.filter((c) => !isRateColumn(c) && runs.every((r) => r.columns[c]));
  const rows: ComparisonRow[] = runs.map((r) => {
    const shared = columns.filter((c) => r.columns[c] && base.columns[c]);
    const cells: Record<string, Cell | undefined> = {};
    for (const c of columns) cells[c] = r.columns[c] ? cellOf(r.columns[c]!, metric) : undefined;
    const avg = averageByUnit(r, common, metric);
    if (avg.size) cells[AVERAGE] = cellOf([...avg].map(([k, v]) => ({ ...unitOf(k), metrics: { [metric]: v } })), metric);
    const diff: Record<string, PairedDifference | undefined> = {};
    if (r !== base) {
      for (const c of shared) diff[c] = diffOf(byUnit(r.columns[c], metric), byUnit(base.columns[c], metric));
      if (common.length) diff[AVERAGE] = diffOf(avg, averageByUnit(base, common, metric));
    }
    return { label: r.label, method: r.method, cells, diff };
  });
  const all = [...columns, AVERAGE];
  const best: Record<string, string> = {};
  for (const c of all) {
    let top: ComparisonRow | undefined;
    for (const row of rows) {
      const x = row.cells[c]?.mean;
      if (x === undefined) continue;
      if (!top || (higherIsBetter ? x > top.cells[c]!.mean : x < top.cells[c]!.mean)) top = row;
    }
    if (top) best[c] = top.label;
  }
  return { metric, higherIsBetter, columns: all, baseline, rows, best };
}

// ---------------------------------------------------------------- output formats


const scale = (metric: string) => (RAW_METRICS.includes(metric) ? 1 : 100);
const digits = (metric: string) => (RAW_METRICS.includes(metric) ? 3 : 2);
const num = (metric: string, x: number) => (x * scale(metric)).toFixed(digits(metric));
const signed = (metric: string, x: number) => `${x >= 0 ? '+' : '−'}${num(metric, Math.abs(x))}`;

function cellText(c: Comparison, row: ComparisonRow, col: string, plus: string): string {
  const cell = row.cells[col];
  if (!cell) return '-';
  return cell.std > 0 ? `${num(c.metric, cell.mean)} ${plus} ${num(c.metric, cell.std)}` : num(c.metric, cell.mean);
}

function diffText(c: Comparison, d: PairedDifference | undefined): string {
  if (!d) return '-';
  if (d.lo === null || d.hi === null) return `${signed(c.metric, d.mean)} (n=1)`;
  return `${signed(c.metric, d.mean)} [${signed(c.metric, d.lo)}, ${signed(c.metric, d.hi)}]`;
}

const caption = (c: Comparison): string =>
  `${c.metric}${RAW_METRICS.includes(c.metric) ? '' : ' (%)'}, mean ± std over seeds (over folds with one seed)`;
const diffCaption = (c: Comparison): string =>
  `difference to ${c.baseline}: mean of the paired (seed, fold) differences [95% CI, Student's t with n-1 df]; average: over the conditions every run has, per (seed, fold)`;

function padTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, k) => r.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ') + (k === 0 ? '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : '')).join('\n');
}

export function formatComparison(c: Comparison, format: OutputFormat): string {
  const others = c.rows.filter((r) => r.label !== c.baseline);
  if (format === 'json') return JSON.stringify(c) + '\n';
  if (format === 'csv') {
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = ['method,run,column,metric,mean,std,n,best,diff_mean,diff_lo,diff_hi,diff_n'];
    for (const r of c.rows) {
      for (const col of c.columns) {
        const cell = r.cells[col];
        const d = r.diff[col];
        const f = (x: number | null | undefined) => (x === null || x === undefined ? '' : String(x));
        lines.push([q(r.method), q(r.label), col, c.metric, f(cell?.mean), f(cell?.std), f(cell?.n), c.best[col] === r.label ? '1' : '0', f(d?.mean), f(d?.lo), f(d?.hi), f(d?.n)].join(','));
      }
    }
    return lines.join('\n') + '\n';
  }
  if (format === 'md') {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    const head = `| method | ${c.columns.map(esc).join(' | ')} |\n|---|${c.columns.map(() => '---:').join('|')}|`;
    const body = c.rows.map((r) => `| ${esc(r.label)} | ${c.columns.map((col) => (c.best[col] === r.label ? `**${cellText(c, r, col, '±')}**` : cellText(c, r, col, '±'))).join(' | ')} |`);
    let out = `${caption(c)}; best per column in bold.\n\n${head}\n${body.join('\n')}\n`;
    if (others.length) {
      const dhead = `| vs ${esc(c.baseline)} | ${c.columns.map(esc).join(' | ')} |\n|---|${c.columns.map(() => '---:').join('|')}|`;
      const dbody = others.map((r) => `| ${esc(r.label)} | ${c.columns.map((col) => diffText(c, r.diff[col])).join(' | ')} |`);
      out += `\n${diffCaption(c)}.\n\n${dhead}\n${dbody.join('\n')}\n`;
    }
    return out;
  }
  const rows = [['method', ...c.columns], ...c.rows.map((r) => [r.label, ...c.columns.map((col) => cellText(c, r, col, '±') + (c.best[col] === r.label ? ' *' : '  '))])];
  let out = `${caption(c)}; * best per column\n${padTable(rows)}\n`;
  if (others.length) {
    const drows = [[`vs ${c.baseline}`, ...c.columns], ...others.map((r) => [r.label, ...c.columns.map((col) => diffText(c, r.diff[col]))])];
    out += `\n${diffCaption(c)}\n${padTable(drows)}\n`;
  }
  return out;
}
