/**
 * The web page's files (page/): index.html, style.css and app.js with its lazily loaded chunk (the
 * in-browser predictor with TensorFlow.js), bundled from page/*.ts by esbuild.
 *
 * The published package ships them bundled: `npm run build` calls `writePageBundle` into
 * dist/serve/page/, and the server reads that folder (no esbuild at run time, nothing for a user to
 * build). Run from the sources (tests, development), the server bundles in memory when it starts,
 * so the page is never older than its code. esbuild is a development dependency only.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the page lives beside this module: src/serve/page (sources) or dist/serve/page (bundled). */
const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const STATIC = ['index.html', 'style.css'];

/** Bundles page/app.ts (sources only). */
async function bundle(): Promise<Map<string, Buffer>> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: { app: join(PAGE_DIR, 'app.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    outdir: '/page',
    logLevel: 'silent',
    plugins: [
      {
        // The page's modules import code that, elsewhere, reads files (checkpoint.ts, features.ts,
        // masks.ts); the page calls none of it, so Node's built-ins become empty stand-ins.
        name: 'node-builtins-stub',
        setup(b) {
          b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
          b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
        },
      },
    ],
  });
  const files = new Map(out.outputFiles.map((f) => [f.path.slice('/page/'.length), Buffer.from(f.contents)]));
  for (const name of STATIC) files.set(name, readFileSync(join(PAGE_DIR, name)));
  return files;
}

/** The page's files by name: read from the bundled folder, or bundled now from the sources. */
export async function pageFiles(): Promise<Map<string, Buffer>> {
  if (existsSync(join(PAGE_DIR, 'app.ts'))) return bundle();
  if (!existsSync(join(PAGE_DIR, 'app.js'))) throw new Error(`${PAGE_DIR}: the page was not bundled (npm run build)`);
  return new Map(readdirSync(PAGE_DIR).map((name) => [name, readFileSync(join(PAGE_DIR, name))]));
}

/** `npm run build`: the bundled page into `outDir` (dist/serve/page). */
export async function writePageBundle(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  for (const [name, data] of await bundle()) writeFileSync(join(outDir, name), data);
}
