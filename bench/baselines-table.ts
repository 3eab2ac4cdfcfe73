/**
 * `node --import tsx bench/baselines-table.ts [OUT]` (default bench/out/compare): the table of
 * bench/baselines-compare.sh from the run folders `<method>-s<seed>` whose results.json exists.
 * Per method: WA and UA per condition and their six-condition average, mean over folds within a
 * seed, then mean ± std over the seeds that finished (n given). Markdown on stdout.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable, mean } from './support.ts';

const out = process.argv[2] ?? 'bench/out/compare';
const ORDER = ['momke', 'mmin', 'gcnet', 'no-curriculum', 'hardy'];
const CONDS = ['a', 't', 'v', 'at', 'av', 'tv'];
type Results = { conditions: Record<string, { mean: Record<string, number> }>; average: Record<string, number> };

const bySeed = new Map<string, Results[]>();
for (const name of readdirSync(out).sort()) {
  const m = /^(.+)-s(\d+)$/.exec(name);
  const file = join(out, name, 'results.json');
  if (!m || !existsSync(file)) continue;
  bySeed.set(m[1]!, [...(bySeed.get(m[1]!) ?? []), JSON.parse(readFileSync(file, 'utf8')) as Results]);
}
const stat = (xs: number[]): string => {
  const mu = mean(xs);
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / (xs.length - 1)) : NaN;
  return `${(100 * mu).toFixed(2)}${Number.isFinite(sd) ? ` ± ${(100 * sd).toFixed(2)}` : ''}`;
};
const cols = [...CONDS.map((c) => `{${c.split('').join(',')}}`), 'Avg'];
const rows = ORDER.filter((m) => bySeed.has(m)).map((method) => {
  const runs = bySeed.get(method)!;
  const cell = (get: (r: Results) => number | undefined): string => {
    const xs = runs.map(get).filter((x): x is number => x !== undefined);
    return xs.length ? stat(xs) : '—';
  };
  const cells = [...CONDS.map((c) => (r: Results) => r.conditions[c]?.mean), (r: Results) => r.average].flatMap((g) => [cell((r) => g(r)?.WA), cell((r) => g(r)?.UA)]);
  return [method, runs.length, ...cells];
});
console.log(markdownTable(['method', 'seeds', ...cols.flatMap((c) => [`${c} WA`, `${c} UA`])], rows));
