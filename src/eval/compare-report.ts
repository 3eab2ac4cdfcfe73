/**
 * The HTML page of `hardy-mer compare`: the comparison table (best per column marked), the paired
 * differences to the baseline with their intervals, the robustness curves of every run that has
 * one, and each run's provenance. Self-contained like the run report (report.ts).
 */
import { robustnessSpec } from './charts.ts';
import { AVERAGE, type Comparison } from './compare.ts';
import { chart, describeObject, esc, htmlDocument, table, td, th } from './report.ts';
import { RAW_METRICS, type RobustnessCurve } from './report-data.ts';

export interface ComparisonPage {
  comparison: Comparison;
  curves: RobustnessCurve[];
  runs: Array<{ label: string; dir: string; provenance?: Record<string, unknown> }>;
}

const pct = (metric: string, x: number) => (RAW_METRICS.includes(metric) ? x.toFixed(3) : (100 * x).toFixed(2));
const signed = (metric: string, x: number) => `${x >= 0 ? '+' : '−'}${pct(metric, Math.abs(x))}`;

export async function renderComparison(page: ComparisonPage): Promise<string> {
  const c = page.comparison;
  const cols = c.columns;
  const head = [[th('method', 1, 'left'), ...cols.map((k) => th(esc(k === AVERAGE ? 'average' : k)))]];
  const rows = c.rows.map((r) => [
    td(esc(r.label), 'left'),
    ...cols.map((k) => {
      const cell = r.cells[k];
      if (!cell) return td('—');
      const text = `${pct(c.metric, cell.mean)}${cell.std > 0 ? ` ± ${pct(c.metric, cell.std)}` : ''}`;
      return td(c.best[k] === r.label ? `<b>${text}</b>` : text);
    }),
  ]);
  const others = c.rows.filter((r) => r.label !== c.baseline);
  const diffRows = others.map((r) => [
    td(esc(r.label), 'left'),
    ...cols.map((k) => {
      const d = r.diff[k];
      if (!d) return td('—');
      return td(d.lo === null || d.hi === null ? `${signed(c.metric, d.mean)} (n = 1)` : `${signed(c.metric, d.mean)} [${signed(c.metric, d.lo)}, ${signed(c.metric, d.hi)}] <span class="muted">n = ${d.n}</span>`);
    }),
  ]);
  const unit = RAW_METRICS.includes(c.metric) ? '' : ' (%)';
  const body = [
    `<section id="table"><h2>${esc(c.metric)}${unit} per condition</h2><p class="intro">Mean ± std over seeds (over folds with one seed); best per column in bold.</p>${table(head, rows, 'results')}</section>`,
    `<section id="differences"><h2>Paired differences to ${esc(c.baseline)}</h2><p class="intro">Per column the mean of the differences over the (seed, fold) units both runs have, with its 95 % interval (Student's t, n − 1 degrees of freedom); average: over the conditions every run has (not the missing rates), per (seed, fold).</p>${others.length ? table(head.map((h) => [th(`vs ${esc(c.baseline)}`, 1, 'left'), ...h.slice(1)]), diffRows, 'results') : '<p class="na">only the baseline</p>'}</section>`,
    `<section id="robustness"><h2>Robustness to missing modalities</h2>${page.curves.length ? await chart(robustnessSpec(page.curves)) : '<p class="na">no run has a robustness curve (hardy-mer eval --missing-rates)</p>'}</section>`,
    `<section id="provenance"><h2>Runs</h2>${page.runs.map((r) => `<h3>${esc(r.label)} <span class="muted">${esc(r.dir)}</span></h3>${r.provenance ? describeObject(r.provenance) : '<p class="na">no provenance recorded</p>'}`).join('')}</section>`,
  ].join('\n');
  const title = `hardy-mer: ${c.rows.map((r) => r.label).join(' vs ')}`;
  return htmlDocument(title, `<h1>${esc(title)}</h1>`, body);
}
