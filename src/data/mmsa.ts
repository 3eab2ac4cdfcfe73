/**
 * MMSA layout (README, "MMSA pickles"): one pickle `{train|valid|test: {id, text, audio, vision,
 * audio_lengths?, vision_lengths?, regression_labels, ...}}` with frame-level arrays [N, T, d]; ids,
 * lengths and labels may be NumPy arrays or Python lists.
 * Utterance vector = mean over the valid frames: the first `lengths[i]` frames when lengths are
 * given, and never a frame holding -inf (MMSA marks missing audio frames with -inf; the same rule
 * is applied to every modality). NaN or +inf inside the valid frames is corrupt data, not a
 * marker: it is refused with the utterance id. Frames past `lengths[i]` are padding and ignored.
 * An utterance whose valid frames are all -inf gets a zero vector (that modality is absent),
 * counted in the corpus notes.
 * Utterances are grouped into videos by the id prefix (`<video>$_$<clip>` or `<video>_<clip>`).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeValue, HardyError, quoteId } from '../util/errors.ts';
import { readPickle } from './formats/pickle.ts';
import { isNdArray, type NdArray } from './formats/ndarray.ts';
import { MODALITIES, type Corpus, type Dialogue, type Modality } from './types.ts';

export interface MmsaOptions {
  /** Pickle inside a folder; default the first of aligned_50.pkl, unaligned_50.pkl, unaligned_39.pkl. */
  mmsaFile?: string;
}

const KEYS: Record<Modality, { data: string; lengths: string }> = {
  a: { data: 'audio', lengths: 'audio_lengths' },
  t: { data: 'text', lengths: 'text_lengths' },
  v: { data: 'vision', lengths: 'vision_lengths' },
};

/** `<video>$_$<clip>` (MMSA) or `<video>_<clip>` (the last underscore). */
export function videoOf(id: string): string {
  const k = id.lastIndexOf('$_$');
  if (k >= 0) return id.slice(0, k);
  const j = id.lastIndexOf('_');
  return j > 0 ? id.slice(0, j) : id;
}

function numeric(x: unknown, file: string, what: string): NdArray {
  if (!isNdArray(x) || Array.isArray(x.data)) throw new HardyError(`${file}: ${what} is not a numeric NumPy array`);
  return x;
}

/**
 * A per-sample vector that MMSA's own scripts store either as a NumPy array or as a Python list
 * (data/getLengths.py writes `*_lengths` as lists of ints; hand-made pickles often hold labels as
 * lists of floats). Either way: N numbers, or an error naming the first entry that is not one.
 */
function numbers(x: unknown, file: string, what: string, N: number): ArrayLike<number> {
  let out: ArrayLike<number>;
  if (isNdArray(x) && !Array.isArray(x.data)) out = x.data;
  else if (Array.isArray(x) || (isNdArray(x) && Array.isArray(x.data))) {
    const items = (Array.isArray(x) ? x : x.data) as unknown[];
    out = items.map((v, i) => {
      const n = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? NaN : v;
      if (typeof n !== 'number') throw new HardyError(`${file}: ${what}[${i}] is ${v === null ? 'None' : typeof v}, expected a number`);
      return n;
    });
  } else throw new HardyError(`${file}: ${what} is neither a NumPy array nor a list of numbers`);
  if (out.length !== N) throw new HardyError(`${file}: ${what} has ${out.length} values for ${N} ids`);
  return out;
}

/** Mean over valid frames of sample i of a [N, T, d] (or [N, d]) array; `where` names it in errors. */
function poolSample(arr: NdArray, i: number, length: number | undefined, where: () => string): Float32Array {
  const data = arr.data as Float32Array | Float64Array;
  const T = arr.shape.length === 3 ? arr.shape[1]! : 1;
  const d = arr.shape[arr.shape.length - 1]!;
  const limit = length === undefined ? T : Math.min(T, length);
  const acc = new Float64Array(d);
  let count = 0;
  const base = i * T * d;
  for (let t = 0; t < limit; t++) {
    const off = base + t * d;
    let missing = false;
    for (let j = 0; j < d; j++) {
      const x = data[off + j]!;
      if (Number.isNaN(x) || x === Infinity) throw new HardyError(`${where()} has ${Number.isNaN(x) ? 'NaN' : '+Inf'} at frame ${t}, element ${j} (only -inf may mark a missing frame)`);
      if (x === -Infinity) missing = true;
    }
    if (missing) continue;
    for (let j = 0; j < d; j++) acc[j]! += data[off + j]!;
    count++;
  }
  const out = new Float32Array(d);
  if (count > 0) for (let j = 0; j < d; j++) out[j] = acc[j]! / count;
  return out;
}

