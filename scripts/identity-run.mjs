// Behaviour fingerprint of a fixed-seed run on the `tiny` synthetic preset, for refactors that must
// not change a number: synth tiny -> train hardy, momke (fixed protocol) and hardy (random protocol)
// with one short config and fixed seeds -> `eval` re-scoring. Prints (or writes with --out FILE) one
// JSON object: every results.json and eval.json byte for byte, and a SHA-256 of every saved model,
// feature pipeline, index and hardness file. Compare two commits with `--compare BASELINE.json`.
//   node scripts/identity-run.mjs --out /tmp/before.json        (on the old commit)
//   node scripts/identity-run.mjs --compare /tmp/before.json    (on the new one; exits 1 on any difference)
// `--jobs N [--threads T]` trains through the local pool, `--queue URL` through queue workers
// (started by the caller), to check that a run's numbers do not depend on how it was executed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { out: { type: 'string' }, compare: { type: 'string' }, keep: { type: 'boolean' }, jobs: { type: 'string' }, threads: { type: 'string' }, queue: { type: 'string' } } });
const bin = join(import.meta.dirname, '..', 'bin', 'hardy-mer.js');
const root = mkdtempSync(join(tmpdir(), 'hardy-identity-'));

function cli(...argv) {
  const r = spawnSync(process.execPath, [bin, ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hardy-mer ${argv.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

const config = join(root, 'config.json');
writeFileSync(
  config,
  JSON.stringify({
    model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 },
    teacher: { epochs: 4, stage1Epochs: 2 },
    student: { epochs: 4, stage1Epochs: 2 },
    momke: { epochs: 4, stage1Epochs: 2 },
    finetune: { epochs: 2, batchSize: 8 },
    optim: { lr: 0.003, batchSize: 4 },
  }),
);
const data = join(root, 'data');
cli('synth', '--out', data, '--preset', 'tiny', '--seed', '7');

const arms = {
  hardy: ['--method', 'hardy', '--conditions', 'a,at,tv', '--folds', '1,2', '--seeds', '1,2'],
  momke: ['--method', 'momke', '--conditions', 'a,at', '--folds', '1,2', '--seeds', '3'],
  'hardy-random': ['--method', 'hardy', '--protocol', 'random:0.5', '--folds', '1', '--seeds', '5'],
};
const out = {};
const hashed = /(weights\.bin|features\.bin|hardness\.json|index-[atv]\.(json|bin)|test-masks\.json)$/;
const walk = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
for (const [name, flags] of Object.entries(arms)) {
  const run = join(root, name);
  const how = [...(args.jobs ? ['--jobs', args.jobs] : []), ...(args.threads ? ['--threads', args.threads] : []), ...(args.queue ? ['--queue', args.queue] : [])];
  cli('train', '--data', data, '--config', config, ...flags, ...how, '--out', run, '--quiet', '--json');
  cli('eval', '--run', run, '--json');
  const files = {};
  for (const f of walk(run).sort()) if (hashed.test(f)) files[relative(run, f)] = createHash('sha256').update(readFileSync(f)).digest('hex');
  out[name] = { results: readFileSync(join(run, 'results.json'), 'utf8'), eval: readFileSync(join(run, 'eval.json'), 'utf8'), files };
}
if (!args.keep) rmSync(root, { recursive: true, force: true });
const text = JSON.stringify(out, null, 1) + '\n';
if (args.out) writeFileSync(args.out, text);
if (args.compare) {
  const base = JSON.parse(readFileSync(args.compare, 'utf8'));
  const diffs = [];
  for (const arm of Object.keys({ ...base, ...out })) {
    for (const k of ['results', 'eval']) if (base[arm]?.[k] !== out[arm]?.[k]) diffs.push(`${arm}: ${k}.json differs`);
    const a = base[arm]?.files ?? {};
    const b = out[arm]?.files ?? {};
    for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[f] !== b[f]) diffs.push(`${arm}: ${f} ${a[f] ? (b[f] ? 'differs' : 'missing') : 'new'}`);
  }
  if (diffs.length) {
    process.stderr.write(`identity: ${diffs.length} difference(s)\n${diffs.join('\n')}\n`);
    process.exit(1);
  }
  process.stderr.write(`identity: byte-identical to ${args.compare} (${Object.keys(out).length} runs)\n`);
} else if (!args.out) process.stdout.write(text);
