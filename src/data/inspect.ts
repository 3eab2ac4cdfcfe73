/** A summary of a loaded corpus: what `hardy-mer inspect` prints. Pure data, no I/O. */
import { MODALITIES, type Corpus, type Modality } from './types.ts';
import { quoteId } from '../util/errors.ts';

export interface CorpusReport {
  source: string;
  dataset: string;
  task: string;
  classNames: string[];
  dims: Record<Modality, number>;
  /** The modalities with features (all three unless the corpus lacks some). */
  modalities: Modality[];
  dialogues: number;
  utterances: number;
  /** Per IEMOCAP session (`session 1`..) or per split (`train`/`valid`/`test`). */
  groups: Array<{ name: string; dialogues: number; utterances: number }>;
  /** Classification: count per class name; regression: count per rounded score -3..3 (in that order). */
  labels: Array<{ label: string; count: number }>;
  dialogueLength: { mean: number; min: number; max: number };
  /** Per modality, how many utterance vectors are all zero (missing frames/faces). */
  zeroVectors: Record<Modality, number>;
  nonFinite: number;
  difficulty?: { count: number; mean: number; min: number; max: number };
  problems: string[];
}

export function inspectCorpus(corpus: Corpus): CorpusReport {
  const utts = corpus.dialogues.flatMap((d) => d.utterances);
  const groups = new Map<string, { name: string; dialogues: number; utterances: number }>();
  for (const d of corpus.dialogues) {
    const name = d.session !== undefined ? `session ${d.session}` : d.group !== undefined ? `group ${d.group}` : d.split ?? 'all';
    const g = groups.get(name) ?? { name, dialogues: 0, utterances: 0 };
    g.dialogues++;
    g.utterances += d.utterances.length;
    groups.set(name, g);
  }
  const order = (n: string): string => ({ train: '0', valid: '1', test: '2' })[n] ?? n;
  const labels = new Map<string, number>();
  // keys in display order: class names, or the sentiment levels -3..3
  for (const k of corpus.task === 'classification' ? corpus.classNames : ['-3', '-2', '-1', '0', '1', '2', '3']) labels.set(k, 0);
  for (const u of utts) {
    const key = corpus.task === 'classification' ? corpus.classNames[u.label] ?? String(u.label) : String(Math.round(u.label) || 0); // || 0 folds -0 into 0
    labels.set(key, (labels.get(key) ?? 0) + 1);
  }
  const zeroVectors = { a: 0, t: 0, v: 0 } as Record<Modality, number>;
  let nonFinite = 0;
  for (const u of utts) {
    for (const m of MODALITIES) {
      const x = u.features[m];
      let zero = true;
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(x[i]!)) nonFinite++;
        if (x[i] !== 0) zero = false;
      }
      if (zero) zeroVectors[m]++;
    }
  }
  const lengths = corpus.dialogues.map((d) => d.utterances.length);
  const problems: string[] = [...(corpus.notes ?? [])];
  if (nonFinite) problems.push(`${nonFinite} non-finite feature values`);
  for (const m of corpus.modalities ?? MODALITIES) {
    if (zeroVectors[m] && !problems.some((p) => p.startsWith(`${m}:`))) problems.push(`${m}: ${zeroVectors[m]} all-zero vector(s)`);
  }
  const empty = corpus.dialogues.filter((d) => d.utterances.length === 0);
  if (empty.length) problems.push(`${empty.length} dialogue(s) without utterances, e.g. ${quoteId(empty[0]!.id)}`);
  if (corpus.task === 'classification') {
    for (const [name, n] of labels) if (n === 0) problems.push(`class '${name}' has no utterances`);
  }
  let difficulty: CorpusReport['difficulty'];
  if (corpus.difficulty && corpus.difficulty.size) {
    const v = [...corpus.difficulty.values()];
    difficulty = { count: v.length, mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v) };
  }
  return {
    source: corpus.source,
    dataset: corpus.dataset,
    task: corpus.task,
    classNames: corpus.classNames,
    dims: corpus.dims,
    modalities: corpus.modalities ?? [...MODALITIES],
    dialogues: corpus.dialogues.length,
    utterances: utts.length,
    groups: [...groups.values()].sort((a, b) => order(a.name).localeCompare(order(b.name), 'en', { numeric: true })),
    labels: [...labels].map(([label, count]) => ({ label, count })),
    dialogueLength: { mean: utts.length / Math.max(1, lengths.length), min: Math.min(...lengths), max: Math.max(...lengths) },
    zeroVectors,
    nonFinite,
    difficulty,
    problems,
  };
}

export function formatReport(r: CorpusReport): string {
  const lines: string[] = [];
  lines.push(`corpus      ${r.source}`);
  lines.push(`dataset     ${r.dataset} (${r.task}${r.classNames.length ? `, ${r.classNames.length} classes` : ''})`);
  lines.push(`dims        ${MODALITIES.map((m) => `${m}=${r.modalities.includes(m) ? r.dims[m] : '-'}`).join(' ')}`);
  lines.push(`total       ${r.dialogues} dialogues, ${r.utterances} utterances; dialogue length mean ${r.dialogueLength.mean.toFixed(1)}, min ${r.dialogueLength.min}, max ${r.dialogueLength.max}`);
  for (const g of r.groups) lines.push(`  ${g.name.padEnd(10)} ${String(g.dialogues).padStart(5)} dialogues ${String(g.utterances).padStart(6)} utterances`);
  lines.push(`labels      ${r.labels.map((l) => `${l.label}: ${l.count}`).join(', ')}`);
  lines.push(`zero vecs   ${MODALITIES.map((m) => `${m}=${r.modalities.includes(m) ? r.zeroVectors[m] : '-'}`).join(' ')}; non-finite values: ${r.nonFinite}`);
  if (r.difficulty) lines.push(`difficulty  ${r.difficulty.count} utterances, mean ${r.difficulty.mean.toFixed(3)} (min ${r.difficulty.min.toFixed(3)}, max ${r.difficulty.max.toFixed(3)})`);
  lines.push(r.problems.length ? `problems    ${r.problems.length}:` : 'problems    none');
  for (const p of r.problems) lines.push(`  - ${p}`);
  return lines.join('\n') + '\n';
}
