/**
 * One self-contained HTML page per run: inline CSS, charts as inline SVG rendered offline by
 * vega, no scripts, fonts, images or links to fetch (a Content-Security-Policy of `default-src
 * 'none'` enforces it in the browser). Async only because vega's SVG renderer is.
 */
import { MODEL_KINDS } from '../model/types.ts';
import { CONDITIONS, INCOMPLETE_CONDITIONS } from '../data/types.ts';
import { agreementSpec, confusionSpec, curvesSpec, hardnessSpec, kSpec, robustnessSpec } from './charts.ts';
import { renderSvg } from './charts-render.ts';
import { TEST_SELECTION_LABEL } from './selection.ts';
import { PAPER_NOTE, paperTable, paperValue, type PaperColumn } from './paper.ts';
import {
  CLASSIFICATION_METRICS,
  RAW_METRICS,
  REGRESSION_METRICS,
  type CaseUtterance,
  type ReportData,
  type RunResults,
} from './report-data.ts';
import type { TopLevelSpec } from 'vega-lite';

/** The visible label every output of a test-selected run carries (docs/method.md §8). */
export const NOT_AVAILABLE = 'not available for this run';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

/** Fractions as percentages with 2 decimals; MAE/Corr as plain numbers with 3. */
export function formatMetric(metric: string, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return RAW_METRICS.includes(metric) ? value.toFixed(3) : (value * 100).toFixed(2);
}

export function formatMeanStd(metric: string, mean: number | undefined, std: number | undefined): string {
  const m = formatMetric(metric, mean);
  const plain = mean === undefined || !Number.isFinite(mean) || std === undefined || !Number.isFinite(std);
  return plain ? m : `${m} ± ${formatMetric(metric, std)}`;
}

/** `at` -> `{a,t}` as in the paper's column heads. */
const condLabel = (c: string) => `{${c.split('').join(',')}}`;

/** Conditions present in any of the results, in canonical order (unknown keys last). */
function conditionsOf(...runs: (RunResults | undefined)[]): string[] {
  const keys = new Set(runs.flatMap((r) => (r ? Object.keys(r.conditions) : [])));
  const order = [...INCOMPLETE_CONDITIONS, ...CONDITIONS.filter((c) => !INCOMPLETE_CONDITIONS.includes(c))] as string[];
  return [...order.filter((c) => keys.has(c)), ...[...keys].filter((k) => !order.includes(k)).sort()];
}

function section(id: string, title: string, body: string | null, intro = ''): string {
  const content = body ?? `<p class="na">${NOT_AVAILABLE}</p>`;
  return `<section id="${id}"><h2>${esc(title)}</h2>${intro && body ? `<p class="intro">${intro}</p>` : ''}${content}</section>`;
}

