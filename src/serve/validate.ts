/**
 * One validator for every way a prediction request arrives (HTTP body, CLI `--input` file), so a
 * request is accepted or refused for the same reason everywhere. It never touches the file system:
 * a request is data only, never a path. The shape is checked by ajv against the JSON Schema of
 * schema.ts (the one GET /openapi.json documents), its first error turned into a message that
 * names the utterance; then come the checks JSON Schema cannot express.
 *
 * Accepted shapes (JSON):
 *   { "condition"?: "at", "dialogues": [ { "id": "d1", "utterances": [ U, ... ] }, ... ] }
 *   { "condition"?: "at", "utterances": [ U, ... ] }   // flat: grouped by U.dialogue, else one dialogue each
 *   [ U, ... ]                                          // same as { "utterances": [...] }
 * with U = { "id": "u1", "speaker"?: "F", "dialogue"?: "d1", "features": { "a"?: [..], "t"?: [..], "v"?: [..] } }.
 * Without `condition`, each utterance uses the model of the modalities it supplies; with it, every
 * utterance must supply at least those modalities and the others are ignored.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { excerpt, HardyError } from '../util/errors.ts';
import { MODALITIES, type Condition, type Modality } from '../data/types.ts';
import type { PredictRequest, RequestDialogue, RequestUtterance } from './predictor.ts';
import { MAX_ID_LENGTH, requestSchemas } from './schema.ts';

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
const TOP_KEYS = ['condition', 'fold', 'explain', 'dialogues', 'utterances'];

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

interface Compiled {
  byDialogues: ValidateFunction;
  byUtterances: ValidateFunction;
  list: ValidateFunction;
}

const ajv = new Ajv({ allErrors: false });
// Compiled once per (dims, conditions, limits): a server compiles once, a CLI call once.
const compiled = new Map<string, Compiled>();

/**
 * Compiles the validator for these options now, if it is not yet (ajv builds code: about 100 ms
 * for a run's schema the first time, then a cache lookup), so that a server can do it before the
 * load rather than on the first small body that comes in during it.
 */
export function compileValidator(opts: ValidateOptions): void {
  compile(opts);
}

function compile(opts: ValidateOptions): Compiled {
  const ctx = { dims: opts.dims, conditions: opts.conditions, limits: opts.limits, maxUtterances: opts.maxUtterances ?? DEFAULT_MAX_UTTERANCES };
  const key = JSON.stringify(ctx);
  let c = compiled.get(key);
  if (!c) {
    const s = requestSchemas(ctx);
    c = { byDialogues: ajv.compile(s.byDialogues), byUtterances: ajv.compile(s.byUtterances), list: ajv.compile(s.list) };
    compiled.set(key, c);
  }
  return c;
}

const idRule = `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`;

/** What went wrong inside one utterance object, `rest` being the path below it. */
function utteranceProblem(e: ErrorObject, rest: string[], value: unknown): string {
  const [field, m, k] = rest;
  if (field === undefined) {
    if (e.keyword === 'type') return `expected an utterance object, got ${kind(value)}`;
    if (e.keyword === 'additionalProperties') return `unknown field '${e.params.additionalProperty}' (allowed: id, speaker, dialogue, features)`;
    if (e.keyword === 'required') return `'${e.params.missingProperty}' ${e.params.missingProperty === 'id' ? idRule : 'is required (an object such as {"a": [...], "t": [...]})'}, got undefined`;
  }
  if (field === 'id' || field === 'dialogue') return `'${field}' ${idRule}, got ${kind(value)}`;
  if (field === 'speaker') return `'speaker' must be a string, got ${kind(value)}`;
  if (field === 'features' && m === undefined) {
    if (e.keyword === 'additionalProperties') return `unknown modality '${e.params.additionalProperty}' (expected a, t or v)`;
    if (e.keyword === 'minProperties') return 'no features given (supply at least one of a, t, v)';
    return `'features' must be an object such as {"a": [...], "t": [...]}, got ${kind(value)}`;
  }
  if (field === 'features' && k === undefined) {
    if (e.keyword === 'minItems' || e.keyword === 'maxItems') return `modality '${m}' has ${(value as unknown[]).length} values, expected ${e.params.limit}`;
    return `modality '${m}' must be an array of numbers, got ${kind(value)}`;
  }
  if (field === 'features') {
    // 1e39 is finite as a double but Infinity as float32: the reason is the same as for 1e999.
    if (typeof value === 'number' && (e.keyword === 'type' || !Number.isFinite(Math.fround(value)))) return `modality '${m}' value ${k} is ${value}; features must be finite`;
    if (e.keyword === 'minimum' || e.keyword === 'maximum') return `modality '${m}' value ${k} is ${value}, outside the range this run accepts (|value| <= ${Math.abs(e.params.limit as number)}, from its training features)`;
    return `modality '${m}' value ${k} is ${kind(value)}, expected a number`;
  }
  return `${rest.join('.')} ${e.message}`;
}

