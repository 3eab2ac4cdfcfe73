/**
 * Run configuration from the user: defaults < config file (JSON or YAML) < command-line flags.
 * The file is validated against the config's JSON Schema (`ConfigLayerSchema` of src/train/config.ts,
 * with ajv) so a typo or a wrong type is reported with its path instead of silently ignored.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { MODEL_KINDS } from '../model/types.ts';
import { ConfigLayerSchema, DEFAULT_CONFIG, type RunConfig } from '../train/config.ts';
export { CONFIG_LIMITS } from '../util/config-limits.ts';
import { excerpt, HardyError } from '../util/errors.ts';
import { readRegularText } from '../util/files.ts';

const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(ConfigLayerSchema);

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
  for (const name of MODEL_KINDS) {
    if (cfg[name].stage1Epochs > cfg[name].epochs)
      throw new HardyError(`config: ${name}.stage1Epochs (${cfg[name].stage1Epochs}) exceeds ${name}.epochs (${cfg[name].epochs})`);
  }
  if (cfg.curriculum.Kmin > cfg.curriculum.K)
    throw new HardyError(`config: curriculum.Kmin (${cfg.curriculum.Kmin}) exceeds curriculum.K (${cfg.curriculum.K})`);
  return cfg;
}

/** configs/schema.json: the schema of a config file as JSON (symbols and functions dropped), for editors. */
export function configFileSchemaText(): string {
  const schema = { $schema: 'http://json-schema.org/draft-07/schema#', title: 'hardy-mer run configuration (a layer over the defaults)', ...ConfigLayerSchema };
  return JSON.stringify(schema, null, 2) + '\n';
}
