/**
 * The layering of src/ as a test, so it cannot drift: data flows one way (README, "Code layout").
 * Each folder may import only the folders listed for it; the scan reads every static import, every
 * `export ... from` and every dynamic `import('...')` of every file under src/.
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