/** ajv's first error as a sentence naming where it is: the file line or list index, the utterance id. */
function describe(e: ErrorObject, body: unknown, opts: ValidateOptions, prefix: string): string {
  const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let value: unknown = body;
  const values = [body];
  for (const p of path) values.push((value = (value as Json)?.[p]));
  const utterance = (base: string, at: number) => {
    const raw = values[at + 1];
    const named = isObject(raw) && typeof raw.id === 'string' && raw.id.length > 0 && raw.id.length <= MAX_ID_LENGTH ? `${base}: utterance '${raw.id}'` : base;
    return `${named}: ${utteranceProblem(e, path.slice(at + 1), value)}`;
  };
  const flatWhere = (i: string) => prefix + (opts.locate ? opts.locate(Number(i)) : `utterances[${i}]`);
  const top = Array.isArray(body) ? ['utterances', ...path] : path;
  const [head, i, sub, j] = top;
  const offset = Array.isArray(body) ? -1 : 0; // a bare list has no 'utterances' segment in its path
  if (head === undefined) {
    if (e.keyword === 'additionalProperties') return `${prefix}request: unknown field '${e.params.additionalProperty}' (allowed: ${TOP_KEYS.join(', ')})`;
    if (e.keyword === 'minItems') return `${prefix}request: no utterances`;
    const unknown = isObject(body) && Object.keys(body).find((k) => !TOP_KEYS.includes(k));
    if (unknown) return `${prefix}request: unknown field '${unknown}' (allowed: ${TOP_KEYS.join(', ')})`;
    return `${prefix}request: give exactly one of 'dialogues' or 'utterances'`;
  }
  if (head === 'condition') parseCondition(value, prefix + 'condition'); // throws the precise reason
  if (head === 'fold') return `${prefix}'fold' must be a fold number (an integer >= 1), got ${JSON.stringify(value)}`;
  if (head === 'explain') return `${prefix}'explain' must be true or false, got ${kind(value)}`;
  if (i === undefined) {
    if (e.keyword === 'minItems') return `${prefix}request: no utterances`;
    return `${prefix}'${head}' must be an array, got ${kind(value)}`;
  }
  if (head === 'utterances') return utterance(flatWhere(i), 1 + offset);
  const where = `${prefix}dialogues[${i}]`;
  const d = values[2];
  if (sub === undefined) {
    if (e.keyword === 'additionalProperties') return `${where}: unknown field '${e.params.additionalProperty}' (allowed: id, utterances)`;
    if (e.keyword === 'required' && e.params.missingProperty === 'id') return `${where}: 'id' ${idRule}, got undefined`;
    if (e.keyword === 'required') return `${where}: dialogue '${(d as Json).id}' needs a non-empty 'utterances' array`;
    return `${where}: expected a dialogue object, got ${kind(value)}`;
  }
  if (sub === 'id') return `${where}: 'id' ${idRule}, got ${kind(value)}`;
  if (j === undefined) return `${where}: dialogue '${String((d as Json).id)}' needs a non-empty 'utterances' array`;
  return utterance(`${where}.utterances[${j}]`, 3);
}

interface Context {
  opts: ValidateOptions;
  forced?: Condition;
  seen: Set<string>;
  count: number;
}

/** Copies one modality's values into a Float32Array, refusing values that overflow float32. */
function readVector(x: number[], m: Modality, where: string): Float32Array {
  const out = Float32Array.from(x);
  for (let i = 0; i < out.length; i++) {
    // 1e39 is finite as a double (so the schema accepts it) but Infinity as float32.
    if (!Number.isFinite(out[i])) throw new InvalidRequestError(`${where}: modality '${m}' value ${i} is ${x[i]}; features must be finite`);
  }
  return out;
}

type RawUtterance = { id: string; speaker?: string; dialogue?: string; features: Partial<Record<Modality, number[]>> };

