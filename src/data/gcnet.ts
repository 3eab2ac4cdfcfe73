/**
 * GCNet / MERTools corpus layout (README, "Data preparation"): a label pickle plus one feature folder per
 * modality. IEMOCAP pickles are 6-element lists, CMU ones 7-element lists; the README gives the
 * fields. Errors name the file and the dialogue/utterance id.
 */
import { existsSync } from 'node:fs';
import { join, isAbsolute } from 'node:path';
import { describeValue, HardyError, quoteId } from '../util/errors.ts';
import { readPickle } from './formats/pickle.ts';
import { isNdArray } from './formats/ndarray.ts';
import { readFeatureFolder } from './features.ts';
import { DATASETS, DEFAULT_FEATURE_DIRS } from './datasets.ts';
import { MODALITIES, type Corpus, type DatasetName, type Dialogue, type Modality, type Utterance } from './types.ts';

export interface GcnetOptions {
  /** Feature folder names under `featureRoot` (defaults: wav2vec-large-c-UTT, deberta-large-4-UTT, manet_UTT). */
  featureDirs?: Partial<Record<Modality, string>>;
  /** Folder holding the feature folders; default `<root>/features`. */
  featureRoot?: string;
  /** Label pickle, relative to the root or absolute; default the dataset's GCNet file name. */
  labelFile?: string;
}

type GcnetDataset = Exclude<DatasetName, 'mmsa' | 'generic'>;

/** Any list-like pickled value (list, tuple, set, NumPy array) as a JS array. */
function asList(x: unknown, file: string, what: string): unknown[] {
  if (Array.isArray(x)) return x;
  if (x instanceof Set) return [...x];
  if (isNdArray(x)) return Array.from(x.data as ArrayLike<unknown>);
  throw new HardyError(`${file}: ${what} is not a list`);
}

function asDict(x: unknown, file: string, what: string): Map<unknown, unknown> {
  if (x instanceof Map) return x;
  throw new HardyError(`${file}: ${what} is not a dict`);
}

/**
 * A dialogue/utterance id or speaker: a str (or an int, which some writers use). Anything else,
 * such as a list or tuple, is refused with a bounded description: it is never stringified, which
 * for a structure of shared references could take forever.
 */
function asId(x: unknown, file: string, what: () => string): string {
  if (typeof x === 'string') return x;
  if (typeof x === 'number' && Number.isSafeInteger(x)) return String(x);
  throw new HardyError(`${file}: ${what()} is ${describeValue(x)}, expected a string`);
}

/**
 * The dialogues (ids, speakers, labels, sessions or splits; features empty) of an unpickled GCNet
 * label file. Every message quotes ids escaped and bounded, and describes bad values without
 * walking into them.
 */
