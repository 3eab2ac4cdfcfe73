/**
 * The one definition of what the API accepts and returns, as JSON Schema objects: validate.ts
 * compiles the request schema with ajv, and `openApiDocument` embeds the very same objects in the
 * OpenAPI 3.1 document served at GET /openapi.json, so the two cannot drift. The schemas are built
 * per run: feature lengths, conditions and class names are the run's.
 *
 * What JSON Schema cannot say is checked after it in validate.ts and written in the descriptions:
 * ids unique in a request, at most `maxUtterances` utterances in all, values finite as float32,
 * an explicit `condition` given by every utterance, a model trained for each condition used.
 */
import { MODALITIES, type Condition, type Modality } from '../data/types.ts';
import type { PredictorInfo } from './predictor.ts';

export const MAX_ID_LENGTH = 256;
const NAMES: Record<Modality, string> = { a: 'audio', t: 'text', v: 'video' };

export type Schema = Record<string, unknown>;

export interface SchemaContext {
  dims: Record<Modality, number>;
  conditions: readonly Condition[];
  /** Largest |value| accepted per modality (validate.ts `featureLimits`); absent = any finite float32. */
  limits?: Record<Modality, number>;
  maxUtterances: number;
}

/** What the request schema of a run depends on, from its predictor's info: validation and the document use this one. */
export function schemaContext(info: PredictorInfo, maxUtterances: number): SchemaContext {
  return { dims: info.dims, conditions: info.models.map((m) => m.condition), limits: info.featureLimits, maxUtterances };
}

const id = (what: string): Schema => ({ type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, description: what });

/** The three accepted forms of a prediction request; `request` is their union, as documented. */
export function requestSchemas(c: SchemaContext) {
  const features: Schema = {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    description:
      "Raw utterance-level features, any non-empty subset of a, t, v; the run's feature pipeline is applied by the server. " +
      'Without a request `condition`, the modalities given choose the model.',
    properties: Object.fromEntries(
      MODALITIES.map((m) => {
        const limit = c.limits?.[m];
        const items: Schema = limit === undefined ? { type: 'number' } : { type: 'number', minimum: -limit, maximum: limit };
        const range = limit === undefined ? 'finite numbers' : `numbers with |value| <= ${limit} (set from the run's training features)`;
        return [m, { type: 'array', items, minItems: c.dims[m], maxItems: c.dims[m], description: `${NAMES[m]} features: ${c.dims[m]} ${range}` }];
      }),
    ),
  };
  const utterance: Schema = {
    type: 'object',
    required: ['id', 'features'],
    additionalProperties: false,
    properties: {
      id: id('utterance id, unique in the request'),
      speaker: { type: 'string', description: 'speaker label (the models use who speaks in the dialogue)' },
      dialogue: id('flat lists only: the dialogue the utterance belongs to (in order of appearance); without it, the utterance is a dialogue of its own'),
      features,
    },
  };
  const utteranceList: Schema = { type: 'array', minItems: 1, items: utterance, description: `utterances in conversation order; at most ${c.maxUtterances} in a request` };
  const condition: Schema = {
    type: 'string',
    pattern: '^[atv]+$',
    description: `the model to use for every utterance (each must supply its modalities; others are ignored). Trained: ${c.conditions.join(', ')}`,
  };
  const dialogue: Schema = {
    type: 'object',
    required: ['id', 'utterances'],
    additionalProperties: false,
    properties: { id: id('dialogue id, unique in the request'), utterances: utteranceList },
  };
  const options = {
    condition,
    fold: { type: 'integer', minimum: 1, description: "only this fold's models answer (e.g. for an utterance of that fold's test split, which they never saw)" },
    explain: { type: 'boolean', description: 'also return each utterance\'s nearest training utterances (`neighbours`)' },
  };
  const byDialogues: Schema = {
    type: 'object',
    required: ['dialogues'],
    additionalProperties: false,
    properties: { ...options, dialogues: { type: 'array', minItems: 1, items: dialogue } },
  };
  const byUtterances: Schema = { type: 'object', required: ['utterances'], additionalProperties: false, properties: { ...options, utterances: utteranceList } };
  return { byDialogues, byUtterances, list: utteranceList, request: { oneOf: [byDialogues, byUtterances, utteranceList] } as Schema };
}

const number: Schema = { type: 'number' };

export function responseSchemas(info: PredictorInfo) {
  const classification = info.task === 'classification';
  const prediction: Schema = {
    type: 'object',
    required: ['id', 'dialogue', 'label', 'used', 'condition'],
    properties: {
      id: { type: 'string' },
      dialogue: { type: 'string' },
      ...(classification
        ? {
            probs: { type: 'array', items: number, minItems: info.classNames.length, maxItems: info.classNames.length, description: `class probabilities in the order ${info.classNames.join(', ')}` },
            label: { type: 'string', enum: info.classNames },
          }
        : { score: number, label: number }),
      used: { type: 'array', items: { type: 'string', enum: [...MODALITIES] }, description: 'the modalities the model used, in a, t, v order' },
      condition: { type: 'string', enum: info.models.map((m) => m.condition) },
      hardness: { type: 'number', minimum: 0, maximum: 1, description: "HARDY-MER runs: the frozen teacher's hardness of the utterance's nearest training utterances" },
      neighbours: {
        type: 'array',
        description: 'with `explain`: the training utterances `hardness` averages (5 per modality used, per model)',
        items: {
          type: 'object',
          required: ['id', 'modality', 'fold', 'seed', 'hardness', 'distance'],
          properties: {
            id: { type: 'string' },
            modality: { type: 'string', enum: [...MODALITIES] },
            fold: { type: 'integer' },
            seed: { type: 'integer' },
            hardness: { type: 'number', minimum: 0, maximum: 1 },
            distance: { type: 'number', description: 'squared L2 (audio, video) or 1 - cosine (text) on the fold\'s transformed features' },
            label: classification ? { type: 'string', enum: info.classNames } : number,
          },
        },
      },
    },
  };
  const predictResponse: Schema = {
    type: 'object',
    required: ['task', 'utterances'],
    properties: { task: { type: 'string', enum: [info.task] }, utterances: { type: 'array', items: prediction, description: 'one per request utterance, in request order' } },
  };
  const models: Schema = {
    type: 'object',
    required: ['task', 'classNames', 'dims', 'models'],
    properties: {
      task: { type: 'string', enum: ['classification', 'regression'] },
      classNames: { type: 'array', items: { type: 'string' } },
      dims: { type: 'object', properties: Object.fromEntries(MODALITIES.map((m) => [m, { type: 'integer' }])) },
      models: { type: 'array', items: { type: 'object', required: ['condition'], properties: { condition: { type: 'string' } } } },
    },
  };
  const health: Schema = {
    type: 'object',
    required: ['status', 'version', 'inFlight', 'uptimeSeconds'],
    properties: {
      status: { type: 'string', enum: ['ok', 'closing'] },
      version: { type: 'string' },
      inFlight: { type: 'integer' },
      uptimeSeconds: number,
      workers: { type: 'integer' },
      workersReady: { type: 'integer' },
      workersBusy: { type: 'integer' },
      queuedRequests: { type: 'integer' },
      queuedUtterances: { type: 'integer' },
      bodiesParsedInThread: { type: 'integer', description: 'request bodies parsed and validated off the main thread so far (large ones)' },
    },
  };
  const error: Schema = { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } };
  return { prediction, predictResponse, models, health, error };
}
