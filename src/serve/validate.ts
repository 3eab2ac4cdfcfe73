/**
 * One validator for every way a prediction request arrives (HTTP body, CLI `--input` file), so a
 * request is accepted or refused for the same reason everywhere. It never touches the file system:
 * a request is data only, never a path.
 *
 * Accepted shapes (JSON):
 *   { "condition"?: "at", "dialogues": [ { "id": "d1", "utterances": [ U, ... ] }, ... ] }
 *   { "condition"?: "at", "utterances": [ U, ... ] }   // flat: grouped by U.dialogue, else one dialogue each
 *   [ U, ... ]                                          // same as { "utterances": [...] }
 * with U = { "id": "u1", "speaker"?: "F", "dialogue"?: "d1", "features": { "a"?: [..], "t"?: [..], "v"?: [..] } }.
 * Without `condition`, each utterance uses the model of the modalities it supplies; with it, every
 * utterance must supply at least those modalities and the others are ignored.
 */
import { HardyError } from '../util/errors.ts';
import { MODALITIES, type Condition, type Modality } from '../data/types.ts';
import type { PredictRequest, RequestDialogue, RequestUtterance } from './predictor.ts';

/** A request refused for a reason the sender can fix (HTTP 400). */
export class InvalidRequestError extends HardyError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

export interface ValidateOptions {
  /** Feature length per modality the models expect. */
  dims: Record<Modality, number>;
  /** Conditions that have a trained model. */
  conditions: readonly Condition[];
  /** Largest |value| accepted per modality (`featureLimits`); absent = any finite float32. */
  limits?: Record<Modality, number>;
  /** Default 4096. */
  maxUtterances?: number;
  /** Prefix for every message, e.g. the input file name. */
  source?: string;
  /** Names where the i-th utterance of a flat list came from, e.g. `line 7` for JSONL. */
  locate?: (index: number) => string;
}

export const DEFAULT_MAX_UTTERANCES = 4096;

/**
 * Feature range accepted by predict/serve. Finite but huge features (from about 1e21) overflow
 * float32 inside the model and come out as NaN, and attention spreads the NaN to every utterance
 * of the dialogue; an answer is never computed from such input. A run records the largest |value|
 * of each modality in its corpus; inputs up to FEATURE_RANGE_FACTOR times that (at least 1) are
 * accepted, enough for any re-extraction of similar data, and never more than FEATURE_ABS_LIMIT.
 * Runs made before the statistics were recorded accept |value| <= FEATURE_FALLBACK_LIMIT.
 */
export const FEATURE_RANGE_FACTOR = 1000;
export const FEATURE_ABS_LIMIT = 1e9;
export const FEATURE_FALLBACK_LIMIT = 1e6;

export function featureLimits(absMax: Record<Modality, number> | undefined): Record<Modality, number> {
  const limit = (m: Modality): number =>
    absMax && Number.isFinite(absMax[m]) ? Math.min(FEATURE_ABS_LIMIT, FEATURE_RANGE_FACTOR * Math.max(1, absMax[m])) : FEATURE_FALLBACK_LIMIT;
  return { a: limit('a'), t: limit('t'), v: limit('v') };
}
const MAX_ID_LENGTH = 256;
const TOP_KEYS = ['condition', 'dialogues', 'utterances'];
const DIALOGUE_KEYS = ['id', 'utterances'];
const UTTERANCE_KEYS = ['id', 'speaker', 'dialogue', 'features'];

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const kind = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);

/**
 * Parses a condition name such as `at` or `ta` into the canonical `Condition` (`at`).
 * Throws InvalidRequestError naming the bad letter.
 */
export function parseCondition(name: unknown, where = 'condition'): Condition {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidRequestError(`${where}: expected a non-empty string of modalities such as "at", got ${kind(name)}`);
  }
  const set = new Set<Modality>();
  for (const ch of name) {
    if (!(MODALITIES as readonly string[]).includes(ch)) {
      throw new InvalidRequestError(`${where}: unknown modality '${ch}' in "${name}" (expected letters from a, t, v)`);
    }
    set.add(ch as Modality);
  }
  return MODALITIES.filter((m) => set.has(m)).join('') as Condition;
}