export async function chart(spec: TopLevelSpec, caption = ''): Promise<string> {
  try {
    const svg = await renderSvg(spec);
    return `<figure class="chart">${svg}${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;
  } catch (err) {
    return `<p class="error">chart could not be drawn: ${esc((err as Error).message)}</p>`;
  }
}

export function table(head: string[][], rows: string[][], cls = ''): string {
  const thead = head.map((r) => `<tr>${r.join('')}</tr>`).join('');
  const tbody = rows.map((r) => `<tr>${r.join('')}</tr>`).join('');
  return `<div class="scroll"><table class="${cls}"><thead>${thead}</thead><tbody>${tbody}</tbody></table></div>`;
}

export const th = (s: string, span = 1, cls = '') => `<th${span > 1 ? ` colspan="${span}"` : ''}${cls ? ` class="${cls}"` : ''}>${s}</th>`;
export const td = (s: string, cls = 'num') => `<td class="${cls}">${s}</td>`;

function mainMetrics(data: ReportData): string[] {
  const paper = paperTable(data.dataset);
  if (paper) return paper.metrics;
  return data.task === 'classification' ? ['WA', 'UA'] : ['ACC2', 'F1'];
}

/** Published rows of the methods we train (our method name -> the paper's). */
const PAPER_NAMES: Record<string, string> = { hardy: 'HARDY-MER', momke: 'MoMKE', mmin: 'MMIN', gcnet: 'GCNet' };

/** This run vs every baseline run vs the published numbers, per condition and the average. */
function comparisonTable(data: ReportData): string {
  const { results } = data;
  const baselines = data.baselines ?? [];
  const paper = paperTable(data.dataset);
  const metrics = mainMetrics(data);
  const runCell = (run: RunResults) => (m: string, c: string | null) =>
    c ? formatMeanStd(m, run.conditions[c]?.mean[m], run.conditions[c]?.std[m]) : formatMetric(m, run.average[m]);
  const cols = [{ name: `${esc(results.method)}<br><span class="muted">this run</span>`, cell: runCell(results) }];
  for (const baseline of baselines) {
    const sel = baseline.selection === 'test' ? ', test-fold selection' : '';
    cols.push({ name: `${esc(baseline.method)}<br><span class="muted">baseline run${sel}</span>`, cell: runCell(baseline) });
  }
  if (paper) {
    // HARDY-MER and MoMKE always; the other published methods when the comparison has them.
    const compared = new Set(['HARDY-MER', 'MoMKE', ...[results, ...baselines].map((r) => PAPER_NAMES[r.method]).filter(Boolean)]);
    for (const method of paper.rows.map((r) => r.method).filter((m) => compared.has(m)).reverse()) {
      const cell = (m: string, c: string | null) => formatMetric(m, (paperValue(data.dataset, method, (c ?? 'avg') as PaperColumn, m) ?? NaN) / 100);
      cols.push({ name: `${method}<br><span class="muted">paper</span>`, cell });
    }
  }
  const conds = conditionsOf(results, ...baselines);
  // The first column of each metric group carries a divider.
  const edge = (i: number, cls: string) => (i === 0 ? `${cls} edge` : cls);
  const head = [
    [th('', 1, 'left'), ...metrics.map((m) => th(esc(m), cols.length, 'group edge'))],
    [th('condition', 1, 'left'), ...metrics.flatMap(() => cols.map((c, i) => th(c.name, 1, edge(i, 'wrap'))))],
  ];
  const rows = [...conds, null].map((c) => [
    td(c ? condLabel(c) : 'Average', c ? 'left' : 'left avg'),
    ...metrics.flatMap((m) => cols.map((col, i) => td(col.cell(m, c), edge(i, c ? 'num' : 'num avg')))),
  ]);
  return table(head, rows, 'results');
}

/** Every metric of the task for one run: mean ± std per condition, and the average. */
function allMetricsTable(run: RunResults, metrics: readonly string[]): string {
  const conds = conditionsOf(run);
  const head = [[th('condition', 1, 'left'), ...metrics.map((m) => th(esc(m)))]];
  const rows = [
    ...conds.map((c) => [td(condLabel(c), 'left'), ...metrics.map((m) => td(formatMeanStd(m, run.conditions[c].mean[m], run.conditions[c].std[m])))]),
    [td('Average', 'left avg'), ...metrics.map((m) => td(formatMetric(m, run.average[m]), 'num avg'))],
  ];
  return table(head, rows, 'metrics');
}

function foldsTable(run: RunResults, metrics: readonly string[]): string {
  const head = [[th('condition', 1, 'left'), th('fold'), th('seed'), ...metrics.map((m) => th(esc(m)))]];
  const rows = conditionsOf(run).flatMap((c) =>
    run.conditions[c].folds.map((f) => [td(condLabel(c), 'left'), td(String(f.fold)), td(String(f.seed)), ...metrics.map((m) => td(formatMetric(m, f.metrics[m])))]),
  );
  return table(head, rows, 'folds');
}

function resultsSection(data: ReportData): string {
  const metrics = data.task === 'classification' ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
  const paper = paperTable(data.dataset);
  const fmt = RAW_METRICS.some((m) => (metrics as readonly string[]).includes(m))
    ? 'Percentages with two decimals (MAE and Corr as plain numbers), mean ± std over seeds/folds.'
    : 'Percentages with two decimals, mean ± std over seeds/folds.';
  const paperNote = paper
    ? `<p class="note">${esc(PAPER_NOTE)}${paper.caveat ? ` ${esc(paper.caveat)}` : ''}</p>`
    : `<p class="note">The paper publishes no numbers for ${esc(data.dataset)}.</p>`;
  const parts = [
    `<p class="intro">${fmt}${isTestSelected(data) ? ` <span class="warn">${TEST_SELECTION_LABEL}</span>` : ''}</p>`,
    comparisonTable(data),
    paperNote,
    `<h3>All metrics: ${esc(data.results.method)}</h3>`,
    allMetricsTable(data.results, metrics),
  ];
  for (const b of data.baselines ?? []) parts.push(`<h3>All metrics: ${esc(b.method)} baseline</h3>`, allMetricsTable(b, metrics));
  parts.push(`<details><summary>Per fold and seed</summary>${foldsTable(data.results, metrics)}</details>`);
  if (paper) parts.push(`<details><summary>Every published method (${esc(paper.labels.join(' / '))}, %)</summary>${paperFullTable(data)}</details>`);
  return section('results', 'Results', parts.join(''));
}

function paperFullTable(data: ReportData): string {
  const paper = paperTable(data.dataset)!;
  const cols: PaperColumn[] = ['a', 't', 'v', 'at', 'av', 'tv', 'avg'];
  const head = [
    [th('method', 1, 'left'), ...cols.map((c) => th(c === 'avg' ? 'Average' : condLabel(c), 2, 'group'))],
    [th(''), ...cols.flatMap(() => paper.labels.map((l) => th(esc(l))))],
  ];
  const rows = paper.rows.map((r) => [
    td(esc(r.method) + (r.context ? ` <span class="muted">(${esc(r.context)})</span>` : ''), 'left'),
    ...cols.flatMap((c) => (r.values[c] ?? [NaN, NaN]).map((v) => td(Number.isFinite(v) ? v.toFixed(2) : '—'))),
  ]);
  return table(head, rows, 'paper');
}

async function curvesSection(data: ReportData): Promise<string> {
  const curves = data.curves ?? [];
  if (curves.length === 0) return section('curves', 'Training curves', null);
  const figs = await Promise.all(MODEL_KINDS.filter((k) => curves.some((c) => c.kind === k)).map((k) => chart(curvesSpec(k, curves.filter((c) => c.kind === k)))));
  return section('curves', 'Training curves', figs.join(''), 'One line per fold (and seed), coloured by condition; dashes mark training stages.');
}

async function chartSection(id: string, title: string, spec: TopLevelSpec | null, intro: string): Promise<string> {
  return section(id, title, spec ? await chart(spec) : null, esc(intro));
}

async function confusionSection(data: ReportData): Promise<string> {
  const cms = data.confusion ?? [];
  if (cms.length === 0) return section('confusion', 'Confusion matrices', null);
  const figs = await Promise.all(cms.map((cm) => chart(confusionSpec(cm))));
  return section('confusion', 'Confusion matrices', `<div class="grid">${figs.join('')}</div>`, 'Rows: true class, columns: predicted; counts summed over folds, shade = share of the true class.');
}

function caseTable(title: string, items: CaseUtterance[]): string {
  const head = [[th('utterance', 1, 'left'), th('label', 1, 'left'), th('hardness'), th('K<sub>i</sub>'), th('kept neighbours (label)', 1, 'left')]];
  const rows = items.map((u) => [
    td(`<code>${esc(u.id)}</code>`, 'left'),
    td(esc(u.label), 'left'),
    td(u.hardness.toFixed(3)),
    td(u.k === undefined ? '—' : String(u.k)),
    td(
      u.neighbours.length
        ? u.neighbours.map((n) => `<span class="nb ${n.label === u.label ? 'same' : 'diff'}"><code>${esc(n.id)}</code> (${esc(n.label)})</span>`).join(' ')
        : '<span class="muted">none</span>',
      'left',
    ),
  ]);
  return `<h3>${esc(title)}</h3>${table(head, rows, 'cases')}`;
}

function caseSection(data: ReportData): string {
  const cs = data.caseStudy;
  if (!cs || (cs.hardest.length === 0 && cs.easiest.length === 0)) return section('cases', 'Case study', null);
  const intro = `Hardest and easiest training utterances${cs.context ? ` (${esc(cs.context)})` : ''}; green neighbours share the utterance's label, red ones do not.`;
  return section('cases', 'Case study', caseTable('Hardest', cs.hardest) + caseTable('Easiest', cs.easiest), intro);
}

/** A nested object as a definition list (provenance). */
export function describeObject(x: unknown): string {
  if (x === null || typeof x !== 'object') return `<code>${esc(x)}</code>`;
  if (Array.isArray(x)) return `<code>${esc(x.join(' '))}</code>`;
  return `<dl class="kv">${Object.entries(x).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${describeObject(v)}</dd>`).join('')}</dl>`;
}

function provenanceSection(data: ReportData): string {
  return section('provenance', 'Provenance', data.provenance ? describeObject(data.provenance) : null, 'What produced this run: tool version and commit, Node, engine path, the data fingerprint and the command line (run.json).');
}

function configSection(data: ReportData): string {
  if (data.config === undefined) return section('config', 'Configuration', null);
  return section('config', 'Configuration', `<details open><summary>Resolved run configuration</summary><pre>${esc(JSON.stringify(data.config, null, 2))}</pre></details>`);
}

const isTestSelected = (d: ReportData) => d.selection === 'test' || d.results.selection === 'test';

export const CSS = `
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--accent:#2e5aac;--warn:#b42318;--warnbg:#fef3f2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:#f7f8fa}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff;min-height:100vh}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:34px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:14px;margin:20px 0 6px}
.sub{color:var(--muted);margin:0 0 10px}
.meta{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0 4px;padding:0;list-style:none}
.meta li{background:#eef2f8;border-radius:4px;padding:2px 8px;font-size:13px}
.meta b{font-weight:600}
.warn{display:inline-block;color:var(--warn);background:var(--warnbg);border:1px solid #fecdca;border-radius:4px;padding:2px 8px;font-weight:600}
.banner{margin:10px 0;font-size:14px}
nav{margin:12px 0 0;font-size:13px}
nav a{color:var(--accent);margin-right:12px;text-decoration:none}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{padding:4px 9px;border-bottom:1px solid var(--line);white-space:nowrap}
th{background:#f2f4f7;font-weight:600;text-align:center}
th.wrap{white-space:normal;font-size:12px;line-height:1.25}
.edge{border-left:2px solid #c9ced6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.left,th.left{text-align:left}
td.avg{font-weight:600;border-top:2px solid #c9ced6}
tbody tr:nth-child(even){background:#fafbfc}
table.cases td:last-child{white-space:normal}
.nb{display:inline-block;margin:1px 6px 1px 0;padding:0 5px;border-radius:3px}
.nb.same{background:#ecfdf3}.nb.diff{background:#fef3f2}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
.na{color:var(--muted);font-style:italic}
.note,.intro{color:var(--muted);font-size:13px;margin:4px 0 8px}
.muted{color:var(--muted)}
.error{color:var(--warn)}
figure.chart{margin:8px 0 14px;display:inline-block;vertical-align:top}
figure.chart svg{max-width:100%;height:auto}
figcaption{color:var(--muted);font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:10px}
details{margin:8px 0}
summary{cursor:pointer;color:var(--accent)}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:4px;padding:10px;overflow:auto;max-height:480px;font-size:12px}
footer{margin-top:40px;color:var(--muted);font-size:12px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0;font-size:13px}
dl.kv dt{font-weight:600;color:var(--muted)}dl.kv dd{margin:0;word-break:break-all}
`;

const SECTIONS = [
  ['results', 'Results'],
  ['curves', 'Training curves'],
  ['hardness', 'Hardness'],
  ['kdist', 'K_i distribution'],
  ['agreement', 'Neighbour agreement'],
  ['confusion', 'Confusion matrices'],
  ['cases', 'Case study'],
  ['robustness', 'Robustness'],
  ['provenance', 'Provenance'],
  ['config', 'Configuration'],
];

/** The whole report page as one HTML string. */
export async function renderReport(data: ReportData): Promise<string> {
  const testSel = isTestSelected(data);
  const meta = [
    ['dataset', data.dataset],
    ['method', data.method],
    ['task', data.task],
    ['protocol', data.protocol],
    ['selection', data.selection === 'test' ? 'test fold' : 'validation split'],
  ]
    .map(([k, v]) => `<li><b>${esc(k)}</b> ${esc(v)}</li>`)
    .join('');
  const body = [
    resultsSection(data),
    await curvesSection(data),
    await chartSection('hardness', 'Hardness distribution', data.hardness ? hardnessSpec(data.hardness) : null, "Teacher's multi-view hardness of the training utterances."),
    await chartSection('kdist', 'K_i distribution', data.kDistribution?.length ? kSpec(data.kDistribution) : null, 'Share of training utterances keeping K_i retrieved neighbours, per epoch.'),
    await chartSection('agreement', 'Neighbour label agreement', data.agreement?.length ? agreementSpec(data.agreement) : null, 'Share of utterances with a same-label neighbour among their first 1, 3 and 5 retrieved neighbours (mean over conditions and folds).'),
    await confusionSection(data),
    caseSection(data),
    await chartSection('robustness', 'Robustness to missing modalities', data.robustness?.length ? robustnessSpec(data.robustness) : null, 'Test metric against the random missing rate (hardy-mer eval --missing-rates): every model of a seed and fold on the same masks; band = ± std.'),
    provenanceSection(data),
    configSection(data),
  ].join('\n');
  return htmlDocument(data.title, `<h1>${esc(data.title)}</h1>
${data.subtitle ? `<p class="sub">${esc(data.subtitle)}</p>` : ''}
<ul class="meta">${meta}</ul>
${testSel ? `<p class="banner"><span class="warn" id="selection-warning">${TEST_SELECTION_LABEL}</span> — the reported numbers are not from a held-out model selection.</p>` : ''}
<nav>${SECTIONS.map(([id, name]) => `<a href="#${id}">${esc(name)}</a>`).join('')}</nav>`, body);
}

/** The self-contained page around a report's body (no scripts, fonts or images; CSP forbids them). */
export function htmlDocument(title: string, header: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
${header}
</header>
${body}
<footer>Made by hardy-mer. Self-contained: no scripts, fonts or images are loaded.</footer>
</main>
</body>
</html>
`;
}
