/**
 * The layering of src/ as a test, so it cannot drift: data flows one way (README, "Code layout").
 * Each folder may import only the folders listed for it; the scan reads every static import, every
 * `export ... from` and every dynamic `import('...')` of every file under src/. The support code
 * (test/, bench/, scripts/) runs one way too: everything shared lives in test/support.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Folder -> the folders it may import from (besides itself). */
export const ALLOWED: Record<string, readonly string[]> = {
  util: [],
  engine: ['util'],
  data: ['util', 'engine'],
  model: ['util', 'engine', 'data'],
  curriculum: ['util', 'engine', 'data', 'model'],
  eval: ['util', 'engine', 'data', 'model', 'curriculum'],
  train: ['util', 'engine', 'data', 'model', 'curriculum', 'eval'],
  run: ['util', 'engine', 'data', 'model', 'curriculum', 'eval', 'train'],
  serve: ['util', 'engine', 'data', 'model', 'curriculum', 'eval', 'train', 'run'],
  cli: ['util', 'engine', 'data', 'model', 'curriculum', 'eval', 'train', 'run', 'serve'],
  // The package's public entry module (`import ... from 'hardy-mer'`), at the edge beside cli/.
  'index.ts': ['util', 'engine', 'data', 'model', 'curriculum', 'eval', 'train', 'run', 'serve', 'cli'],
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of `file`, as the src/ folder it lands in. */
export function importedFolders(file: string, text: string): Array<{ spec: string; folder: string }> {
  const out: Array<{ spec: string; folder: string }> = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith('.')) continue;
    const target = relative(SRC, resolve(dirname(file), spec));
    out.push({ spec, folder: target.startsWith('..') ? '(outside src)' : target.split(sep)[0]! });
  }
  return out;
}

test('the import scan sees static, re-export, side-effect and dynamic imports', () => {
  const f = join(SRC, 'train', 'x.ts');
  const text = `import { a } from '../eval/metrics.ts';\nimport type {\n  B,\n} from '../run/layout.ts';\nexport { c } from '../serve/server.ts';\nimport '../cli/main.ts';\nconst d = await import('../util/rng.ts');`;
  assert.deepEqual(
    importedFolders(f, text).map((i) => i.folder),
    ['eval', 'run', 'serve', 'cli', 'util'],
  );
});

test('every src/ folder imports only the layers below it', () => {
  const bad: string[] = [];
  const folders = new Set<string>();
  for (const file of files(SRC)) {
    const own = relative(SRC, file).split(sep)[0]!;
    folders.add(own);
    const allowed = ALLOWED[own];
    if (!allowed) {
      bad.push(`${relative(SRC, file)}: folder '${own}' has no place in the layering (add it to ALLOWED)`);
      continue;
    }
    for (const { spec, folder } of importedFolders(file, readFileSync(file, 'utf8'))) {
      if (folder !== own && !allowed.includes(folder)) bad.push(`${relative(SRC, file)} imports ${spec} (${own} -> ${folder})`);
    }
  }
  assert.ok(folders.has('run') && folders.has('eval') && folders.has('train'), 'the scan found the layers');
  assert.deepEqual(bad, []);
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every .ts/.mts/.mjs file under a folder of the repository (not node_modules). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === 'node_modules' || n === 'out') return [];
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mts|mjs)$/.test(n) ? [p] : [];
  });
}

/** The support area a repository path belongs to: test/support, test (the rest), bench, scripts, src. */
function area(path: string): string {
  const [top, second] = relative(ROOT, path).split(sep);
  return top === 'test' && second === 'support' ? 'test/support' : top!;
}

/**
 * Support code runs one way: test/support (fixtures, the fake predictor, the crash, fuzz and serve
 * load cores, the CLI helpers) imports only src/ and itself; bench/, scripts/ and the tests import
 * it and src/, never each other.
 */
const SUPPORT_ALLOWED: Record<string, readonly string[]> = {
  'test/support': ['src'],
  test: ['src', 'test/support'],
  bench: ['src', 'test/support'],
  scripts: ['src', 'test/support'],
};

test('support code imports one way: test/support <- test, bench, scripts', () => {
  const bad: string[] = [];
  let scanned = 0;
  for (const own of Object.keys(SUPPORT_ALLOWED)) {
    if (own === 'test/support') continue;
    for (const file of sources(join(ROOT, own))) {
      const from = area(file);
      scanned++;
      for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (!spec.startsWith('.')) continue;
        const to = area(resolve(dirname(file), spec));
        if (to !== from && !SUPPORT_ALLOWED[from]!.includes(to)) bad.push(`${relative(ROOT, file)} imports ${spec} (${from} -> ${to})`);
      }
    }
  }
  assert.ok(scanned > 100, `the scan found the support files (${scanned})`);
  assert.deepEqual(bad, []);
});

test('a test folder imports helpers only from itself and test/support', () => {
  const bad: string[] = [];
  const TEST = join(ROOT, 'test');
  // This file's own example imports (in a string) are not imports.
  for (const file of sources(TEST).filter((f) => f !== fileURLToPath(import.meta.url))) {
    const folder = relative(TEST, file).split(sep)[0]!;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      const target = relative(TEST, resolve(dirname(file), spec));
      if (!spec.startsWith('.') || target.startsWith('..')) continue;
      const to = target.split(sep)[0]!;
      if (to !== folder && to !== 'support') bad.push(`${relative(ROOT, file)} imports ${spec} (test/${folder} -> test/${to})`);
    }
  }
  assert.deepEqual(bad, []);
});
