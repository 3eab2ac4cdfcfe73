/**
 * The web page of `hardy-mer serve`, driven in Debian's Chromium (DevTools protocol) and Firefox ESR
 * (WebDriver BiDi), both headless through puppeteer-core, which downloads nothing: a tiny trained
 * run served by the real binary; pick a test utterance, switch a modality off by keyboard, read the
 * probabilities, run the same prediction in the browser (tfjs wasm, the engine's pure-TypeScript
 * path) and compare it with the server's. One run and one server for both browsers.
 * In CI (CI=true) a missing browser fails its test instead of skipping it.
 * HARDY_MER_SCREENSHOTS=DIR also saves screenshots of the page there.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Page } from 'puppeteer-core';

const BIN = 'bin/hardy-mer.js';
const found = (...paths: (string | undefined)[]) => paths.find((p) => p && existsSync(p));
const BROWSERS = {
  chromium: {
    path: found(process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'),
    launch: (executablePath: string) => puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] }),
  },
  firefox: {
    path: found(process.env.FIREFOX, '/usr/bin/firefox-esr', '/usr/bin/firefox'),
    launch: (executablePath: string) => puppeteer.launch({ browser: 'firefox', executablePath, headless: true }),
  },
} as const;
type Name = keyof typeof BROWSERS;
const skipOf = (name: Name) =>
  BROWSERS[name].path || process.env.CI ? false : `${name} not installed (apt-get install -y ${name === 'firefox' ? 'firefox-esr' : 'chromium'}); page test skipped`;

let dir = '';
let server: ChildProcess | undefined;
let url = '';

before(async () => {
  if (skipOf('chromium') && skipOf('firefox')) return;
  dir = mkdtempSync(join(tmpdir(), 'hardy-page-'));
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  assert.equal(run('synth', '--out', join(dir, 'tiny'), '--preset', 'tiny', '--seed', '2').status, 0);
  writeFileSync(
    join(dir, 'cfg.yaml'),
    ['model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 }', 'teacher: { epochs: 2, stage1Epochs: 1 }', 'student: { epochs: 2, stage1Epochs: 1 }', 'finetune: { epochs: 1 }', 'optim: { lr: 0.003, batchSize: 4 }'].join('\n'),
  );
  const r = run('train', '--data', join(dir, 'tiny'), '--config', join(dir, 'cfg.yaml'), '--folds', '1', '--conditions', 'a,t,at', '--out', join(dir, 'run'), '--quiet');
  assert.equal(r.status, 0, r.stderr);
  server = spawn(process.execPath, [BIN, 'serve', '--run', join(dir, 'run'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server!.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server!.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  while ((await fetch(`${url}/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The probability bars as shown: class -> p (full precision, from data-p). */
const bars = (page: Page) => page.$$eval('#bars .bar', (els) => Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.class!, Number((e as HTMLElement).dataset.p)])));

/** Waits for the page to finish the prediction after `action`. */
async function settled(page: Page, action: () => Promise<unknown>): Promise<void> {
  const before = await page.evaluate(() => document.body.dataset.ready ?? '');
  await action();
  await page.waitForFunction((b) => (document.body.dataset.ready ?? '') !== b && !document.getElementById('status')!.textContent!.endsWith('…'), { timeout: 60_000 }, before);
}

async function served(body: unknown): Promise<any> {
  const r = await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(r.status, 200);
  return r.json();
}

for (const name of Object.keys(BROWSERS) as Name[]) {
  test(`${name}: pick a test utterance, toggle a modality by keyboard, bars equal the server; in-browser prediction equals it to 1e-4; no console errors`, { skip: skipOf(name), timeout: 300_000 }, async () => {
    const { path, launch } = BROWSERS[name];
    assert.ok(path, `CI=true and no ${name} installed: install it (.ci/run does)`);
    const browser = await launch(path);
    try {
      await exercise(await browser.newPage(), name);
    } finally {
      await browser.close();
    }
  });
}

