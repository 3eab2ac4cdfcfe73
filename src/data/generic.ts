/**
 * The generic corpus layout, for corpora that are neither IEMOCAP nor CMU (MELD, MSP-IMPROV,
 * MER2023, a lab's own recordings):
 *
 *   <root>/labels.csv  (or labels.jsonl, one object per line with the same fields)
 *     id,dialogue,speaker,label,split        split: train | valid (or dev, val) | test
 *     id,dialogue,speaker,label,group        group: any name; folds are leave-one-group-out
 *   <root>/classes.txt                       optional: the class names in order, one per line
 *   <root>/features/a/<id>.npy               [d] or [T, d] (mean-pooled); any subset of a, t, v
 *   <root>/features/t/<id>.npy
 *   <root>/features/v/<id>.npy
 *
 * Utterance order within a dialogue is the order of the rows. Classes come from the data (sorted,
 * numerically when every name is a number) unless classes.txt fixes them; with task 'regression'
 * the labels are numbers. A modality whose folder is absent is never available: its vectors are a
 * single zero and `Corpus.modalities` leaves it out, so conditions that need it are refused.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { excerpt, HardyError } from '../util/errors.ts';
import { readFeatureFolder } from './features.ts';
import { MODALITIES, type Corpus, type Dialogue, type Modality, type Task, type Utterance } from './types.ts';

export interface GenericOptions {
  /** 'regression' reads labels as numbers; default 'classification' (labels are class names). */
  task?: Task;
  /** Feature folder names under `<root>/features/` (defaults a, t, v). */
  featureDirs?: Partial<Record<Modality, string>>;
}

export const GENERIC_LABEL_FILES = ['labels.csv', 'labels.jsonl'] as const;

/** One row of the labels file, every field as text, with the line it came from. */
interface Row {
  line: number;
  id: string;
  dialogue: string;
  speaker: string;
  label: string;
  split?: string;
  group?: string;
}

const SPLITS: Record<string, 'train' | 'valid' | 'test'> = { train: 'train', valid: 'valid', dev: 'valid', val: 'valid', validation: 'valid', test: 'test' };

/** The labels file of a generic corpus folder, or undefined when it has none. */
export function genericLabelFile(root: string): string | undefined {
  const found = GENERIC_LABEL_FILES.map((n) => join(root, n)).filter((f) => existsSync(f));
  if (found.length > 1) throw new HardyError(`${root}: holds both labels.csv and labels.jsonl; keep one`);
  return found[0];
}

