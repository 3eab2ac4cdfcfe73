/**
 * Run configuration from the user: defaults < config file (JSON or YAML) < command-line flags.
 * The file is validated against a JSON Schema (ajv) so a typo or a wrong type is reported with
 * its path instead of silently ignored.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { CONDITIONS } from '../data/types.ts';
import { DEFAULT_CONFIG, type RunConfig } from '../train/config.ts';
import { excerpt, HardyError } from '../util/errors.ts';
import { readRegularText } from '../util/files.ts';

const int = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max });
const num = (min: number, max: number) => ({ type: 'number', minimum: min, maximum: max });

/**
 * Upper bounds: far above anything useful on one machine (the paper uses hidden 256, depth 4,
 * K 3, 200 epochs), far below what overflows memory or an index. A config beyond them is a typo
 * or an attack, refused before anything is written.
 */
export const CONFIG_LIMITS = { hidden: 4096, depth: 64, heads: 64, epochs: 100_000, batchSize: 65_536, K: 256 } as const;
const epochs = (min: number) => int(min, CONFIG_LIMITS.epochs);
const schedule = {
  type: 'object',
  additionalProperties: false,
  properties: { epochs: epochs(1), stage1Epochs: epochs(0) },
};

/** Every key optional: a file gives only what it changes. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    seed: int(0, 2 ** 32 - 1),
    model: {
      type: 'object',
      additionalProperties: false,
      properties: { hidden: int(1, CONFIG_LIMITS.hidden), depth: int(1, CONFIG_LIMITS.depth), heads: int(1, CONFIG_LIMITS.heads), dropout: num(0, 0.95) },
    },
    teacher: schedule,
    student: schedule,
    momke: schedule,
    finetune: {
      type: 'object',
      additionalProperties: false,
      properties: { enabled: { type: 'boolean' }, epochs: epochs(1), batchSize: int(1, CONFIG_LIMITS.batchSize) },
    },
    optim: {
      type: 'object',
      additionalProperties: false,
      properties: { lr: { type: 'number', exclusiveMinimum: 0, maximum: 10 }, weightDecay: num(0, 10), batchSize: int(1, CONFIG_LIMITS.batchSize) },
    },
    curriculum: {
      type: 'object',
      additionalProperties: false,
      properties: {
        K: int(0, CONFIG_LIMITS.K),
        Kmin: int(0, CONFIG_LIMITS.K),
        beta: num(-1000, 1000),
        centre: num(-100, 100),
        alpha1: num(0, 100),
        alpha2: num(0, 100),
        miTerm: { enum: ['shared', 'complement'] },
        kPolicy: { enum: ['hardness', 'fixed', 'random'] },
        neighbourLabel: { enum: ['query', 'own'] },
      },
    },
    selection: { enum: ['val', 'test'] },
    validFraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    protocol: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['kind'], properties: { kind: { const: 'fixed' } } },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'missingRate'],
          properties: { kind: { const: 'random' }, missingRate: num(0, 0.7) },
        },
      ],
    },
    conditions: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...CONDITIONS] } },
    folds: { type: 'array', minItems: 1, uniqueItems: true, items: int(1, 5) },
    earlyStopPatience: epochs(0),
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(CONFIG_SCHEMA);

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '(top level)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${excerpt(String(e.params.additionalProperty), 60)}'` : ''}`)
    .slice(0, 8)
    .join('; ');
}

/** A config layer: any top-level key; nested objects may give only some of their fields. */
export type PartialConfig = {
  [K in keyof RunConfig]?: RunConfig[K] extends unknown[] ? RunConfig[K] : RunConfig[K] extends object ? Partial<RunConfig[K]> : RunConfig[K];
};

/** Validate a partial config object; `where` names its origin in errors. */
export function checkPartialConfig(value: unknown, where: string): PartialConfig {
  if (!validate(value)) throw new HardyError(`${where}: invalid config: ${describe(validate.errors)}`);
  return value as PartialConfig;
}