/** The checks after the schema: unique ids, the total count, the condition and its model, float32 range. */
function readUtterance(raw: RawUtterance, ctx: Context, where: string): RequestUtterance & { dialogue?: string } {
  const id = raw.id;
  where = `${where}: utterance '${id}'`;
  if (ctx.seen.has(id)) throw new InvalidRequestError(`${where}: duplicate utterance id`);
  ctx.seen.add(id);
  if (++ctx.count > (ctx.opts.maxUtterances ?? DEFAULT_MAX_UTTERANCES)) {
    throw new InvalidRequestError(`${where}: too many utterances (at most ${ctx.opts.maxUtterances ?? DEFAULT_MAX_UTTERANCES} per request)`);
  }
  const given = Object.keys(raw.features);
  const condition = ctx.forced ?? (MODALITIES.filter((m) => m in raw.features).join('') as Condition);
  const used = MODALITIES.filter((m) => condition.includes(m));
  const missing = used.filter((m) => !given.includes(m));
  if (missing.length) throw new InvalidRequestError(`${where}: condition '${condition}' needs modality '${missing[0]}', which is missing`);
  if (!ctx.opts.conditions.includes(condition)) {
    throw new InvalidRequestError(`${where}: no model trained for condition '${condition}' (available: ${ctx.opts.conditions.join(', ') || 'none'})`);
  }
  const features: Partial<Record<Modality, Float32Array>> = {};
  for (const m of used) features[m] = readVector(raw.features[m]!, m, where);
  const utt: RequestUtterance & { dialogue?: string } = { id, condition, features };
  if (raw.speaker !== undefined) utt.speaker = raw.speaker;
  if (raw.dialogue !== undefined) utt.dialogue = raw.dialogue;
  return utt;
}

function readDialogues(list: { id: string; utterances: RawUtterance[] }[], ctx: Context, prefix: string): RequestDialogue[] {
  const ids = new Set<string>();
  return list.map((d, i) => {
    const where = `${prefix}dialogues[${i}]`;
    if (ids.has(d.id)) throw new InvalidRequestError(`${where}: duplicate dialogue id '${d.id}'`);
    ids.add(d.id);
    const utterances = d.utterances.map((u, j) => {
      const utt = readUtterance(u, ctx, `${where}.utterances[${j}]`);
      if (utt.dialogue !== undefined && utt.dialogue !== d.id) {
        throw new InvalidRequestError(`${where}.utterances[${j}]: utterance '${utt.id}' names dialogue '${utt.dialogue}' inside dialogue '${d.id}'`);
      }
      delete utt.dialogue;
      return utt;
    });
    return { id: d.id, utterances };
  });
}

/** A flat utterance list: grouped by `dialogue` in order of first appearance, else one dialogue each. */
function readFlat(list: RawUtterance[], ctx: Context, prefix: string): RequestDialogue[] {
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
  const schemas = compile(opts);
  let check: ValidateFunction;
  if (Array.isArray(body)) check = schemas.list;
  else if (isObject(body)) {
    if ((body.dialogues === undefined) === (body.utterances === undefined) && Object.keys(body).every((k) => TOP_KEYS.includes(k))) {
      throw new InvalidRequestError(`${prefix}request: give exactly one of 'dialogues' or 'utterances'`);
    }
    check = body.dialogues !== undefined ? schemas.byDialogues : schemas.byUtterances;
  } else {
    throw new InvalidRequestError(`${prefix}request: expected a JSON object with 'dialogues' or 'utterances', got ${kind(body)}`);
  }
  if (!check(body)) throw new InvalidRequestError(describe(check.errors![0]!, body, opts, prefix));
  const ctx: Context = { opts, seen: new Set(), count: 0 };
  if (isObject(body) && body.condition !== undefined) ctx.forced = parseCondition(body.condition, prefix + 'condition');
  const dialogues = Array.isArray(body)
    ? readFlat(body as RawUtterance[], ctx, prefix)
    : body.dialogues !== undefined
      ? readDialogues(body.dialogues as { id: string; utterances: RawUtterance[] }[], ctx, prefix)
      : readFlat(body.utterances as RawUtterance[], ctx, prefix);
  const request: PredictRequest = { dialogues };
  if (isObject(body) && body.fold !== undefined) request.fold = body.fold as number;
  if (isObject(body) && body.explain === true) request.explain = true;
  return request;
}

/** A request body as received (UTF-8 JSON), parsed; malformed JSON is refused with the parser's reason. */
export function parseJsonBody(raw: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch (err) {
    throw new InvalidRequestError(`body is not valid JSON: ${excerpt((err as Error).message, 300)}`);
  }
}
