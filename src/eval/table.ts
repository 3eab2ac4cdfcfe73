/**
 * The results object as text: a padded table for the terminal, CSV and markdown for papers, or
 * JSON (percentages in table and markdown, fractions in CSV and JSON; mean ± std).
 */
import type { OutputFormat } from './formats.ts';
import type { EvalResults, RunResults } from './report-data.ts';
import { RAW_METRICS } from './report-data.ts';
import { describeSelection } from './selection.ts';

const cell = (metric: string, mean: number | undefined, std?: number): string => {
  if (mean === undefined) return '-';
  const raw = RAW_METRICS.includes(metric);
  const f = (x: number) => (raw ? x.toFixed(3) : (100 * x).toFixed(2));
  return std !== undefined && std > 0 ? `${f(mean)}±${f(std)}` : f(mean);
};

/** Rows of (label, mean, std): each condition, the average, then each missing rate. */
function rowsOf(r: EvalResults): Array<{ label: string; mean: Record<string, number>; std?: Record<string, number> }> {
  const rows: Array<{ label: string; mean: Record<string, number>; std?: Record<string, number> }> = Object.entries(r.conditions).map(([label, c]) => ({ label, mean: c.mean, std: c.std }));
  if (Object.keys(r.average).length) rows.push({ label: 'average', mean: r.average });
  for (const [label, c] of Object.entries(r.robustness?.byRate ?? {})) rows.push({ label, mean: c.mean, std: c.std });
  return rows;
}

const title = (r: RunResults): string => `${r.method} on ${r.dataset}, protocol ${r.protocol}, ${describeSelection(r.selection)}`;

export function formatResultsTable(r: EvalResults): string {
  const rows = rowsOf(r);
  const metrics = Object.keys(rows[0]?.mean ?? {});
  const head = ['condition', ...metrics];
  const body = rows.map((row) => [row.label, ...metrics.map((m) => cell(m, row.mean[m], row.std?.[m]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `${title(r)}; ${metrics.some((m) => !RAW_METRICS.includes(m)) ? 'percent' : ''}`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n') + '\n';
}

export function formatResults(r: EvalResults, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(r) + '\n';
  if (format === 'table') return formatResultsTable(r);
  const rows = rowsOf(r);
  const metrics = Object.keys(rows[0]?.mean ?? {});
  if (format === 'csv') {
    const lines = ['method,dataset,protocol,selection,condition,metric,mean,std'];
    for (const row of rows) for (const m of metrics) lines.push([r.method, r.dataset, r.protocol, r.selection, row.label, m, row.mean[m] ?? '', row.std?.[m] ?? ''].join(','));
    return lines.join('\n') + '\n';
  }
  const md = (row: (typeof rows)[number]) => `| ${row.label} | ${metrics.map((m) => cell(m, row.mean[m], row.std?.[m]).replace('±', ' ± ')).join(' | ')} |`;
  return [`${title(r)}${metrics.some((m) => !RAW_METRICS.includes(m)) ? '; percent, mean ± std' : ''}.`, '', `| condition | ${metrics.join(' | ')} |`, `|---|${metrics.map(() => '---:').join('|')}|`, ...rows.map(md)].join('\n') + '\n';
}
