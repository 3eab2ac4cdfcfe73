/** The results object as a plain-text table for the terminal (percentages, mean +- std). */
import type { RunResults } from './report-data.ts';
import { RAW_METRICS } from './report-data.ts';
import { describeSelection } from './selection.ts';

const cell = (metric: string, mean: number | undefined, std?: number): string => {
  if (mean === undefined) return '-';
  const raw = RAW_METRICS.includes(metric);
  const f = (x: number) => (raw ? x.toFixed(3) : (100 * x).toFixed(2));
  return std !== undefined && std > 0 ? `${f(mean)}±${f(std)}` : f(mean);
};

export function formatResultsTable(r: RunResults): string {
  const units = Object.keys(r.conditions);
  const metrics = Object.keys(r.conditions[units[0]!]?.mean ?? {});
  const head = ['condition', ...metrics];
  const rows = units.map((u) => [u, ...metrics.map((m) => cell(m, r.conditions[u]!.mean[m], r.conditions[u]!.std[m]))]);
  if (Object.keys(r.average).length) rows.push(['average', ...metrics.map((m) => cell(m, r.average[m]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `${r.method} on ${r.dataset}, protocol ${r.protocol}, ${describeSelection(r.selection)}; ${metrics.some((m) => !RAW_METRICS.includes(m)) ? 'percent' : ''}`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n') + '\n';
}