function checkKeys(obj: Json, allowed: string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      throw new InvalidRequestError(`${where}: unknown field '${k}' (allowed: ${allowed.join(', ')})`);
    }
  }
}

function checkId(x: unknown, where: string, what: string): string {
  if (typeof x !== 'string' || x.length === 0 || x.length > MAX_ID_LENGTH) {
    throw new InvalidRequestError(`${where}: '${what}' must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${kind(x)}`);
  }
  return x;
}

/** Copies one modality's values into a Float32Array, refusing non-numbers, NaN/Inf and |values| above `limit`. */
function readVector(x: unknown, m: Modality, dim: number, limit: number, where: string): Float32Array {
  if (!Array.isArray(x)) throw new InvalidRequestError(`${where}: modality '${m}' must be an array of numbers, got ${kind(x)}`);
  if (x.length !== dim) throw new InvalidRequestError(`${where}: modality '${m}' has ${x.length} values, expected ${dim}`);
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const v = x[i];
    if (typeof v !== 'number') throw new InvalidRequestError(`${where}: modality '${m}' value ${i} is ${kind(v)}, expected a number`);
    out[i] = v;
    // Checked after the float32 cast: 1e39 is finite as a double but Infinity as float32.
    if (!Number.isFinite(out[i])) throw new InvalidRequestError(`${where}: modality '${m}' value ${i} is ${v}; features must be finite`);
    if (Math.abs(v) > limit) throw new InvalidRequestError(`${where}: modality '${m}' value ${i} is ${v}, outside the range this run accepts (|value| <= ${limit}, from its training features)`);
  }
  return out;
}

interface Context {
  opts: ValidateOptions;
  forced?: Condition;
  seen: Set<string>;
  count: number;
}

function readUtterance(raw: unknown, ctx: Context, where: string): RequestUtterance & { dialogue?: string } {
  if (!isObject(raw)) throw new InvalidRequestError(`${where}: expected an utterance object, got ${kind(raw)}`);
  checkKeys(raw, UTTERANCE_KEYS, where);
  const id = checkId(raw.id, where, 'id');
  where = `${where}: utterance '${id}'`;
  if (ctx.seen.has(id)) throw new InvalidRequestError(`${where}: duplicate utterance id`);
  ctx.seen.add(id);
  if (++ctx.count > (ctx.opts.maxUtterances ?? DEFAULT_MAX_UTTERANCES)) {
    throw new InvalidRequestError(`${where}: too many utterances (at most ${ctx.opts.maxUtterances ?? DEFAULT_MAX_UTTERANCES} per request)`);
  }
  if (raw.speaker !== undefined && typeof raw.speaker !== 'string') {
    throw new InvalidRequestError(`${where}: 'speaker' must be a string, got ${kind(raw.speaker)}`);
  }
  const dialogue = raw.dialogue === undefined ? undefined : checkId(raw.dialogue, where, 'dialogue');
  if (!isObject(raw.features)) throw new InvalidRequestError(`${where}: 'features' must be an object such as {"a": [...], "t": [...]}, got ${kind(raw.features)}`);
  const given = Object.keys(raw.features);
  for (const k of given) {
    if (!(MODALITIES as readonly string[]).includes(k)) throw new InvalidRequestError(`${where}: unknown modality '${k}' (expected a, t or v)`);
  }
  if (given.length === 0) throw new InvalidRequestError(`${where}: no features given (supply at least one of a, t, v)`);
  const condition = ctx.forced ?? (MODALITIES.filter((m) => m in (raw.features as Json)).join('') as Condition);
  const used = MODALITIES.filter((m) => condition.includes(m));
  const missing = used.filter((m) => !given.includes(m));
  if (missing.length) throw new InvalidRequestError(`${where}: condition '${condition}' needs modality '${missing[0]}', which is missing`);
  if (!ctx.opts.conditions.includes(condition)) {
    throw new InvalidRequestError(`${where}: no model trained for condition '${condition}' (available: ${ctx.opts.conditions.join(', ') || 'none'})`);
  }
  const features: Partial<Record<Modality, Float32Array>> = {};
  for (const m of used) features[m] = readVector((raw.features as Json)[m], m, ctx.opts.dims[m], ctx.opts.limits?.[m] ?? Infinity, where);
  const utt: RequestUtterance & { dialogue?: string } = { id, condition, features };
  if (raw.speaker !== undefined) utt.speaker = raw.speaker as string;
  if (dialogue !== undefined) utt.dialogue = dialogue;
  return utt;
}

