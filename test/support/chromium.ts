/**
 * Debian's headless Chromium on a local HTML file, with a fresh profile each time: the DOM it built,
 * or a screenshot. Used by test/eval/report.test.ts and scripts/check-report.mjs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_CANDIDATES = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);

/** Path of a Chromium binary, or null when none is installed. */
export function findChromium(): string | null {
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Runs headless Chromium on a local HTML file with a fresh profile; returns stdout. */
function runChromium(chromium: string, htmlPath: string, extra: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'hardy-chromium-'));
  try {
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      ...extra,
      pathToFileURL(resolve(htmlPath)).href,
    ];
    const r = spawnSync(chromium, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`chromium exited with ${r.status}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM Chromium built for the page (serialised after load). */
export function dumpDom(chromium: string, htmlPath: string): string {
  return runChromium(chromium, htmlPath, ['--dump-dom']);
}

export function screenshot(chromium: string, htmlPath: string, pngPath: string, size = '1280,5200'): void {
  runChromium(chromium, htmlPath, ['--hide-scrollbars', `--window-size=${size}`, `--screenshot=${resolve(pngPath)}`]);
  if (!existsSync(pngPath)) throw new Error(`chromium wrote no screenshot to ${pngPath}`);
}