async function exercise(page: Page, name: Name): Promise<void> {
  const shot = (file: string) => (process.env.HARDY_MER_SCREENSHOTS ? page.screenshot({ path: join(process.env.HARDY_MER_SCREENSHOTS, `${file}-${name}.png`) }) : undefined);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  // No network beyond the server that served the page.
  page.on('request', (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith('data:')) problems.push(`outside request: ${r.url()}`);
  });
  await page.setViewport({ width: 1100, height: 640 });
  await settled(page, () => page.goto(url + '/', { waitUntil: 'load' }));

  // Pick the third test utterance with the keyboard: focus the list, arrow down twice.
  const options = await page.$$eval('#example option', (os) => os.map((o) => (o as HTMLOptionElement).value));
  assert.ok(options.length > 3, `${options.length} test utterances listed`);
  await settled(page, async () => {
    await page.focus('#example');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
  });
  const picked = await page.$eval('#example', (s) => (s as HTMLSelectElement).value);
  assert.equal(picked, options[2]);
  const example = await (await fetch(`${url}/example?id=${encodeURIComponent(picked)}`)).json();

  // Audio + text (the page's default): the bars are the server's answer for this utterance.
  const at = await bars(page);
  const serverAt = (await served({ ...example, condition: 'at' })).utterances.find((u: any) => u.id === picked);
  assert.deepEqual(Object.values(at), serverAt.probs);
  assert.match(await page.$eval('#condition', (e) => e.textContent!), /^at /);
  const neighbours = await page.$$eval('#neighbours tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent)));
  assert.equal(neighbours.length, 10, '5 per modality given');
  assert.ok(neighbours.every((n) => n[1] !== '?' && n[1] !== ''), 'every neighbour has its label');
  assert.match(await page.$eval('#hardness', (e) => e.textContent!), /^0\.\d{3} /);

  // Text off, by keyboard: tab to the checkbox, Space.
  await settled(page, async () => {
    await page.focus('#modalities input[value="t"]');
    await page.keyboard.press(' ');
  });
  const a = await bars(page);
  const serverA = (await served({ ...example, condition: 'a' })).utterances.find((u: any) => u.id === picked);
  assert.deepEqual(Object.values(a), serverA.probs);
  assert.notDeepEqual(a, at, 'the prediction changed with the modality');
  assert.match(await page.$eval('#condition', (e) => e.textContent!), /^a /);
  await shot('serve-page');

  // The same in the browser: tfjs wasm in the page, against the server to 1e-4.
  await settled(page, async () => {
    await page.focus('#path input[value="browser"]');
    await page.keyboard.press(' ');
  });
  assert.equal(await page.$eval('#answered-by', (e) => (e as HTMLElement).dataset.path), 'browser');
  assert.match(await page.$eval('#answered-by', (e) => e.textContent!), /this browser: wasm/);
  const inBrowser = await bars(page);
  for (const [k, p] of Object.entries(inBrowser)) assert.ok(Math.abs(p - a[k]!) < 1e-4, `${k}: browser ${p} vs server ${a[k]}`);
  // Text back on: the browser path follows the toggle too.
  await settled(page, async () => {
    await page.focus('#modalities input[value="t"]');
    await page.keyboard.press(' ');
  });
  for (const [k, p] of Object.entries(await bars(page))) assert.ok(Math.abs(p - at[k]!) < 1e-4, `${k} (at): browser ${p} vs server ${at[k]}`);
  await shot('serve-page-browser');

  // A pasted request (one utterance, audio only), on the server, with text off.
  await settled(page, async () => {
    await page.focus('#path input[value="server"]');
    await page.keyboard.press(' ');
  });
  await settled(page, async () => {
    await page.focus('#modalities input[value="t"]');
    await page.keyboard.press(' ');
  });
  const one = { utterances: [{ id: 'mine', features: { a: example.dialogues[0].utterances[0].features.a } }] };
  await page.$eval('#paste-box', (d) => ((d as HTMLDetailsElement).open = true));
  await page.$eval('#paste', (t, text) => ((t as HTMLTextAreaElement).value = text as string), JSON.stringify(one));
  await settled(page, () => page.click('#paste-go'));
  const pastedBars = await bars(page);
  assert.deepEqual(Object.values(pastedBars), (await served({ ...one, condition: 'a' })).utterances[0].probs);
  assert.match(await page.$eval('#status', (e) => e.textContent!), /Predicted mine/);
  await settled(page, async () => {
    await page.focus('#path input[value="browser"]');
    await page.keyboard.press(' ');
  });
  for (const [k, p] of Object.entries(await bars(page))) assert.ok(Math.abs(p - pastedBars[k]!) < 1e-4, `${k} (pasted): browser ${p} vs server ${pastedBars[k]}`);
  assert.match(await page.$eval('#answered-by', (e) => e.textContent!), /every fold/);

  // A condition without a model is explained, not a crash.
  await settled(page, async () => {
    await page.focus('#modalities input[value="v"]');
    await page.keyboard.press(' ');
  });
  assert.match(await page.$eval('#status', (e) => e.textContent!), /No model was trained for condition 'av'/);
  assert.deepEqual(problems, []);
  await page.close();
}
