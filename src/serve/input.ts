/**
 * `hardy-mer predict --input` readers. Every form becomes the same JSON shape `POST /predict`
 * accepts and goes through the same validator, so a file is accepted or refused exactly as the
 * equivalent HTTP body would be. Errors name the file, the line and the utterance id.
 *
 *   FILE.json    the POST /predict body
 *   FILE.jsonl   one utterance object per line ({"id", "speaker"?, "dialogue"?, "features"})
 *   FOLDER/      {a,t,v}/<uid>.npy (any subset of modalities per utterance), optional
 *                dialogues.json = {"<dialogue id>": ["<uid>", ...]} in conversation order;
 *                without it each utterance is its own dialogue, in uid order
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { excerpt, HardyError } from '../util/errors.ts';
import { readRegularText } from '../util/files.ts';
import { MODALITIES, type Modality } from '../data/types.ts';
import { readNpy } from '../data/formats/npy.ts';
import type { PredictRequest } from './predictor.ts';
import { validatePredictRequest, DEFAULT_MAX_UTTERANCES, type ValidateOptions } from './validate.ts';

export type InputOptions = Omit<ValidateOptions, 'source' | 'locate'>;

/** JSON.parse with the error placed as `line L column C` in `source`. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      where = ` at line ${line} column ${before.length - before.lastIndexOf('\n')}`;
    }
    throw new HardyError(`${source}: not valid JSON${where} (${excerpt(msg, 300)})`); // the parser quotes the input
  }
}

/** Runs a file-system call, turning its failure into a HardyError naming the path. */
function fsCall<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new HardyError(`${path}: cannot ${what} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

const readText = (path: string) => readRegularText(path, 'input file'); // never a FIFO or a device
const listDir = (path: string) => fsCall(path, 'list folder', () => readdirSync(path, { withFileTypes: true }));
const statOf = (path: string) => fsCall(path, 'stat input', () => statSync(path, { throwIfNoEntry: false }));

function readJsonl(path: string, opts: InputOptions): PredictRequest {
  const utterances: unknown[] = [];
  const lineOf: number[] = [];
  readText(path)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      utterances.push(parseJson(line, `${path}: line ${i + 1}`));
      lineOf.push(i + 1);
    });
  return validatePredictRequest(utterances, { ...opts, source: path, locate: (k) => `line ${lineOf[k]}` });
}

/** One numeric vector per file: shape [d] or [1, d]. */
function readVector(file: string): number[] {
  const arr = readNpy(file);
  if (arr.data instanceof Float32Array || arr.data instanceof Float64Array) {
    const rows = arr.shape.length === 2 ? arr.shape[0] : 1;
    if (arr.shape.length === 1 || (arr.shape.length === 2 && rows === 1)) return Array.from(arr.data);
  }
  throw new HardyError(`${file}: expected one numeric feature vector (shape [d] or [1, d]), got ${arr.dtype} of shape [${arr.shape.join(', ')}]`);
}

function readNpyFolder(dir: string, opts: InputOptions): PredictRequest {
  // uid -> modality -> file. Utterance ids come from file names only; nothing in dialogues.json
  // is ever used to build a path.
  const files = new Map<string, Partial<Record<Modality, string>>>();
  for (const entry of listDir(dir)) {
    if (entry.name.startsWith('.') || (entry.isFile() && entry.name === 'dialogues.json')) continue;
    if (!entry.isDirectory() || !(MODALITIES as readonly string[]).includes(entry.name)) {
      throw new HardyError(`${join(dir, entry.name)}: unexpected entry (expected folders a, t, v and an optional dialogues.json)`);
    }
    const m = entry.name as Modality;
    for (const f of listDir(join(dir, m))) {
      if (f.name.startsWith('.')) continue;
      if (!f.isFile() || extname(f.name) !== '.npy') throw new HardyError(`${join(dir, m, f.name)}: expected only <uid>.npy files in ${m}/`);
      const uid = basename(f.name, '.npy');
      const slot = files.get(uid) ?? {};
      slot[m] = join(dir, m, f.name);
      files.set(uid, slot);
    }
  }
  if (files.size === 0) throw new HardyError(`${dir}: no features found (expected ${dir}/a|t|v/<uid>.npy)`);
  const limit = opts.maxUtterances ?? DEFAULT_MAX_UTTERANCES;
  if (files.size > limit) throw new HardyError(`${dir}: ${files.size} utterances, more than the limit of ${limit}`);

  let order: { uid: string; dialogue?: string }[];
  const mapFile = join(dir, 'dialogues.json');
  if (statOf(mapFile)?.isFile()) {
    const map = parseJson(readText(mapFile), mapFile);
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new HardyError(`${mapFile}: expected {"<dialogue id>": ["<uid>", ...]}`);
    order = [];
    const listed = new Set<string>();
    for (const [dialogue, uids] of Object.entries(map)) {
      if (!Array.isArray(uids) || uids.some((u) => typeof u !== 'string')) throw new HardyError(`${mapFile}: dialogue '${dialogue}' must map to an array of utterance ids`);
      for (const uid of uids as string[]) {
        if (listed.has(uid)) throw new HardyError(`${mapFile}: utterance '${uid}' is listed twice`);
        if (!files.has(uid)) throw new HardyError(`${mapFile}: dialogue '${dialogue}' lists utterance '${uid}', which has no .npy file under ${dir}/a|t|v`);
        listed.add(uid);
        order.push({ uid, dialogue });
      }
    }
    const unlisted = [...files.keys()].filter((u) => !listed.has(u));
    if (unlisted.length) throw new HardyError(`${mapFile}: utterance '${unlisted[0]}' has features but is in no dialogue`);
  } else {
    order = [...files.keys()].sort().map((uid) => ({ uid }));
  }

  const utterances = order.map(({ uid, dialogue }) => {
    const slot = files.get(uid)!;
    const features = Object.fromEntries(MODALITIES.filter((m) => slot[m]).map((m) => [m, readVector(slot[m]!)]));
    return dialogue === undefined ? { id: uid, features } : { id: uid, dialogue, features };
  });
  const locate = (i: number) => {
    const slot = files.get(order[i].uid)!;
    return MODALITIES.filter((m) => slot[m]).map((m) => `${m}/${order[i].uid}.npy`).join(', ');
  };
  return validatePredictRequest(utterances, { ...opts, source: dir, locate });
}

/**
 * Reads `--input` into a validated PredictRequest: a folder is an npy folder, `.jsonl` is one
 * utterance per line, `.json` is a POST /predict body.
 */
export function readPredictInput(path: string, opts: InputOptions): PredictRequest {
  const st = statOf(path);
  if (!st) throw new HardyError(`${path}: input not found (expected FILE.json, FILE.jsonl or a folder of a|t|v/<uid>.npy)`);
  if (st.isDirectory()) return readNpyFolder(path, opts);
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl') return readJsonl(path, opts);
  if (ext === '.json') return validatePredictRequest(parseJson(readText(path), path), { ...opts, source: path });
  throw new HardyError(`${path}: unknown input type '${ext || 'no extension'}' (expected .json, .jsonl or a folder of a|t|v/<uid>.npy)`);
}
