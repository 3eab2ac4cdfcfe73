/** What each dataset name means: task, classes and the GCNet label-pickle file name. */
import type { DatasetName, Task } from './types.ts';

export interface DatasetInfo {
  task: Task;
  classNames: string[];
  /** GCNet/MERTools label pickle under the corpus root. */
  labelFile: string;
  /** 6-element IEMOCAP pickle or 7-element CMU pickle. */
  labelLayout: 'iemocap' | 'cmu';
}

export const DATASETS: Record<Exclude<DatasetName, 'mmsa' | 'generic'>, DatasetInfo> = {
  iemocap4: { task: 'classification', classNames: ['happy', 'sad', 'neutral', 'angry'], labelFile: 'IEMOCAP_features_raw_4way.pkl', labelLayout: 'iemocap' },
  iemocap6: {
    task: 'classification',
    classNames: ['happy', 'sad', 'neutral', 'angry', 'excited', 'frustrated'],
    labelFile: 'IEMOCAP_features_raw_6way.pkl',
    labelLayout: 'iemocap',
  },
  mosi: { task: 'regression', classNames: [], labelFile: 'CMUMOSI_features_raw_2way.pkl', labelLayout: 'cmu' },
  mosei: { task: 'regression', classNames: [], labelFile: 'CMUMOSEI_features_raw_2way.pkl', labelLayout: 'cmu' },
};

export const DATASET_NAMES: readonly DatasetName[] = ['iemocap4', 'iemocap6', 'mosi', 'mosei', 'mmsa', 'generic'];

/** GCNet/MERTools default feature folders (under `<root>/features/`). */
export const DEFAULT_FEATURE_DIRS = { a: 'wav2vec-large-c-UTT', t: 'deberta-large-4-UTT', v: 'manet_UTT' } as const;
