#!/usr/bin/env node
// Entry point: the compiled JavaScript in dist/ (`npm run build`; `npm install` in a clone and
// `npm pack` run it). HARDY_MER_FROM_SOURCE=1 runs the TypeScript sources through tsx (a dev
// dependency) instead: the test runner sets it, so the tests never exercise a stale dist/.
import { existsSync } from 'node:fs';

let main;
if (process.env.HARDY_MER_FROM_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
} else {
  const compiled = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(compiled)) {
    process.stderr.write('hardy-mer: the compiled package (dist/) is missing; run `npm run build` (or `npm install`) in the package folder\n');
    process.exit(1);
  }
  ({ main } = await import(compiled.href));
}
process.exitCode = await main(process.argv.slice(2));
