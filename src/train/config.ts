/**
 * The run configuration, defined once: the TypeBox schema below gives the TypeScript type
 * (`RunConfig`), the defaults (`DEFAULT_CONFIG`, the paper's: docs/method.md) and the JSON Schema a
 * config file is validated against (`ConfigLayerSchema`, written to configs/schema.json by
 * `npm run schema`). The model's and the curriculum's parts are defined where they are used
 * (src/model/config.ts, src/curriculum/config.ts). Every run writes the resolved object next to
 * its results.
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CurriculumConfigSchema } from '../curriculum/config.ts';
import { CONDITIONS, INCOMPLETE_CONDITIONS } from '../data/types.ts';
import { ModelHyperSchema } from '../model/config.ts';
import { CONFIG_LIMITS } from '../util/config-limits.ts';

const schedule = (epochs: number, stage1Epochs: number) =>
  Type.Object(
    {
      epochs: Type.Integer({ minimum: 1, maximum: CONFIG_LIMITS.epochs, default: epochs, description: 'Total epochs (stage 1 + stage 2).' }),
      stage1Epochs: Type.Integer({ minimum: 0, maximum: CONFIG_LIMITS.epochs, default: stage1Epochs, description: 'Epochs of stage 1 (complete inputs); the rest are stage 2.' }),
    },
    { additionalProperties: false },
  );

const ConditionSchema = Type.Union(CONDITIONS.map((c) => Type.Literal(c)));

export const RunConfigSchema = Type.Object(
  {
    seed: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1, default: 1 }),
    model: ModelHyperSchema,
    teacher: schedule(200, 100),
    student: schedule(50, 25),
    momke: schedule(200, 100),
    /** Stage 1 = MMIN's pre-training on complete inputs; stage 2 = the imagination network. */
    mmin: schedule(200, 100),
    /** One stage (stage1Epochs 0): GCNet trains on the condition from the start. */
    gcnet: schedule(100, 0),
    finetune: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Stage 0: fine-tune a per-modality MLP on the fold\'s training utterances.' }),
        epochs: Type.Integer({ minimum: 1, maximum: CONFIG_LIMITS.epochs, default: 30 }),
        batchSize: Type.Integer({ minimum: 1, maximum: CONFIG_LIMITS.batchSize, default: 16, description: 'Utterances per batch.' }),
      },
      { additionalProperties: false },
    ),
    optim: Type.Object(
      {
        lr: Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 1e-4 }),
        weightDecay: Type.Number({ minimum: 0, maximum: 10, default: 1e-5, description: "L2 penalty added to the loss (Adam with L2, as the published code's weight_decay)." }),
        batchSize: Type.Integer({ minimum: 1, maximum: CONFIG_LIMITS.batchSize, default: 16, description: 'Dialogues per batch.' }),
      },
      { additionalProperties: false },
    ),
    curriculum: CurriculumConfigSchema,
    selection: Type.Union([Type.Literal('val'), Type.Literal('test')], {
      default: 'val',
      description: "`val`: select the best epoch on a validation split; `test`: the paper's optimistic selection on the test fold.",
    }),
    validFraction: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.1, description: "Fraction of each IEMOCAP training fold's dialogues held out for validation." }),
    protocol: Type.Union(
      [
        Type.Object({ kind: Type.Literal('fixed') }, { additionalProperties: false }),
        Type.Object({ kind: Type.Literal('random'), missingRate: Type.Number({ minimum: 0, maximum: 0.7 }) }, { additionalProperties: false }),
      ],
      { default: { kind: 'fixed' }, description: '`fixed`: one model per condition; `random`: each utterance drops modalities at `missingRate`.' },
    ),
    conditions: Type.Array(ConditionSchema, { minItems: 1, uniqueItems: true, default: [...INCOMPLETE_CONDITIONS], description: 'Available modalities of each model (fixed protocol).' }),
    folds: Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), { minItems: 1, uniqueItems: true, default: [1, 2, 3, 4, 5], description: '1-based folds to run (IEMOCAP: test session; a generic corpus with groups: the k-th group held out, as many folds as groups).' }),
    earlyStopPatience: Type.Integer({ minimum: 0, maximum: CONFIG_LIMITS.epochs, default: 0, description: 'Stop when the selection metric has not improved for this many epochs (0 = never).' }),
    stage1Loss: Type.Union([Type.Literal('unimodal'), Type.Literal('fused')], {
      default: 'unimodal',
      description:
        "Stage-1 loss: `unimodal` = the unimodal heads only (+ reconstruction of every modality and the MI term for the teacher), as the published code; `fused` adds the fused head's task loss.",
    }),
    validation: Type.Union([Type.Literal('split'), Type.Literal('session')], {
      default: 'split',
      description: 'IEMOCAP validation set: a seeded `split` of `validFraction` of the training dialogues, or one held-out training `session`.',
    }),
  },
  { additionalProperties: false },
);

export type RunConfig = Static<typeof RunConfigSchema>;
export type StageSchedule = RunConfig['teacher'];
export type OptimConfig = RunConfig['optim'];

export const DEFAULT_CONFIG: RunConfig = Value.Create(RunConfigSchema);

/** An object's properties made optional, and those of its object-valued properties (not of unions). */
const partialTwoLevels = <T extends TObject>(schema: T) =>
  Type.Partial(
    Type.Object(
      Object.fromEntries(Object.entries(schema.properties).map(([k, s]: [string, TSchema]) => [k, s.type === 'object' ? Type.Partial(s as TObject) : s])) as T['properties'],
      { additionalProperties: false },
    ),
  );

/** A config layer (a file, the flags): every key optional, a nested object may give only some of its fields. */
export const ConfigLayerSchema = partialTwoLevels(RunConfigSchema);
