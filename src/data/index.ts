/** The data layer's public API. */
export * from './types.ts';
export { loadCorpus, detectDataset, readDifficulty, readDifficultyFile, conditionDifficulty, assertModalities, type LoadOptions } from './load.ts';
export { loadGeneric, genericLabelFile, type GenericOptions } from './generic.ts';
export { loadGcnet, type GcnetOptions } from './gcnet.ts';
export { loadMmsa, videoOf, type MmsaOptions } from './mmsa.ts';
export { DATASETS, DATASET_NAMES, DEFAULT_FEATURE_DIRS, type DatasetInfo } from './datasets.ts';
export { makeFolds, getFold, sessions, type FoldOptions } from './splits.ts';
export { conditionAvail, parseCondition, drawMasks, saveMasks, loadMasks, missingFraction, type MaskSet } from './masks.ts';
export { makeBatch, makeBatches, withFeatures, l2Normalize, l2NormalizeRows, modalityStats, standardize, mapFeatures, utterancesOf, type BatchOptions, type ModalityStats } from './batches.ts';
export { generateSynth, writeSynth, SYNTH_PRESETS, DIFFICULTY_FORMULA, type SynthOptions, type SynthPreset, type SynthFormat } from './synth.ts';