function readRows(file: string): Row[] {
  const text = readFileSync(file, 'utf8');
  let records: Array<{ line: number; fields: Record<string, unknown> }>;
  if (file.endsWith('.csv')) {
    try {
      const parsed = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true, info: true }) as Array<{ record: Record<string, string>; info: { lines: number } }>;
      records = parsed.map((p) => ({ line: p.info.lines, fields: p.record }));
    } catch (err) {
      throw new HardyError(`${file}: not valid CSV (${(err as Error).message})`);
    }
  } else {
    records = [];
    text.split('\n').forEach((l, i) => {
      if (!l.trim()) return;
      let obj: unknown;
      try {
        obj = JSON.parse(l);
      } catch (err) {
        throw new HardyError(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new HardyError(`${file}:${i + 1}: expected an object {id, dialogue, speaker, label, split | group}`);
      records.push({ line: i + 1, fields: obj as Record<string, unknown> });
    });
  }
  if (!records.length) throw new HardyError(`${file}: no rows`);
  const keys = new Set(records.flatMap((r) => Object.keys(r.fields)));
  for (const need of ['id', 'dialogue', 'label']) if (!keys.has(need)) throw new HardyError(`${file}: no '${need}' column (expected id, dialogue, speaker, label and split or group)`);
  if (keys.has('split') === keys.has('group')) throw new HardyError(`${file}: needs exactly one of the columns 'split' (train/valid/test) or 'group' (leave-one-group-out folds)`);
  const text_ = (v: unknown): string => (v === undefined || v === null ? '' : String(v).trim());
  return records.map(({ line, fields }) => ({
    line,
    id: text_(fields.id),
    dialogue: text_(fields.dialogue),
    speaker: text_(fields.speaker),
    label: text_(fields.label),
    split: keys.has('split') ? text_(fields.split) : undefined,
    group: keys.has('group') ? text_(fields.group) : undefined,
  }));
}

/** Class names in order: classes.txt when present, else the distinct labels sorted. */
function classNamesOf(root: string, rows: Row[]): { names: string[]; declared?: string } {
  const file = join(root, 'classes.txt');
  if (existsSync(file)) {
    const names = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    if (!names.length) throw new HardyError(`${file}: no class names`);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new HardyError(`${file}: class '${dup}' is listed twice`);
    return { names, declared: file };
  }
  const names = [...new Set(rows.map((r) => r.label).filter((l) => l !== ''))];
  const numeric = names.every((n) => n !== '' && Number.isFinite(Number(n)));
  return { names: numeric ? names.sort((a, b) => Number(a) - Number(b)) : names.sort() };
}

export function loadGeneric(root: string, options: GenericOptions = {}): Corpus {
  const file = genericLabelFile(root);
  if (!file) throw new HardyError(`${root}: no labels.csv or labels.jsonl (the generic layout)`);
  const rows = readRows(file);
  const task = options.task ?? 'classification';
  const where = (r: Row): string => `${file}:${r.line}: utterance '${excerpt(r.id)}'`;

  // 1. labels
  const classes = task === 'classification' ? classNamesOf(root, rows) : { names: [] };
  const classIndex = new Map(classes.names.map((n, i) => [n, i]));
  const labelOf = (r: Row): number => {
    if (r.label === '') throw new HardyError(`${where(r)} has no label`);
    if (task === 'regression') {
      const x = Number(r.label);
      if (!Number.isFinite(x)) throw new HardyError(`${where(r)} has label '${excerpt(r.label)}', expected a number (--task regression)`);
      return x;
    }
    const k = classIndex.get(r.label);
    if (k === undefined) {
      throw new HardyError(`${where(r)} has unknown class '${excerpt(r.label)}', expected one of ${classes.names.join(', ')}${classes.declared ? ` (${classes.declared})` : ''}`);
    }
    return k;
  };

  // 2. dialogues in order of their first row, utterances in row order
  const seen = new Set<string>();
  const dialogues = new Map<string, Dialogue>();
  const partOf = new Map<string, string>();
  for (const r of rows) {
    if (!r.id) throw new HardyError(`${file}:${r.line}: empty id`);
    if (/[/\\]/.test(r.id) || r.id.startsWith('.')) throw new HardyError(`${where(r)}: an id names a file features/<m>/<id>.npy, so it may not contain '/' or '\\' or start with '.'`);
    if (seen.has(r.id)) throw new HardyError(`${where(r)} appears twice`);
    seen.add(r.id);
    if (!r.dialogue) throw new HardyError(`${where(r)} has no dialogue`);
    let part: string;
    const dialogue = dialogues.get(r.dialogue) ?? { id: r.dialogue, utterances: [] };
    if (r.split !== undefined) {
      const split = SPLITS[r.split.toLowerCase()];
      if (!split) throw new HardyError(`${where(r)} has split '${excerpt(r.split)}', expected train, valid (or dev) or test`);
      dialogue.split = split;
      part = split;
    } else {
      if (!r.group) throw new HardyError(`${where(r)} has no group (every utterance needs one: folds are leave-one-group-out)`);
      dialogue.group = r.group;
      part = r.group;
    }
    const before = partOf.get(r.dialogue);
    if (before !== undefined && before !== part) throw new HardyError(`${where(r)} puts dialogue '${excerpt(r.dialogue)}' in ${r.split !== undefined ? 'split' : 'group'} '${part}', but its earlier rows are in '${before}'`);
    partOf.set(r.dialogue, part);
    const u: Utterance = { id: r.id, speaker: r.speaker, label: labelOf(r), features: { a: new Float32Array(0), t: new Float32Array(0), v: new Float32Array(0) } };
    dialogue.utterances.push(u);
    dialogues.set(r.dialogue, dialogue);
  }
  const list = [...dialogues.values()];
  if (rows[0]!.split !== undefined) {
    for (const s of ['train', 'test'] as const) {
      if (!list.some((d) => d.split === s)) throw new HardyError(`${file}: the ${s} split has no utterances`);
    }
  } else if (new Set(list.map((d) => d.group)).size < 2) {
    throw new HardyError(`${file}: every utterance is in group '${list[0]!.group}'; leave-one-group-out needs at least two groups`);
  }

  // 3. features: one folder per modality present; every id needs one, every file needs an id
  const all = list.flatMap((d) => d.utterances);
  const dims = { a: 1, t: 1, v: 1 } as Record<Modality, number>;
  const modalities: Modality[] = [];
  const notes: string[] = [];
  for (const m of MODALITIES) {
    const dir = join(root, 'features', options.featureDirs?.[m] ?? m);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      for (const u of all) u.features[m] = new Float32Array(1);
      continue;
    }
    for (const name of readdirSync(dir)) {
      const id = name.replace(/\.npy$/i, '');
      if (!seen.has(id) && !name.startsWith('.')) throw new HardyError(`${join(dir, name)}: a feature for utterance '${excerpt(id)}', which ${file} does not list`);
    }
    const table = readFeatureFolder(dir, all.map((u) => ({ uid: u.id, speaker: '' })));
    all.forEach((u, i) => { u.features[m] = table.vectors[i]!; });
    dims[m] = table.dim;
    modalities.push(m);
    if (table.zeroFilled.length) notes.push(`${m}: ${table.zeroFilled.length} utterance(s) had no feature frames (zero vector), e.g. ${table.zeroFilled[0]}`);
  }
  if (!modalities.length) throw new HardyError(`${join(root, 'features')}: no feature folder (expected features/a, features/t and/or features/v holding <id>.npy)`);
  const absent = MODALITIES.filter((m) => !modalities.includes(m));
  if (absent.length) notes.push(`no features/${absent.join(', features/')}: only conditions over ${modalities.join(', ')} can be trained`);
  return {
    dataset: 'generic',
    task,
    numClasses: task === 'classification' ? classes.names.length : 1,
    classNames: classes.names,
    dims,
    dialogues: list,
    source: root,
    labelFile: file,
    modalities,
    notes,
  };
}
