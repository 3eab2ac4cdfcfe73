// Runs every test/**/*.test.ts through Node's built-in runner with tsx as the TypeScript loader.
// Node 20's `--test` does not expand globs itself, so the files are collected here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = collect('test');
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
// HARDY_MER_FROM_SOURCE: the tests that start bin/hardy-mer.js run the sources, never a stale dist/.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, HARDY_MER_FROM_SOURCE: '1' },
});
process.exit(r.status ?? 1);
