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
    rerank: Type.Union([Type.Literal('normalised'), Type.Literal('raw'), Type.Literal('none')], {
      default: 'normalised',
      description:
        "Order of the merged a, v, t candidates (docs/method.md): `normalised` = mean over a, t, v of each modality's L2 distance divided by its median pairwise distance on the training index; `raw` = mean of the raw L2 distances (the original spec); `none` = the merged order (the published code's effective behaviour).",
    }),
    neighbours: Type.Union([Type.Literal('any'), Type.Literal('same-label')], {
      default: 'any',
      description: "`any`: the paper's retrieval; `same-label`: only training utterances of the query's label (regression: its polarity).",
    }),
    views: Type.Union([Type.Literal('replace'), Type.Literal('keep-dialogue')], {
      default: 'replace',
      description:
        '`replace`: view j replaces every utterance with its j-th neighbour (the paper); `keep-dialogue`: only the `swapFraction` hardest utterances of each dialogue are replaced, the rest of the dialogue stays as it is.',
    }),
    swapFraction: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.25, description: 'Fraction of each dialogue replaced by `keep-dialogue` views (its hardest utterances).' }),
    hardness: Type.Union([Type.Literal('teacher'), Type.Literal('shuffled'), Type.Literal('oracle')], {
      default: 'teacher',
      description:
        "Where h comes from: the frozen `teacher` (the method), the teacher's h `shuffled` within the batch (same K_i distribution, no information), or the synthetic corpus' ground truth (`oracle`: the mean difficulty of the missing modalities, in place of both scores).",
    }),
    teacherFeatures: Type.Union([Type.Literal('raw'), Type.Literal('student')], {
      default: 'raw',
      description:
        "What the teacher trains on and reconstructs (so what the direct score D measures): the corpus' `raw` features standardised on the fold's training utterances (recoverability of what was recorded), or the `student`'s features (stage 0's fine-tuned ones, which keep the class and drop the rest: the paper's pipeline).",
    }),
    teacherSelection: Type.Union([Type.Literal('accuracy'), Type.Literal('reconstruction')], {
      default: 'accuracy',
      description: "The teacher's stage-2 epoch is chosen on validation `accuracy` or on validation `reconstruction` error.",
    }),
  },
  { additionalProperties: false },
);

export type CurriculumConfig = Static<typeof CurriculumConfigSchema>;
