/**
 * Checkpoints on disk.
 *
 * A model directory holds `model.json` (format, architecture kind, ModelConfig, and the name,
 * shape and byte offset of every weight) and `weights.bin` (little-endian float32, concatenated in
 * manifest order). A training checkpoint directory adds `state.json` + `state.bin`: the epoch just
 * finished, the metrics history, the selection state, and named tensor sets (best weights so far,
 * each modality's best stage-1 expert, Adam moments).
 *
 * Atomicity: a checkpoint is written into a fresh temporary directory, renamed to
 * `<checkpoint folder>/epoch-NNNN`, and only then does its `latest.json` (written atomically) point
 * at it; older epoch directories are removed after. A kill at any moment leaves the previous
 * checkpoint intact and referenced.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../model/factory.ts';
import type { WeightData } from '../model/params.ts';
import type { MerModel, ModelConfig, ModelKind } from '../model/types.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { HardyError } from '../util/errors.ts';

export type TensorSet = Map<string, WeightData>;

interface ManifestEntry {
  set: string;
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
}

export const MODEL_FORMAT = 'hardy-mer/model';
const STATE_FORMAT = 'hardy-mer/train-state';

/** Writes `<dir>/<bin>` then `<dir>/<json>` = { ...header, tensors: manifest } (models, train state, feature pipelines). */
export function writeBundle(dir: string, json: string, bin: string, header: object, sets: Record<string, TensorSet>): void {
  const manifest: ManifestEntry[] = [];
  let total = 0;
  for (const [set, tensors] of Object.entries(sets)) {
    for (const [name, w] of tensors) {
      manifest.push({ set, name, shape: w.shape, offset: total });
      total += w.values.length;
    }
  }
  const buf = new Float32Array(total);
  let i = 0;
  for (const tensors of Object.values(sets)) for (const w of tensors.values()) buf.set(w.values, manifest[i++]!.offset);
  writeFileAtomic(join(dir, bin), new Uint8Array(buf.buffer));
  writeJsonAtomic(join(dir, json), { ...header, tensors: manifest });
}

export function readBundle(dir: string, json: string, bin: string, format: string): { header: Record<string, unknown>; sets: Record<string, TensorSet> } {
  const jpath = join(dir, json);
  const bpath = join(dir, bin);
  if (!existsSync(jpath) || !existsSync(bpath)) throw new HardyError(`${dir}: expected ${json} and ${bin}`);
  return parseBundle(readFileSync(jpath, 'utf8'), new Uint8Array(readFileSync(bpath)), { json: jpath, bin: bpath }, format);
}

/** A bundle from its two files' contents (`source` names them in errors); no file system, so the web page uses it too. */
export function parseBundle(headerText: string, bytes: Uint8Array, source: { json: string; bin: string }, format: string): { header: Record<string, unknown>; sets: Record<string, TensorSet> } {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(headerText) as Record<string, unknown>;
  } catch (err) {
    throw new HardyError(`${source.json}: not valid JSON (${(err as Error).message})`);
  }
  if (header.format !== format) throw new HardyError(`${source.json}: format '${String(header.format)}', expected '${format}'`);
  const data = new Float32Array(bytes.slice().buffer, 0, Math.floor(bytes.length / 4));
  const sets: Record<string, TensorSet> = {};
  for (const e of header.tensors as ManifestEntry[]) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset + n > data.length) {
      throw new HardyError(`${source.bin}: tensor ${e.name} needs elements ${e.offset}..${e.offset + n}, file has ${data.length}`);
    }
    (sets[e.set] ??= new Map()).set(e.name, { shape: e.shape, values: data.slice(e.offset, e.offset + n) });
  }
  return { header, sets };
}

export interface ModelFileHeader {
  format: typeof MODEL_FORMAT;
  version: 1;
  kind: ModelKind;
  config: ModelConfig;
  /** Free-form provenance (condition, fold, seed, selection protocol, epoch...). */
  meta?: Record<string, unknown>;
}

/** Writes `<dir>/model.json` + `<dir>/weights.bin` for `weights` (the model's own by default). */
export function saveModel(dir: string, model: MerModel, meta?: Record<string, unknown>, weights: TensorSet = model.params.getWeights()): void {
  const header: ModelFileHeader = { format: MODEL_FORMAT, version: 1, kind: model.kind, config: model.config, meta };
  writeBundle(dir, 'model.json', 'weights.bin', header, { weights });
}

/** Rebuilds a model from `saveModel`'s files. */
export function loadModel(dir: string): { model: MerModel; meta?: Record<string, unknown> } {
  const { header, sets } = readBundle(dir, 'model.json', 'weights.bin', MODEL_FORMAT);
  const h = header as unknown as ModelFileHeader;
  const model = createModel(h.kind, h.config, 0);
  model.params.setWeights(sets.weights ?? new Map(), join(dir, 'model.json'));
  const missing = model.params.names().filter((n) => !sets.weights?.has(n));
  if (missing.length) {
    model.dispose();
    throw new HardyError(`${join(dir, 'model.json')}: missing weights ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? '...' : ''}`);
  }
  return { model, meta: h.meta };
}

export interface Checkpoint<S> {
  epoch: number;
  state: S;
  sets: Record<string, TensorSet>;
  dir: string;
}

const pad = (e: number): string => String(e).padStart(4, '0');

/** Writes the model and training state after `epoch` and points `latest.json` at it. */
export function saveCheckpoint<S extends object>(root: string, epoch: number, model: MerModel, state: S, sets: Record<string, TensorSet>): void {
  mkdirSync(root, { recursive: true });
  const name = `epoch-${pad(epoch)}`;
  const tmp = join(root, `.${name}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  saveModel(tmp, model);
  writeBundle(tmp, 'state.json', 'state.bin', { format: STATE_FORMAT, version: 1, epoch, state }, sets);
  const final = join(root, name);
  rmSync(final, { recursive: true, force: true }); // a leftover of a run killed before latest.json moved
  renameSync(tmp, final);
  writeJsonAtomic(join(root, 'latest.json'), { epoch, dir: name });
  for (const d of readdirSync(root)) if (d !== name && d !== 'latest.json') rmSync(join(root, d), { recursive: true, force: true });
}

/** Whether the checkpoint folder `root` holds a finished checkpoint. */
export function hasCheckpoint(root: string): boolean {
  return existsSync(join(root, 'latest.json'));
}

/** The checkpoint `latest.json` points at, or undefined when there is none. */
export function loadCheckpoint<S>(root: string, model: MerModel): Checkpoint<S> | undefined {
  if (!hasCheckpoint(root)) return undefined;
  const { dir: name } = JSON.parse(readFileSync(join(root, 'latest.json'), 'utf8')) as { dir: string };
  const dir = join(root, name);
  const m = readBundle(dir, 'model.json', 'weights.bin', MODEL_FORMAT);
  const h = m.header as unknown as ModelFileHeader;
  if (h.kind !== model.kind || JSON.stringify(h.config) !== JSON.stringify(model.config)) {
    throw new HardyError(`${dir}/model.json: checkpoint is a ${h.kind} with another configuration than this run's ${model.kind}; use a fresh run directory`);
  }
  model.params.setWeights(m.sets.weights!, `${dir}/model.json`);
  const s = readBundle(dir, 'state.json', 'state.bin', STATE_FORMAT);
  return { epoch: s.header.epoch as number, state: s.header.state as S, sets: s.sets, dir };
}
