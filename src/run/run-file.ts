/**
 * `RUNDIR/run.json`: what a run was asked to do and what it needs to know of its corpus, written
 * first so that a folder holding it belongs to that run; and the claim of a folder for a run.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataFingerprint } from '../data/fingerprint.ts';
import type { LoadOptions } from '../data/index.ts';
import { MODALITIES, type Corpus, type DatasetName, type Modality } from '../data/types.ts';
import type { RunConfig } from '../train/config.ts';
import { HARDY_METHODS, isHardyMethod, type HardyMethod, type MethodSpec } from '../train/methods.ts';
import { isAtomicTemp, writeJsonAtomic } from '../util/atomic.ts';
import { HardyError } from '../util/errors.ts';
import { isLockFile } from '../util/lock.ts';
import { RunLayout } from './layout.ts';

/** The part of a request that must match when a run is resumed. */
export interface RunIdentity {
  dataset: DatasetName;
  /** Absolute corpus path. */
  data: string;
  load: LoadOptions;
  method: HardyMethod;
  seeds: number[];
  config: RunConfig;
}

/** What predict/serve/report need to know of the corpus a run was trained on. */
export interface CorpusInfo {
  /**
   * Largest |value| of each modality's raw features in the corpus: predict and serve refuse
   * inputs far outside it (serve/validate.ts `featureLimits`). Absent in runs made before it.
   */
  featureAbsMax?: Record<Modality, number>;
  task: Corpus['task'];
  numClasses: number;
  classNames: string[];
  dims: Corpus['dims'];
}

/**
 * What produced a run. Runs trained since issue 16 record everything (see provenance.ts,
 * collectProvenance); a folder rebuilt by `hardy-mer import` records only the version and its source.
 */
export interface Provenance {
  /** hardy-mer's version (package.json). */
  version: string;
  /** Set when the run folder was rebuilt by `hardy-mer import` from this exported file. */
  importedFrom?: string;
  /** `git rev-parse HEAD` of the checkout hardy-mer runs from, `+dirty` with local changes; absent outside git. */
  commit?: string;
  node?: string;
  /** Matrix-product path (native = OpenBLAS addon, xnnpack, stock) and its threads. */
  engine?: { matmul: string; threads: number; blas?: string };
  /** Fingerprint of the labels and features the run was trained on (--resume refuses changed data). */
  data?: DataFingerprint;
  /** The command line, as typed (after `hardy-mer`). */
  command?: string[];
}

/** `version` is the file format's; the tool's is `provenance.version`. */
export interface RunFile {
  identity: RunIdentity;
  corpus: CorpusInfo;
  /** Absent in run folders written before it was recorded. */
  provenance?: Provenance;
  createdAt: string;
  version: 1;
}

export function runIdentity(r: { data: string; load?: LoadOptions; method: HardyMethod; seeds: number[]; config: RunConfig }, dataset: DatasetName): RunIdentity {
  return { dataset, data: resolve(r.data), load: r.load ?? {}, method: r.method, seeds: r.seeds, config: r.config };
}

export function readRunFile(runDir: string): RunFile {
  const path = new RunLayout(runDir).runFile;
  if (!existsSync(path)) throw new HardyError(`${runDir}: not a hardy-mer run folder (no run.json)`);
  return JSON.parse(readFileSync(path, 'utf8')) as RunFile;
}

/** A run read to use its trained models (predict, serve, export): its method checked, and the model kind it deploys. */
export interface DeployedRun {
  run: RunFile;
  method: HardyMethod;
  /** The model each unit deploys: the student, or the baseline's own model. */
  kind: MethodSpec['model'];
  layout: RunLayout;
}

export function readDeployedRun(runDir: string): DeployedRun {
  const run = readRunFile(runDir);
  const method = run.identity.method;
  const layout = new RunLayout(runDir);
  if (!isHardyMethod(method)) throw new HardyError(`${layout.runFile}: unknown method '${method}'`);
  return { run, method, kind: HARDY_METHODS[method].model, layout };
}

function featureAbsMax(corpus: Corpus): Record<Modality, number> {
  const out = { a: 0, t: 0, v: 0 };
  for (const d of corpus.dialogues) for (const u of d.utterances) for (const m of MODALITIES) for (const x of u.features[m]) out[m] = Math.max(out[m], Math.abs(x));
  return out;
}

/**
 * Refuse to mix runs: an existing folder is reused only with `resume`, the same request and the
 * same data (labels and features as fingerprinted when the run began).
 */
export function claimRunDir(layout: RunLayout, want: RunIdentity, corpus: Corpus, resume: boolean, provenance: Provenance & { data: DataFingerprint }): void {
  const dir = layout.root;
  if (existsSync(layout.runFile)) {
    if (!resume) {
      throw new HardyError(`${dir}: already holds a run; pass --resume to continue it, or choose another --out`);
    }
    const have = readRunFile(dir);
    if (JSON.stringify(have.identity) !== JSON.stringify(want)) {
      throw new HardyError(`${dir}: --resume asked for a different run than the one saved there (dataset, data, method, seeds and config must match ${layout.runFile})`);
    }
    const before = have.provenance?.data;
    if (before && (before.labelSha256 !== provenance.data.labelSha256 || before.featureSha256 !== provenance.data.featureSha256)) {
      throw new HardyError(`${want.data}: the labels or features changed since the run in ${dir} began (data fingerprint in ${layout.runFile}); resuming would mix two corpora`);
    }
    if (!existsSync(layout.configFile)) writeJsonAtomic(layout.configFile, want.config);
    return;
  }
  const entries = (existsSync(dir) ? readdirSync(dir) : []).filter((name) => !isLockFile(name));
  if (entries.some((name) => !isAtomicTemp(name))) {
    throw new HardyError(`${dir}: folder is not empty and holds no hardy-mer run; choose another --out`);
  }
  // A run killed while writing its first file leaves only that file's temporary copy: still ours to claim.
  for (const name of entries) rmSync(join(dir, name), { force: true });
  const info: CorpusInfo = { task: corpus.task, numClasses: corpus.numClasses, classNames: corpus.classNames, dims: corpus.dims, featureAbsMax: featureAbsMax(corpus) };
  const run: RunFile = { identity: want, corpus: info, provenance, createdAt: new Date().toISOString(), version: 1 };
  writeJsonAtomic(layout.runFile, run); // first: from here on the folder is this run's, and --resume can continue it
  writeJsonAtomic(layout.configFile, want.config);
}