function readDialogues(list: unknown, ctx: Context, prefix: string): RequestDialogue[] {
  if (!Array.isArray(list)) throw new InvalidRequestError(`${prefix}'dialogues' must be an array, got ${kind(list)}`);
  const ids = new Set<string>();
  return list.map((d, i) => {
    const where = `${prefix}dialogues[${i}]`;
    if (!isObject(d)) throw new InvalidRequestError(`${where}: expected a dialogue object, got ${kind(d)}`);
    checkKeys(d, DIALOGUE_KEYS, where);
    const id = checkId(d.id, where, 'id');
    if (ids.has(id)) throw new InvalidRequestError(`${where}: duplicate dialogue id '${id}'`);
    ids.add(id);
    if (!Array.isArray(d.utterances) || d.utterances.length === 0) {
      throw new InvalidRequestError(`${where}: dialogue '${id}' needs a non-empty 'utterances' array`);
    }
    const utterances = d.utterances.map((u, j) => {
      const utt = readUtterance(u, ctx, `${where}.utterances[${j}]`);
      if (utt.dialogue !== undefined && utt.dialogue !== id) {
        throw new InvalidRequestError(`${where}.utterances[${j}]: utterance '${utt.id}' names dialogue '${utt.dialogue}' inside dialogue '${id}'`);
      }
      delete utt.dialogue;
      return utt;
    });
    return { id, utterances };
  });
}

/** A flat utterance list: grouped by `dialogue` in order of first appearance, else one dialogue each. */
function readFlat(list: unknown[], ctx: Context, prefix: string): RequestDialogue[] {
  const byId = new Map<string, RequestDialogue>();
  // Dialogues named after an utterance given without `dialogue`: nothing else may join them.
  const implicit = new Set<string>();
  list.forEach((u, i) => {
    const where = `${prefix}${ctx.opts.locate ? ctx.opts.locate(i) : `utterances[${i}]`}`;
    const { dialogue, ...utt } = readUtterance(u, ctx, where);
    const did = dialogue ?? utt.id;
    if (byId.has(did) && (dialogue === undefined || implicit.has(did))) {
      throw new InvalidRequestError(`${where}: utterance '${utt.id}': dialogue id '${did}' is also an utterance given without a 'dialogue'; name its dialogue explicitly`);
    }
    if (dialogue === undefined) implicit.add(did);
    let d = byId.get(did);
    if (!d) byId.set(did, (d = { id: did, utterances: [] }));
    d.utterances.push(utt);
  });
  return [...byId.values()];
}

/**
 * Checks a parsed JSON body and returns the request the predictor sees. Throws
 * InvalidRequestError with a message naming the utterance id (and file/line when given).
 */
export function validatePredictRequest(body: unknown, opts: ValidateOptions): PredictRequest {
  const prefix = opts.source ? `${opts.source}: ` : '';
  const ctx: Context = { opts, seen: new Set(), count: 0 };
  let dialogues: RequestDialogue[];
  if (Array.isArray(body)) {
    dialogues = readFlat(body, ctx, prefix);
  } else if (isObject(body)) {
    checkKeys(body, TOP_KEYS, prefix + 'request');
    if (body.condition !== undefined) ctx.forced = parseCondition(body.condition, prefix + 'condition');
    if ((body.dialogues === undefined) === (body.utterances === undefined)) {
      throw new InvalidRequestError(`${prefix}request: give exactly one of 'dialogues' or 'utterances'`);
    }
    if (body.dialogues !== undefined) dialogues = readDialogues(body.dialogues, ctx, prefix);
    else if (Array.isArray(body.utterances)) dialogues = readFlat(body.utterances, ctx, prefix);
    else throw new InvalidRequestError(`${prefix}'utterances' must be an array, got ${kind(body.utterances)}`);
  } else {
    throw new InvalidRequestError(`${prefix}request: expected a JSON object with 'dialogues' or 'utterances', got ${kind(body)}`);
  }
  if (ctx.count === 0) throw new InvalidRequestError(`${prefix}request: no utterances`);
  return { dialogues };
}