export function loadMmsa(path: string, options: MmsaOptions = {}): Corpus {
  let file = path;
  if (statSync(path).isDirectory()) {
    const names = options.mmsaFile ? [options.mmsaFile] : ['aligned_50.pkl', 'unaligned_50.pkl', 'unaligned_39.pkl'];
    const found = names.map((n) => join(path, n)).find((f) => existsSync(f));
    if (!found) throw new HardyError(`${path}: no MMSA pickle found (expected ${names.join(' or ')})`);
    file = found;
  }
  const top = readPickle(file);
  if (!(top instanceof Map)) throw new HardyError(`${file}: expected a dict {train, valid, test}`);
  const dialogues: Dialogue[] = [];
  const dims = { a: -1, t: -1, v: -1 } as Record<Modality, number>;
  const seen = new Set<string>();
  let zeroFrames = 0;
  for (const split of ['train', 'valid', 'test'] as const) {
    const part = top.get(split);
    if (part === undefined) continue;
    if (!(part instanceof Map)) throw new HardyError(`${file}: '${split}' is not a dict`);
    const idsRaw = part.get('id');
    const idList = Array.isArray(idsRaw) ? idsRaw : isNdArray(idsRaw) ? Array.from(idsRaw.data as ArrayLike<unknown>) : null;
    if (!idList) throw new HardyError(`${file}: '${split}' has no 'id' list`);
    // never String(x) on anything but a string or number: a list of shared references would expand exponentially
    const ids = idList.map((x, i) => {
      if (typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x))) return String(x);
      throw new HardyError(`${file}: ${split}.id[${i}] is ${describeValue(x)}, expected a string`);
    });
    const N = ids.length;
    const labels = numbers(part.get('regression_labels'), file, `${split}.regression_labels`, N);
    const arrays = {} as Record<Modality, NdArray>;
    const lengths = {} as Record<Modality, ArrayLike<number> | undefined>;
    for (const m of MODALITIES) {
      const arr = numeric(part.get(KEYS[m].data), file, `${split}.${KEYS[m].data}`);
      if ((arr.shape.length !== 3 && arr.shape.length !== 2) || arr.shape[0] !== N) {
        throw new HardyError(`${file}: ${split}.${KEYS[m].data} has shape (${arr.shape.join(', ')}), expected [${N}, T, d]`);
      }
      const d = arr.shape[arr.shape.length - 1]!;
      if (dims[m] >= 0 && dims[m] !== d) throw new HardyError(`${file}: ${split}.${KEYS[m].data} has dimension ${d}, expected ${dims[m]} like the other splits`);
      dims[m] = d;
      arrays[m] = arr;
      const len = part.get(KEYS[m].lengths);
      lengths[m] = len === undefined || len === null ? undefined : numbers(len, file, `${split}.${KEYS[m].lengths}`, N);
    }
    const byVideo = new Map<string, Dialogue>();
    for (let i = 0; i < N; i++) {
      const id = ids[i]!;
      if (seen.has(id)) throw new HardyError(`${file}: utterance id ${quoteId(id)} appears twice`);
      seen.add(id);
      const label = labels[i]!;
      if (!Number.isFinite(label) || label < -3 || label > 3) throw new HardyError(`${file}: utterance ${quoteId(id)} has label ${label}, expected a sentiment score in [-3, 3]`);
      const features = {} as Record<Modality, Float32Array>;
      for (const m of MODALITIES) {
        const len = lengths[m]?.[i];
        if (len !== undefined && !(Number.isInteger(len) && len >= 0)) {
          throw new HardyError(`${file}: utterance ${quoteId(id)} has ${split}.${KEYS[m].lengths} = ${len}, expected a whole number of frames >= 0`);
        }
        features[m] = poolSample(arrays[m], i, len, () => `${file}: utterance ${quoteId(id)} (${split}.${KEYS[m].data})`);
        if (features[m].every((x) => x === 0)) zeroFrames++;
      }
      const vid = videoOf(id);
      let dlg = byVideo.get(vid);
      if (!dlg) {
        dlg = { id: vid, split, utterances: [] };
        byVideo.set(vid, dlg);
        dialogues.push(dlg);
      }
      dlg.utterances.push({ id, speaker: '', label, features });
    }
  }
  if (dialogues.length === 0) throw new HardyError(`${file}: no train/valid/test data`);
  const notes = zeroFrames ? [`${zeroFrames} modality vector(s) had no valid frame (zero vector)`] : [];
  return { dataset: 'mmsa', task: 'regression', numClasses: 1, classNames: [], dims, dialogues, source: file, labelFile: file, notes };
}
