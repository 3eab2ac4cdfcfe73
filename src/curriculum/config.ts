/**
 * The curriculum's hyper-parameters (`curriculum` in the run config): one TypeBox definition gives
 * the TypeScript type, the defaults (the paper's) and the JSON Schema the config file is checked
 * against (src/train/config.ts composes the run config from it).
 */
import { Type, type Static } from '@sinclair/typebox';
import { CONFIG_LIMITS } from '../util/config-limits.ts';

export const CurriculumConfigSchema = Type.Object(
  {
    K: Type.Integer({ minimum: 0, maximum: CONFIG_LIMITS.K, default: 3, description: 'Most neighbours per utterance (K).' }),
    Kmin: Type.Integer({ minimum: 0, maximum: CONFIG_LIMITS.K, default: 1, description: 'Fewest neighbours per utterance (K_min).' }),
    beta: Type.Number({ minimum: -1000, maximum: 1000, default: 4, description: 'Slope of the hardness sigmoid.' }),
    centre: Type.Number({
      minimum: -100,
      maximum: 100,
      default: 0,
      description:
        'Subtracted inside the sigmoid: h = sigmoid(beta (alpha1 D + alpha2 I - centre)). 0 is the paper (h >= 0.5, so K_i is only ever K-1 or K); 0.5 centres it so K_i spans Kmin..K.',
    }),
    alpha1: Type.Number({ minimum: 0, maximum: 100, default: 0.6, description: 'Weight of the direct hardness (reconstruction error).' }),
    alpha2: Type.Number({ minimum: 0, maximum: 100, default: 0.4, description: 'Weight of the indirect hardness (mutual information).' }),
    miTerm: Type.Union([Type.Literal('shared'), Type.Literal('complement')], {
      default: 'shared',
      description: '`shared`: I_term = I_norm (the published code); `complement`: 1 - I_norm.',
    }),
    kPolicy: Type.Union([Type.Literal('hardness'), Type.Literal('fixed'), Type.Literal('random')], {
      default: 'hardness',
      description: 'How K_i is chosen: from hardness (the method), fixed K, or uniformly random.',
    }),
    neighbourLabel: Type.Union([Type.Literal('query'), Type.Literal('own')], {
      default: 'query',
      description: "Label of a neighbour view: the query's (the method) or the neighbour's own.",
    }),
  },
  { additionalProperties: false },
);

export type CurriculumConfig = Static<typeof CurriculumConfigSchema>;
