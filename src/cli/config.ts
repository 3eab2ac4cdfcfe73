/**
 * Run configuration from the user: defaults < config file (JSON or YAML) < command-line flags.
 * The file is validated against a JSON Schema (ajv) so a typo or a wrong type is reported with
 * its path instead of silently ignored.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { CONDITIONS } from '../data/types.ts';
import { DEFAULT_CONFIG, type RunConfig } from '../train/config.ts';
import { HardyError } from '../util/errors.ts';

const int = (min: number, max?: number) => ({ type: 'integer', minimum: min, ...(max !== undefined ? { maximum: max } : {}) });
const num = (min: number, max?: number) => ({ type: 'number', minimum: min, ...(max !== undefined ? { maximum: max } : {}) });
const schedule = {
  type: 'object',
  additionalProperties: false,
  properties: { epochs: int(1), stage1Epochs: int(0) },
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
      properties: { hidden: int(1), depth: int(1), heads: int(1), dropout: num(0, 0.95) },
    },
    teacher: schedule,
    student: schedule,
    momke: schedule,
    finetune: {
      type: 'object',
      additionalProperties: false,
      properties: { enabled: { type: 'boolean' }, epochs: int(1), batchSize: int(1) },
    },
    optim: {
      type: 'object',
      additionalProperties: false,
      properties: { lr: { type: 'number', exclusiveMinimum: 0 }, weightDecay: num(0), batchSize: int(1) },
    },
    curriculum: {
      type: 'object',
      additionalProperties: false,
      properties: {
        K: int(0),
        Kmin: int(0),
        beta: { type: 'number' },
        alpha1: { type: 'number' },
        alpha2: { type: 'number' },
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
    earlyStopPatience: int(0),
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(CONFIG_SCHEMA);

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '(top level)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${e.params.additionalProperty}'` : ''}`)
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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HardyError(`${path}: cannot read config file (${(err as Error).message})`);
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new HardyError(`${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'} (${(err as Error).message})`);
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
  const cfg = out as unknown as RunConfig;
  for (const name of ['teacher', 'student', 'momke'] as const) {
    if (cfg[name].stage1Epochs > cfg[name].epochs)
      throw new HardyError(`config: ${name}.stage1Epochs (${cfg[name].stage1Epochs}) exceeds ${name}.epochs (${cfg[name].epochs})`);
  }
  if (cfg.curriculum.Kmin > cfg.curriculum.K)
    throw new HardyError(`config: curriculum.Kmin (${cfg.curriculum.Kmin}) exceeds curriculum.K (${cfg.curriculum.K})`);
  return cfg;
}
