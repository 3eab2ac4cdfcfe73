// Renders a sample report, opens it in headless Chromium (Debian's /usr/bin/chromium), checks
// the DOM the browser built (every chart is an inline SVG, the test-selection label is there, no
// external resource), and saves a PNG screenshot to look at.
//
//   node scripts/check-report.mjs [OUT_DIR]        (default: .scratch-report/)
//
// Chromium itself is driven by test/support/chromium.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

async function main() {
  const out = resolve(process.argv[2] ?? '.scratch-report');
  mkdirSync(out, { recursive: true });
  const { register } = await import('tsx/esm/api');
  register();
  const { renderReport, TEST_SELECTION_LABEL } = await import('../src/eval/report.ts');
  const { sampleReportData } = await import('../test/support/report-sample.ts');
  const { CHROMIUM_CANDIDATES, dumpDom, findChromium, screenshot } = await import('../test/support/chromium.ts');

  const chromium = findChromium();
  if (!chromium) throw new Error(`no Chromium found (looked at ${CHROMIUM_CANDIDATES.join(', ')}); apt-get install -y chromium`);

  const failures = [];
  for (const selection of ['test', 'val']) {
    const data = sampleReportData({ selection });
    const html = await renderReport(data);
    const htmlPath = join(out, `report-${selection}.html`);
    writeFileSync(htmlPath, html);
    const svgsInHtml = (html.match(/<svg[\s>]/g) ?? []).length;
    const dom = dumpDom(chromium, htmlPath);
    const svgsInDom = (dom.match(/<svg[\s>]/g) ?? []).length;
    const expected = 3 + 3 + data.confusion.length + 1; // curves per kind + hardness, K, agreement + confusion + robustness
    const labelShown = dom.includes(TEST_SELECTION_LABEL);
    const external = dom.match(/\s(?:src|href)="(?!#)[^"]*"/g) ?? [];
    console.log(`${selection}: ${svgsInDom} SVGs in the browser DOM (HTML has ${svgsInHtml}, expected ${expected}); test-selection label ${labelShown ? 'shown' : 'absent'}; external references: ${external.length}`);
    if (svgsInDom !== expected || svgsInHtml !== expected) failures.push(`${selection}: expected ${expected} SVGs`);
    if (labelShown !== (selection === 'test')) failures.push(`${selection}: test-selection label ${labelShown ? 'shown' : 'missing'}`);
    if (external.length) failures.push(`${selection}: external references ${external.join(' ')}`);
    const png = join(out, `report-${selection}.png`);
    screenshot(chromium, htmlPath, png);
    console.log(`  page: ${htmlPath}\n  screenshot: ${png}`);
  }
  if (failures.length) {
    console.error('FAILED:\n  ' + failures.join('\n  '));
    process.exit(1);
  }
  console.log('report check passed');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