export function gcnetDialogues(top: unknown, labelFile: string, dataset: GcnetDataset): Dialogue[] {
  const info = DATASETS[dataset];
  const expected = info.labelLayout === 'iemocap' ? 6 : 7;
  if (!Array.isArray(top) || top.length !== expected) {
    throw new HardyError(`${labelFile}: expected a ${expected}-element list [videoIDs, videoLabels, videoSpeakers, videoSentences, ${info.labelLayout === 'iemocap' ? 'trainVid, testVid' : 'trainVids, valVids, testVids'}] for ${dataset}, found ${Array.isArray(top) ? `${top.length} elements` : 'something else'}`);
  }
  const videoIDs = asDict(top[0], labelFile, 'videoIDs');
  const videoLabels = asDict(top[1], labelFile, 'videoLabels');
  const videoSpeakers = asDict(top[2], labelFile, 'videoSpeakers');
  const splitSets =
    info.labelLayout === 'cmu'
      ? { train: new Set(asList(top[4], labelFile, 'trainVids')), valid: new Set(asList(top[5], labelFile, 'valVids')), test: new Set(asList(top[6], labelFile, 'testVids')) }
      : undefined;
  const numClasses = info.task === 'classification' ? info.classNames.length : 1;

  // 1. dialogues and utterances from the pickle
  const dialogues: Dialogue[] = [];
  const seen = new Set<string>();
  for (const [vidRaw, uidsRaw] of videoIDs) {
    const vid = asId(vidRaw, labelFile, () => 'a key of videoIDs');
    const qv = quoteId(vid);
    const uids = asList(uidsRaw, labelFile, `videoIDs[${qv}]`).map((x, i) => asId(x, labelFile, () => `videoIDs[${qv}][${i}]`));
    const labels = asList(videoLabels.get(vidRaw), labelFile, `videoLabels[${qv}]`);
    const speakers = videoSpeakers.has(vidRaw)
      ? asList(videoSpeakers.get(vidRaw), labelFile, `videoSpeakers[${qv}]`).map((x, i) => asId(x, labelFile, () => `videoSpeakers[${qv}][${i}]`))
      : [];
    if (labels.length !== uids.length) throw new HardyError(`${labelFile}: dialogue ${qv} has ${uids.length} utterance ids but ${labels.length} labels`);
    if (info.labelLayout === 'iemocap' && speakers.length !== uids.length) throw new HardyError(`${labelFile}: dialogue ${qv} has ${uids.length} utterance ids but ${speakers.length} speakers`);
    const utterances: Utterance[] = uids.map((uid, i) => {
      const qu = quoteId(uid);
      if (seen.has(uid)) throw new HardyError(`${labelFile}: utterance id ${qu} appears twice (dialogue ${qv})`);
      seen.add(uid);
      const raw = labels[i];
      const label = typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : NaN;
      if (info.task === 'classification') {
        if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
          throw new HardyError(`${labelFile}: utterance ${qu} (dialogue ${qv}) has label ${describeValue(raw)}, expected an integer class in 0..${numClasses - 1} for ${dataset}`);
        }
      } else if (!Number.isFinite(label) || label < -3 || label > 3) {
        throw new HardyError(`${labelFile}: utterance ${qu} (dialogue ${qv}) has label ${describeValue(raw)}, expected a sentiment score in [-3, 3]`);
      }
      let speaker = speakers[i] ?? '';
      if (info.labelLayout === 'iemocap' && speaker !== 'F' && speaker !== 'M') {
        // some writers store speakers another way; the uid's last token starts with the speaker letter
        const fromUid = uid.slice(uid.lastIndexOf('_') + 1, uid.lastIndexOf('_') + 2);
        if (fromUid !== 'F' && fromUid !== 'M') throw new HardyError(`${labelFile}: utterance ${qu} (dialogue ${qv}) has speaker ${quoteId(speaker)}, expected 'F' or 'M'`);
        speaker = fromUid;
      }
      return { id: uid, speaker, label, features: { a: new Float32Array(0), t: new Float32Array(0), v: new Float32Array(0) } };
    });
    const dialogue: Dialogue = { id: vid, utterances };
    if (info.labelLayout === 'iemocap') {
      const session = Number(vid[4]);
      if (!/^Ses0[1-9]/.test(vid)) throw new HardyError(`${labelFile}: dialogue id ${qv} does not look like an IEMOCAP id (Ses0<session><F|M>_...)`);
      dialogue.session = session;
    } else {
      const inSplits = (['train', 'valid', 'test'] as const).filter((s) => splitSets![s].has(vidRaw));
      if (inSplits.length !== 1) throw new HardyError(`${labelFile}: video ${qv} is in ${inSplits.length === 0 ? 'none' : inSplits.join(' and ')} of the train/valid/test lists; expected exactly one`);
      dialogue.split = inSplits[0];
    }
    dialogues.push(dialogue);
  }
  if (dialogues.length === 0) throw new HardyError(`${labelFile}: videoIDs is empty`);
  return dialogues;
}


export function loadGcnet(root: string, dataset: GcnetDataset, options: GcnetOptions = {}): Corpus {
  const info = DATASETS[dataset];
  const labelFile = options.labelFile ? (isAbsolute(options.labelFile) ? options.labelFile : join(root, options.labelFile)) : join(root, info.labelFile);
  if (!existsSync(labelFile)) throw new HardyError(`${labelFile}: label pickle not found (dataset ${dataset} expects ${info.labelFile} in ${root})`);
  const dialogues = gcnetDialogues(readPickle(labelFile), labelFile, dataset);
  const numClasses = info.task === 'classification' ? info.classNames.length : 1;
  // 2. features, one folder per modality
  const featureRoot = options.featureRoot ?? join(root, 'features');
  const all = dialogues.flatMap((d) => d.utterances);
  const dims = { a: 0, t: 0, v: 0 } as Record<Modality, number>;
  const notes: string[] = [];
  for (const m of MODALITIES) {
    const dir = join(featureRoot, options.featureDirs?.[m] ?? DEFAULT_FEATURE_DIRS[m]);
    // faces of the utterance's own speaker (IEMOCAP is dyadic, a clip shows both actors)
    const table = readFeatureFolder(dir, all.map((u) => ({ uid: u.id, speaker: info.labelLayout === 'iemocap' ? u.speaker : '' })));
    all.forEach((u, i) => { u.features[m] = table.vectors[i]!; });
    dims[m] = table.dim;
    if (table.zeroFilled.length) notes.push(`${m}: ${table.zeroFilled.length} utterance(s) had no feature frames/face (zero vector), e.g. ${quoteId(table.zeroFilled[0]!)}`);
  }
  return { dataset, task: info.task, numClasses, classNames: [...info.classNames], dims, dialogues, source: root, labelFile, notes };
}
