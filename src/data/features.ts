/**
 * Reads one modality's utterance-level vectors from a GCNet/MERTools feature folder:
 * `<dir>/<uid>.npy` ([d], or [T, d] frame-level, mean-pooled over T) or `<dir>/<uid>/` holding one
 * `.npy` per face track named with F or M (mean-pooled; the utterance's own speaker's faces when a
 * speaker is given, an empty folder or no matching face -> a zero vector).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { excerpt, HardyError, quoteId } from '../util/errors.ts';
import { readNpy } from './formats/npy.ts';
import { toFloat32 } from './formats/ndarray.ts';

export interface FeatureRequest {
  uid: string;
  /** 'F' | 'M' to pick that speaker's face files from a folder entry; '' uses every file. */
  speaker: string;
}

export interface FeatureTable {
  /** One vector per request, in order. */
  vectors: Float32Array[];
  dim: number;
  /** Uids whose folder held no (matching) face file and got a zero vector. */
  zeroFilled: string[];
}

/** Mean over all leading axes of a [.., T, d] array -> [d] (squeezing singleton axes first). */
export function poolToVector(data: Float32Array, shape: number[], file: string, uid: string): Float32Array | null {
  const dims = shape.filter((s) => s !== 1);
  if (shape.length === 0) throw new HardyError(`${file}: feature for utterance ${quoteId(uid)} is a scalar, expected [d] or [T, d]`);
  const d = dims.length === 0 ? 1 : dims[dims.length - 1]!;
  if (dims.length > 2) throw new HardyError(`${file}: feature for utterance ${quoteId(uid)} has shape (${shape.join(', ')}), expected [d] or [T, d]`);
  const T = d === 0 ? 0 : data.length / d;
  if (T === 0) return null; // [0, d]: no frames
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new HardyError(`${file}: feature for utterance ${quoteId(uid)} contains ${Number.isNaN(data[i]!) ? 'NaN' : 'Inf'} at element ${i}`);
  }
  if (T === 1) return data.length === d && data.byteOffset === 0 ? data : data.slice(0, d);
  const out = new Float32Array(d);
  const acc = new Float64Array(d);
  for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) acc[j]! += data[t * d + j]!;
  for (let j = 0; j < d; j++) out[j] = acc[j]! / T;
  return out;
}

function readVector(file: string, uid: string): { vec: Float32Array | null; shape: number[] } {
  const arr = readNpy(file);
  return { vec: poolToVector(toFloat32(arr, file), arr.shape, file, uid), shape: arr.shape };
}

/** Face file names carry the speaker as the last letter of the stem: `compress_F.npy`, `M.npy`. */
function faceSpeaker(name: string): string {
  const stem = name.replace(/\.npy$/i, '');
  return stem.slice(-1).toUpperCase();
}

export function readFeatureFolder(dir: string, requests: FeatureRequest[]): FeatureTable {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    entries = readdirSync(dir);
  } catch (err) {
    throw new HardyError(`${dir}: feature folder not found (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected one <uid>.npy or <uid>/ per utterance`);
  }
  const names = new Set(entries);
  let dim = -1;
  let dimFile = '';
  const vectors: Array<Float32Array | null> = [];
  const zeroFilled: string[] = [];
  const check = (vec: Float32Array, file: string, uid: string): void => {
    if (dim < 0) { dim = vec.length; dimFile = file; }
    else if (vec.length !== dim) {
      throw new HardyError(`${file}: feature for utterance ${quoteId(uid)} has dimension ${vec.length}, expected ${dim} like ${basename(dimFile)}`);
    }
  };
  for (const { uid, speaker } of requests) {
    const file = join(dir, `${uid}.npy`);
    const folder = join(dir, uid);
    const hasFile = names.has(`${uid}.npy`);
    const hasFolder = names.has(uid);
    if (hasFile && hasFolder) throw new HardyError(`${dir}: utterance ${quoteId(uid)} has two feature entries (.npy file and folder); expected exactly one`);
    if (!hasFile && !hasFolder) throw new HardyError(`${join(dir, `${excerpt(uid, 120)}.npy`)}: no feature for utterance ${quoteId(uid)} (expected <uid>.npy or a <uid>/ folder of face files)`);
    if (hasFile) {
      const { vec } = readVector(file, uid);
      if (vec) check(vec, file, uid);
      else zeroFilled.push(uid);
      vectors.push(vec);
      continue;
    }
    let faces: string[];
    try {
      faces = readdirSync(folder).filter((n) => n.toLowerCase().endsWith('.npy')).sort();
    } catch {
      throw new HardyError(`${folder}: feature entry for utterance ${quoteId(uid)} is neither a .npy file nor a folder of face files`);
    }
    const mine = speaker ? faces.filter((n) => faceSpeaker(n) === speaker.toUpperCase()) : faces;
    const pooled: Float32Array[] = [];
    for (const name of mine) {
      const f = join(folder, name);
      const { vec } = readVector(f, uid);
      if (!vec) continue;
      check(vec, f, uid);
      pooled.push(vec);
    }
    if (pooled.length === 0) {
      zeroFilled.push(uid);
      vectors.push(null);
    } else if (pooled.length === 1) vectors.push(pooled[0]!);
    else {
      const out = new Float32Array(dim);
      for (const p of pooled) for (let j = 0; j < dim; j++) out[j]! += p[j]! / pooled.length;
      vectors.push(out);
    }
  }
  if (dim < 0) throw new HardyError(`${dir}: no utterance has a non-empty feature; cannot tell the dimension`);
  return { vectors: vectors.map((v) => v ?? new Float32Array(dim)), dim, zeroFilled };
}
