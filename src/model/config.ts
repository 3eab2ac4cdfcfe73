/**
 * The hyper-parameters of a model that a run configures (`model` in the run config): one TypeBox
 * definition gives the TypeScript type, the defaults (the paper's) and the JSON Schema.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CONFIG_LIMITS } from '../util/config-limits.ts';

export const ModelHyperSchema = Type.Object(
  {
    hidden: Type.Integer({ minimum: 1, maximum: CONFIG_LIMITS.hidden, default: 256, description: 'Hidden size D.' }),
    depth: Type.Integer({ minimum: 1, maximum: CONFIG_LIMITS.depth, default: 4, description: 'Expert depth L (transformer blocks per modality).' }),
    heads: Type.Integer({ minimum: 1, maximum: CONFIG_LIMITS.heads, default: 2, description: 'Attention heads.' }),
    dropout: Type.Number({ minimum: 0, maximum: 0.95, default: 0.5 }),
  },
  { additionalProperties: false },
);

export type ModelHyper = Static<typeof ModelHyperSchema>;
