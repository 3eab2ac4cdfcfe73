/**
 * The run's own corpus for the web page: the test-split utterances of every fold the run trained
 * (to pick one and see what the models say), each as the request body of its whole dialogue (the
 * models read the conversation), and every utterance's true label (to show next to the training
 * neighbours a hardness estimate comes from). Read from the corpus folder recorded in run.json;
 * a run whose corpus has moved simply has no examples (the page still takes pasted requests).
 */
import { existsSync } from 'node:fs';
import { loadCorpus, makeFolds, MODALITIES, type Corpus, type Dialogue } from '../data/index.ts';
import { RunLayout } from '../run/layout.ts';
import { readRunFile } from '../run/run-file.ts';
import { HardyError } from '../util/errors.ts';

export interface ExampleEntry {
  id: string;
  dialogue: string;
  /** The fold whose test split holds it: the page asks for that fold's models only, which never saw it. */
  fold: number;
  speaker: string;
  /** Class name (classification) or score. */
  label: string | number;
}

export class RunExamples {
  private constructor(
    private readonly corpus: Corpus,
    readonly entries: ExampleEntry[],
    private readonly dialogueOf: Map<string, { dialogue: Dialogue; fold: number }>,
    private readonly labels: Map<string, string | number>,
  ) {}

  /** Undefined (with the reason) when the run's corpus is not where run.json says. */
  static load(runDir: string): RunExamples | { unavailable: string } {
    const { identity } = readRunFile(runDir);
    if (!existsSync(identity.data)) return { unavailable: `the run's corpus ${identity.data} is not there` };
    const corpus = loadCorpus(identity.data, identity.dataset, identity.load);
    const trained = new Set(new RunLayout(runDir).units().map((u) => u.fold));
    const folds = makeFolds(corpus, { seed: identity.config.seed, validFraction: identity.config.validFraction }).filter((f) => trained.has(f.index));
    const name = (label: number) => (corpus.task === 'classification' ? (corpus.classNames[label] ?? String(label)) : label);
    const entries: ExampleEntry[] = [];
    const dialogueOf = new Map<string, { dialogue: Dialogue; fold: number }>();
    for (const f of folds) {
      for (const d of f.test) {
        for (const u of d.utterances) {
          entries.push({ id: u.id, dialogue: d.id, fold: f.index, speaker: u.speaker, label: name(u.label) });
          dialogueOf.set(u.id, { dialogue: d, fold: f.index });
        }
      }
    }
    const labels = new Map(corpus.dialogues.flatMap((d) => d.utterances.map((u) => [u.id, name(u.label)] as const)));
    return new RunExamples(corpus, entries, dialogueOf, labels);
  }

  labelOf(id: string): string | number | undefined {
    return this.labels.get(id);
  }

  /** The POST /predict body of the dialogue holding test utterance `id` (every modality), and its fold. */
  request(id: string): { fold: number; dialogues: { id: string; utterances: { id: string; speaker: string; features: Record<string, number[]> }[] }[] } {
    const hit = this.dialogueOf.get(id);
    if (!hit) throw new HardyError(`no test utterance '${id}' in this run (GET /examples lists them)`);
    const { dialogue, fold } = hit;
    return {
      fold,
      dialogues: [
        {
          id: dialogue.id,
          utterances: dialogue.utterances.map((u) => ({
            id: u.id,
            speaker: u.speaker,
            features: Object.fromEntries(MODALITIES.map((m) => [m, Array.from(u.features[m])])),
          })),
        },
      ],
    };
  }

  get task() {
    return this.corpus.task;
  }
}
