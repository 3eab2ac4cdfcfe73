/**
 * `loadCorpus(dir, dataset, options)`: the one entry point for reading a corpus from disk.
 * GCNet/MERTools folders (iemocap4/iemocap6/mosi/mosei), an MMSA pickle (mmsa) or the generic
 * layout (generic: labels.csv/labels.jsonl + features/<m>/<id>.npy); with no dataset given, it is
 * detected from the label file found in `dir` (or a `.pkl` path means MMSA).
 * A `difficulty.json` next to the label pickle (synthetic corpora) fills `Corpus.difficulty`.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeValue, HardyError, quoteId } from '../util/errors.ts';
import { readRegularText } from '../util/files.ts';
import { DATASETS } from './datasets.ts';
import { genericLabelFile, loadGeneric, type GenericOptions } from './generic.ts';
import { loadGcnet, type GcnetOptions } from './gcnet.ts';
import { loadMmsa, type MmsaOptions } from './mmsa.ts';
import { MODALITIES, type Condition, type Corpus, type DatasetName, type Modality } from './types.ts';

export interface LoadOptions extends GcnetOptions, MmsaOptions, Pick<GenericOptions, 'task'> {}

export function detectDataset(dir: string): DatasetName {
  if (existsSync(dir) && statSync(dir).isFile()) return 'mmsa';
  for (const [name, info] of Object.entries(DATASETS)) if (existsSync(join(dir, info.labelFile))) return name as DatasetName;
  for (const f of ['aligned_50.pkl', 'unaligned_50.pkl', 'unaligned_39.pkl']) if (existsSync(join(dir, f))) return 'mmsa';
  if (genericLabelFile(dir)) return 'generic';
  throw new HardyError(`${dir}: no corpus found (expected one of ${Object.values(DATASETS).map((d) => d.labelFile).join(', ')}, an MMSA aligned_50.pkl/unaligned_50.pkl, or a generic labels.csv/labels.jsonl)`);
}

export function loadCorpus(dir: string, dataset?: DatasetName, options: LoadOptions = {}): Corpus {
  if (!existsSync(dir)) throw new HardyError(`${dir}: corpus folder not found`);
  const name = dataset ?? detectDataset(dir);
  if (options.task && name !== 'generic') {
    throw new HardyError(`${dir}: --task applies to the generic layout only (${name} is ${name === 'mmsa' || name.startsWith('mo') ? 'regression' : 'classification'} by definition)`);
  }
  const corpus = name === 'mmsa' ? loadMmsa(dir, options) : name === 'generic' ? loadGeneric(dir, options) : loadGcnet(dir, name, options);
  const diffFile = join(statSync(dir).isDirectory() ? dir : join(dir, '..'), 'difficulty.json');
  if (existsSync(diffFile)) {
    const { overall, perModality } = readDifficultyFile(diffFile, corpus);
    corpus.difficulty = overall;
    if (perModality) corpus.modalityDifficulty = perModality;
  }
  return corpus;
}

/** The overall difficulty map of a `difficulty.json` (either form). */
export function readDifficulty(file: string, corpus: Corpus): Map<string, number> {
  return readDifficultyFile(file, corpus).overall;
}

/**
 * `{uid: number in [0, 1]}` or `{uid: {a, t, v}}` (each in [0, 1]; the overall difficulty is their
 * mean) covering every utterance of the corpus.
 */
export function readDifficultyFile(file: string, corpus: Corpus): { overall: Map<string, number>; perModality?: Map<string, Record<Modality, number>> } {
  let raw: unknown;
  try {
    raw = JSON.parse(readRegularText(file, 'difficulty file'));
  } catch (err) {
    throw new HardyError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HardyError(`${file}: expected an object {uid: difficulty}`);
  const out = new Map<string, number>();
  const per = new Map<string, Record<Modality, number>>();
  const unit = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;
  for (const d of corpus.dialogues) {
    for (const u of d.utterances) {
      const v = Object.hasOwn(raw, u.id) ? (raw as Record<string, unknown>)[u.id] : undefined; // an id such as `__proto__` is data, not a key of Object.prototype
      const own = (o: object, m: string): unknown => (Object.hasOwn(o, m) ? (o as Record<string, unknown>)[m] : undefined);
      if (unit(v)) out.set(u.id, v);
      else if (v && typeof v === 'object' && MODALITIES.every((m) => unit(own(v, m)))) {
        const r = v as Record<Modality, number>;
        per.set(u.id, { a: r.a, t: r.t, v: r.v });
        out.set(u.id, (r.a + r.t + r.v) / 3);
      } else {
        throw new HardyError(`${file}: utterance ${quoteId(u.id)} has difficulty ${describeValue(v)}, expected a number in [0, 1] or {a, t, v} in [0, 1]`);
      }
    }
  }
  if (per.size && per.size !== out.size) throw new HardyError(`${file}: some utterances have per-modality difficulty and some do not; expected one form`);
  return { overall: out, perModality: per.size ? per : undefined };
}

/** True difficulty of an utterance under a condition: mean of the missing modalities' difficulty. */
export function conditionDifficulty(per: Record<Modality, number>, avail: readonly number[]): number {
  let s = 0;
  let n = 0;
  MODALITIES.forEach((m, i) => {
    if (!avail[i]) {
      s += per[m];
      n++;
    }
  });
  return n ? s / n : 0;
}

/**
 * A condition names the modalities a model may see; one the corpus has no features for would be
 * an all-zero input, so it is refused (random protocol: every modality can be drawn, so all needed).
 */
export function assertModalities(corpus: Corpus, conditions: readonly Condition[], random: boolean): void {
  const have = corpus.modalities;
  if (!have || have.length === 3) return;
  const only = `${corpus.source}: has features for ${have.join(', ')} only`;
  if (random) throw new HardyError(`${only}; the random protocol draws from all three modalities (use the fixed protocol with --conditions over ${have.join(', ')})`);
  const bad = conditions.filter((c) => [...c].some((m) => !(have as string[]).includes(m)));
  if (bad.length) throw new HardyError(`${only}; condition ${bad.join(', ')} needs a modality it lacks (choose --conditions over ${have.join(', ')})`);
}
