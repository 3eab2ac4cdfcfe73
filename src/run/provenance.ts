/**
 * What produced a run, recorded in `run.json` and shown in the report: the tool's version and git
 * commit (when it runs from a checkout), Node, the engine's matrix-product path and threads, a
 * fingerprint of the data, and the command line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { fingerprintCorpus } from '../data/fingerprint.ts';
import type { Corpus } from '../data/types.ts';
import { initEngine } from '../engine/backend.ts';
import { VERSION } from '../util/version.ts';
import type { Provenance } from './run-file.ts';

/** Everything collectProvenance records (the run-file's Provenance with the fields a training run always has). */
export type CollectedProvenance = Provenance & Required<Pick<Provenance, 'node' | 'engine' | 'data' | 'command'>>;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function gitCommit(): string | undefined {
  if (!existsSync(join(ROOT, '.git'))) return undefined;
  const head = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return undefined;
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return head.stdout.trim() + (dirty.status === 0 && dirty.stdout.trim() ? '+dirty' : '');
}

export async function collectProvenance(corpus: Corpus, command = process.argv.slice(2)): Promise<CollectedProvenance> {
  const engine = await initEngine();
  const commit = gitCommit();
  return {
    version: VERSION,
    ...(commit ? { commit } : {}),
    node: process.version,
    engine: { matmul: engine.matmul, threads: engine.matmul === 'native' ? (engine.blasThreads ?? 1) : getThreadsCount(), ...(engine.blas ? { blas: engine.blas } : {}) },
    data: fingerprintCorpus(corpus),
    command,
  };
}