/** Read and validate a JSON or YAML config file. */
export function readConfigFile(path: string): PartialConfig {
  return parseConfigText(readRegularText(path, 'config file', 4 * MAX_CONFIG_BYTES), path);
}

/** Far above any real config (a few hundred bytes), far below what makes the YAML parser slow. */
const MAX_CONFIG_BYTES = 1 << 16;
/** A config nests 3 levels; the YAML parser's time grows superlinearly with nesting depth. */
const MAX_CONFIG_NESTING = 64;

/**
 * An upper bound on the nesting depth of JSON/YAML text without parsing it: open flow brackets
 * plus the block indicators (`- `, `? `, `: `) on the current line. Overcounting is harmless.
 */
function nestingBound(text: string): number {
  let flow = 0;
  let max = 0;
  for (const line of text.split('\n')) {
    const indicators = line.match(/(?:^|[\s[{,])[-?:](?=\s|$)/g)?.length ?? 0;
    max = Math.max(max, flow + indicators);
    for (const c of line) {
      if (c === '[' || c === '{') max = Math.max(max, ++flow + indicators);
      else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
  }
  return max;
}

/** Parse and validate config text; `path` picks YAML (`.yaml`/`.yml`) or JSON and names the origin in errors. */
export function parseConfigText(text: string, path: string): PartialConfig {
  const yaml = /\.ya?ml$/i.test(path);
  const kind = yaml ? 'YAML' : 'JSON';
  if (text.length > MAX_CONFIG_BYTES) throw new HardyError(`${path}: config file of ${text.length} characters; expected a few hundred (limit ${MAX_CONFIG_BYTES})`);
  const depth = nestingBound(text);
  if (depth > MAX_CONFIG_NESTING) throw new HardyError(`${path}: config nests about ${depth} levels deep; expected at most 3 (limit ${MAX_CONFIG_NESTING})`);
  let value: unknown;
  try {
    if (yaml) {
      // warnings (unresolved tags, ambiguous anchors, collection keys) mean the file is not what it looks like: refuse them too
      const doc = parseDocument(text, { logLevel: 'silent' });
      const problem = doc.errors[0] ?? doc.warnings[0];
      if (problem) throw problem;
      value = doc.toJS({ maxAliasCount: 100 });
    } else value = JSON.parse(text);
  } catch (err) {
    throw new HardyError(`${path}: not valid ${kind} (${excerpt(String((err as Error).message), 500)})`); // the parser quotes the file
  }
  return checkPartialConfig(value ?? {}, path);
}

/** defaults < each layer in order; nested objects merge one level deep, arrays and scalars replace. */
export function resolveConfig(...layers: PartialConfig[]): RunConfig {
  const out = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const cur = out[k];
      const mergeable = cur && typeof cur === 'object' && !Array.isArray(cur) && k !== 'protocol';
      out[k] = mergeable ? { ...(cur as object), ...(v as object) } : structuredClone(v);
    }
  }
  // flags are layers too: the merged result is checked against the same schema as a file
  const cfg = checkPartialConfig(out, 'config') as RunConfig;
  if (cfg.model.hidden % cfg.model.heads !== 0)
    throw new HardyError(`config: model.hidden (${cfg.model.hidden}) is not divisible by model.heads (${cfg.model.heads}); each head takes hidden / heads dimensions`);
  for (const name of ['teacher', 'student', 'momke'] as const) {
    if (cfg[name].stage1Epochs > cfg[name].epochs)
      throw new HardyError(`config: ${name}.stage1Epochs (${cfg[name].stage1Epochs}) exceeds ${name}.epochs (${cfg[name].epochs})`);
  }
  if (cfg.curriculum.Kmin > cfg.curriculum.K)
    throw new HardyError(`config: curriculum.Kmin (${cfg.curriculum.Kmin}) exceeds curriculum.K (${cfg.curriculum.K})`);
  return cfg;
}
