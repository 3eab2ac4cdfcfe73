import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport, formatMetric, formatMeanStd, NOT_AVAILABLE } from '../../src/eval/report.ts';
import { TEST_SELECTION_LABEL } from '../../src/eval/selection.ts';
import { curriculumSections, parseRunResults } from '../../src/eval/report-data.ts';
import { PAPER_TABLES, PAPER_COLUMNS, paperValue } from '../../src/eval/paper.ts';
import type { EpochDiagnostics } from '../../src/curriculum/diagnostics.ts';
import { sampleReportData } from '../support/report-sample.ts';
import { findChromium, dumpDom } from '../support/chromium.ts';

/** Full reports are slow to chart (~1-2 s each): render each variant once and share it. */
const cache = new Map<string, Promise<string>>();
function rendered(o: Parameters<typeof sampleReportData>[0]): Promise<string> {
  const key = JSON.stringify(o);
  if (!cache.has(key)) cache.set(key, renderReport(sampleReportData(o)));
  return cache.get(key)!;
}

const SECTION_IDS = ['results', 'curves', 'hardness', 'kdist', 'agreement', 'confusion', 'cases', 'robustness', 'provenance', 'config'];
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

/** Nothing the browser would fetch: no scripts, external links, sources, CSS imports or url(). */
function assertSelfContained(html: string): void {
  assert.equal(count(html, /\s(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\//gi), 0, 'external src/href');
  assert.equal(count(html, /\s(?:src|href)\s*=\s*["']?\s*https?:/gi), 0, 'http(s) src/href');
  assert.equal(count(html, /<script|<link|<img|<iframe|@import|url\(/gi), 0, 'script/link/img/import/url()');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
}

test('full report: self-contained, every section with its charts, escaped text', async () => {
  const data = sampleReportData({ selection: 'val' });
  const html = await rendered({ selection: 'val' });
  assertSelfContained(html);
  for (const id of SECTION_IDS) assert.match(html, new RegExp(`<section id="${id}">`), id);
  assert.equal(count(html, new RegExp(NOT_AVAILABLE, 'g')), 0);
  // 3 model kinds of curves + hardness + K_i + agreement + 6 confusion matrices + robustness.
  assert.equal(count(html, /<svg[\s>]/g), 13);
  assert.ok(html.includes('&lt;labels&gt;.csv') && html.includes('<dt>labelSha256</dt>'), 'provenance listed, escaped');
  assert.equal(count(html, /chart could not be drawn/g), 0);
  // A class name and a config value with markup are shown as text, never as tags.
  assert.ok(!html.includes('<angry>') && html.includes('&lt;angry&gt;'));
  assert.ok(!html.includes('<b>not html</b>'));
  // Case study ids and neighbours are listed.
  for (const u of data.caseStudy!.hardest) assert.ok(html.includes(u.id));
});

test('only results: the other sections say not available, no charts', async () => {
  const html = await renderReport(sampleReportData({ full: false }));
  assertSelfContained(html);
  for (const id of SECTION_IDS) assert.match(html, new RegExp(`<section id="${id}">`));
  assert.equal(count(html, new RegExp(NOT_AVAILABLE, 'g')), SECTION_IDS.length - 1);
  assert.equal(count(html, /<svg[\s>]/g), 0);
  assert.ok(!html.includes('baseline run'), 'no baseline column without a baseline');
});

test('the test-selection label appears exactly when selection is test', async () => {
  for (const full of [true, false]) {
    const val = await rendered({ selection: 'val', full });
    const tst = await rendered({ selection: 'test', full });
    assert.ok(!val.includes(TEST_SELECTION_LABEL), 'val run carries no optimistic label');
    assert.ok(tst.includes(TEST_SELECTION_LABEL), 'test run carries the label');
    assert.match(tst, /id="selection-warning"/);
  }
});

test('metric formatting: percentages with 2 decimals, MAE/Corr raw, mean ± std', () => {
  assert.equal(formatMetric('WA', 0.72654), '72.65');
  assert.equal(formatMetric('UA', 1), '100.00');
  assert.equal(formatMetric('ACC7', 0.4), '40.00');
  assert.equal(formatMetric('MAE', 0.65432), '0.654');
  assert.equal(formatMetric('Corr', -0.1), '-0.100');
  assert.equal(formatMetric('WA', undefined), '—');
  assert.equal(formatMetric('WA', NaN), '—');
  assert.equal(formatMeanStd('WA', 0.7, 0.0123), '70.00 ± 1.23');
  assert.equal(formatMeanStd('MAE', 0.7, 0.0123), '0.700 ± 0.012');
  assert.equal(formatMeanStd('Corr', NaN, 0.01), '—');
  assert.equal(formatMeanStd('WA', 0.5, undefined), '50.00');
});

test('results table: ours (mean ± std), baseline and the paper per condition, and averages', async () => {
  const data = sampleReportData({ selection: 'val' });
  const html = await rendered({ selection: 'val' });
  const a = data.results.conditions.a;
  assert.ok(html.includes(`${(a.mean.WA * 100).toFixed(2)} ± ${(a.std.WA * 100).toFixed(2)}`));
  const b = data.baselines![0]!.conditions.tv;
  assert.ok(html.includes(`${(b.mean.UA * 100).toFixed(2)} ± ${(b.std.UA * 100).toFixed(2)}`));
  assert.ok(html.includes(`>${(data.results.average.F1m * 100).toFixed(2)}<`));
  // Published HARDY-MER {a} WA and MoMKE average UA on IEMOCAP-4.
  assert.ok(html.includes('>72.65<') && html.includes('>70.03<'));
  // Every baseline run has its column, and GCNet's published row joins the paper's columns.
  const g = data.baselines![1]!.conditions.tv;
  assert.ok(html.includes(`${(g.mean.UA * 100).toFixed(2)} ± ${(g.std.UA * 100).toFixed(2)}`));
  assert.ok(html.includes('GCNet<br><span class="muted">paper') && html.includes('>69.32<'), 'GCNet paper average WA');
  assert.ok(!html.includes('MMIN<br><span class="muted">paper'), 'no column for a method not compared');
  for (const c of ['{a}', '{t}', '{v}', '{a,t}', '{a,v}', '{t,v}', 'Average']) assert.ok(html.includes(`>${c}<`), c);
});

test('regression datasets: paper ACC/F1 for MOSEI, none for MOSI; MAE/Corr raw', async () => {
  const mosei = await renderReport(sampleReportData({ dataset: 'mosei', full: false }));
  assert.ok(mosei.includes('>74.82<') && mosei.includes('>87.13<'));
  assert.match(mosei, /copy error/);
  for (const m of ['ACC2', 'F1', 'ACC2_hz', 'F1_hz', 'ACC7', 'MAE', 'Corr']) assert.ok(mosei.includes(`>${m}<`), m);
  assert.match(mosei, /0\.\d{3} ± 0\.\d{3}/);
  const mosi = await renderReport(sampleReportData({ dataset: 'mosi', full: false }));
  assert.match(mosi, /The paper publishes no numbers for mosi/);
});

test('paper tables: transcribed averages agree with the six conditions', () => {
  for (const t of PAPER_TABLES) {
    for (const r of t.rows) {
      for (const k of [0, 1]) {
        const six = PAPER_COLUMNS.filter((c) => c !== 'avg').map((c) => r.values[c]![k]);
        const mean = six.reduce((x, y) => x + y, 0) / 6;
        assert.ok(Math.abs(mean - r.values.avg![k]) < 0.06, `${t.dataset} ${r.method} ${t.labels[k]}: mean ${mean.toFixed(3)} vs avg ${r.values.avg![k]}`);
      }
    }
  }
  assert.equal(paperValue('iemocap6', 'HARDY-MER', 'tv', 'UA'), 57.86);
  assert.equal(paperValue('mosei', 'MoMKE', 'avg', 'F1'), 77.63);
  assert.equal(paperValue('mosi', 'HARDY-MER', 'a', 'ACC2'), undefined);
  assert.equal(paperValue('iemocap4', 'HARDY-MER', 'a', 'F1w'), undefined);
});

test('curriculumSections maps per-epoch diagnostics onto the report sections', () => {
  const ep = (epoch: number, top1: number): EpochDiagnostics => ({
    epoch,
    utterances: 4,
    hardnessHistogram: [1, 0, 0, 0, 0, 0, 0, 0, 2, 1],
    hardnessMean: 0.6,
    meanK: 2,
    kCounts: [0, 1, 1, 2],
    hitAt: { '1': top1, '3': 0.75, '5': 1 },
    precisionAt: { '1': top1, '3': 0.5, '5': 0.4 },
    meanCandidates: 5,
    hardest: [{ id: 'u1', label: 2, h: 0.95, direct: 0.9, indirect: 0.8, K: 3, neighbours: [{ id: 'u7', label: 2, dist: 0.3 }] }],
    easiest: [{ id: 'u4', label: 0, h: 0.02, direct: 0.1, indirect: 0.1, K: 1, neighbours: [] }],
  });
  const s = curriculumSections([ep(1, 0.25), ep(2, 0.5)], { condition: 'at', fold: 3 }, ['n', 'h', 's']);
  assert.deepEqual(s.agreement?.map((a) => [a.epoch, a.top1, a.top3, a.top5, a.condition, a.fold]), [
    [1, 0.25, 0.75, 1, 'at', 3],
    [2, 0.5, 0.75, 1, 'at', 3],
  ]);
  assert.deepEqual(s.kDistribution, [
    { epoch: 1, counts: [0, 1, 1, 2] },
    { epoch: 2, counts: [0, 1, 1, 2] },
  ]);
  assert.ok(s.hardness && 'edges' in s.hardness);
  assert.equal((s.hardness as { edges: number[] }).edges.length, 11);
  assert.deepEqual(s.caseStudy?.hardest[0], { id: 'u1', label: 's', hardness: 0.95, k: 3, neighbours: [{ id: 'u7', label: 's', distance: 0.3 }] });
  assert.equal(s.caseStudy?.context, 'condition at, fold 3, epoch 2');
  assert.deepEqual(curriculumSections([]), {});
});

const chromium = findChromium();
test('headless Chromium builds the page with every chart as SVG', { skip: chromium ? false : 'Chromium not installed (apt-get install -y chromium); browser check skipped' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hardy-report-'));
  try {
    const file = join(dir, 'report.html');
    writeFileSync(file, await rendered({ selection: 'test' }));
    const dom = dumpDom(chromium!, file);
    assert.equal(count(dom, /<svg[\s>]/g), 13);
    assert.equal(count(dom, /class="marks"/g), 13);
    assert.ok(dom.includes(TEST_SELECTION_LABEL));
    assert.match(dom, /<section id="cases">/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseRunResults accepts the results format (null metric = NaN) and names a bad field', () => {
  const r = sampleReportData({ full: false }).results;
  const json = JSON.parse(JSON.stringify(r));
  json.conditions.a.mean.WA = null;
  const parsed = parseRunResults(json, 'run/results.json');
  assert.ok(Number.isNaN(parsed.conditions.a.mean.WA));
  assert.equal(parsed.conditions.t.folds.length, 5);
  assert.deepEqual(parsed.average, r.average);
  const bad = (mutate: (j: any) => void, re: RegExp) => {
    const j = JSON.parse(JSON.stringify(r));
    mutate(j);
    assert.throws(() => parseRunResults(j, 'run/results.json'), re);
  };
  bad((j) => (j.selection = 'best'), /run\/results\.json: 'selection' must be "val" or "test"/);
  bad((j) => (j.dataset = 'imdb'), /unknown dataset 'imdb'/);
  bad((j) => (j.conditions.av.folds[2].metrics.UA = '0.7'), /conditions\.av\.folds\[2\]\.metrics\.UA: expected a number/);
  bad((j) => delete j.conditions.tv.std, /conditions\.tv\.std: expected an object/);
  bad((j) => delete j.average, /average: expected an object/);
});
