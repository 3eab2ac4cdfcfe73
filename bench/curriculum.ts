/**
 * Curriculum measurements that need no study: where a stage-2 epoch's time goes, and how
 * label-consistent the retrieved neighbours are. (The hardness-vs-ground-truth and method
 * comparisons that used to be here are bench/study.ts `hardness` and `run`: the study's arms on the
 * real pipeline, paired by seed; their earlier figures are in bench/LOG.md.)
 *
 *   npx tsx bench/curriculum.ts timing [--preset small] [--cond at] [--epochs 2] [--hidden 256]
 *     One HARDY-MER unit through the real pipeline (src/train/hardy.ts: fine-tuning, indexes,
 *     teacher, student with `--epochs` stage-1 then `--epochs` stage-2 epochs, batches of 16
 *     dialogues): seconds of every student epoch by stage, and the share of a stage-2 epoch spent
 *     on hardness (teacher forward), retrieval and view building.
 *   npx tsx bench/curriculum.ts agreement [--data DIR | --preset small] [--conds a,t,v,at,av,tv] [--folds 1,2,3,4,5]
 *     Label agreement (precision at 1 and 3) of the re-ranked neighbours of every training utterance
 *     for rerank normalised / raw / none and for same-label retrieval (validation: session).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/backend.ts';
import { conditionAvail, l2Normalize, loadCorpus, makeFolds, writeSynth } from '../src/data/index.ts';
import type { Condition, Corpus } from '../src/data/types.ts';
import { DEFAULT_CONFIG, type RunConfig } from '../src/train/config.ts';
import { trainHardy } from '../src/train/hardy.ts';
import { scorerFor } from '../src/eval/metrics.ts';
import { buildFoldIndexes, disposeFoldIndexes } from '../src/curriculum/retrieval-index.ts';
import { Retriever } from '../src/curriculum/retrieval.ts';
import { trainingTable } from '../src/curriculum/table.ts';
import { markdownTable, round } from './support.ts';

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    preset: { type: 'string', default: 'small' },
    conds: { type: 'string', default: 'a,t,v,at,av,tv' },
    cond: { type: 'string', default: 'at' },
    folds: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '2' },
    hidden: { type: 'string', default: '256' },
    data: { type: 'string' },
  },
});

function synthCorpus(preset: string): Corpus {
  const dir = `/tmp/hardy-synth-${preset}-seed1`;
  if (!existsSync(dir)) writeSynth(dir, { preset: preset as 'tiny' | 'small' | 'iemocap', seed: 1 });
  // Text is L2-normalised before any model sees it (docs/method.md §7).
  return l2Normalize(loadCorpus(dir));
}

async function timingCmd(): Promise<void> {
  await initEngine();
  const corpus = synthCorpus(args.preset!);
  const fold = makeFolds(corpus, { seed: 1, validFraction: DEFAULT_CONFIG.validFraction })[0]!;
  const e = Number(args.epochs);
  const config: RunConfig = {
    ...DEFAULT_CONFIG,
    seed: 1,
    model: { ...DEFAULT_CONFIG.model, hidden: Number(args.hidden) },
    teacher: { epochs: 2, stage1Epochs: 1 },
    student: { epochs: 2 * e, stage1Epochs: e },
    finetune: { ...DEFAULT_CONFIG.finetune, epochs: 1 },
    optim: { ...DEFAULT_CONFIG.optim, batchSize: 16 },
  };
  const condition = args.cond as Condition;
  const r = await trainHardy({ method: 'hardy', config, corpus, fold, condition, score: scorerFor(corpus.task, corpus.numClasses), progress: { quiet: true } });
  const t = r.timing;
  const stage2S = r.result.history.filter((h) => h.stage === 2).reduce((a, h) => a + h.seconds, 0);
  const c = t.curriculum ?? { hardnessMs: 0, retrievalMs: 0, viewsMs: 0 };
  console.log(
    JSON.stringify({
      condition,
      hidden: config.model.hidden,
      epochs: r.result.history.map((h) => ({ epoch: h.epoch, stage: h.stage, seconds: round(h.seconds, 2) })),
      stage1EpochS: round(t.stage1EpochS, 2),
      stage2EpochS: round(t.stage2EpochS, 2),
      ratio: round(t.stage2EpochS / t.stage1EpochS, 2),
      hardnessShare: round(c.hardnessMs / 1000 / stage2S, 3),
      retrievalShare: round(c.retrievalMs / 1000 / stage2S, 4),
      viewsShare: round(c.viewsMs / 1000 / stage2S, 4),
      indexS: round(t.indexS, 2),
      meanK: r.diagnostics.at(-1)?.meanK,
    }),
  );
  r.result.model.dispose();
}

/**
 * Label agreement of the kept neighbours of every training utterance (training labels only) for
 * each `rerank` option and retrieval, per condition: precision at 1 and 3 of the re-ranked list.
 * Features as the student sees them without fine-tuning (text L2-normalised).
 */
async function agreementCmd(): Promise<void> {
  await initEngine();
  const dir = args.data ?? '';
  const corpus = dir ? l2Normalize(loadCorpus(dir)) : synthCorpus(args.preset!);
  const conds = args.conds!.split(',') as Condition[];
  const K = 3;
  const rows: Array<Array<string | number>> = [];
  for (const foldIdx of args.folds!.split(',').map(Number)) {
    const fold = makeFolds(corpus, { validation: 'session' }).find((f) => f.index === foldIdx)!;
    const table = trainingTable(fold);
    const indexes = buildFoldIndexes(table, fold);
    for (const [rerank, neighbours] of [['normalised', 'any'], ['raw', 'any'], ['none', 'any'], ['normalised', 'same-label']] as const) {
      const r = new Retriever(table, indexes, K, { rerank, neighbours });
      const cells: [number, number][] = conds.map((c) => {
        const av = conditionAvail(c);
        let p1 = 0;
        let p3 = 0;
        for (let row = 0; row < table.ids.length; row++) {
          const cand = r.candidates(row, av);
          const same = (n: number) => cand.slice(0, n).filter((x) => table.labels[x.row] === table.labels[row]).length / Math.max(1, Math.min(n, cand.length));
          p1 += same(1);
          p3 += same(3);
        }
        return [p1 / table.ids.length, p3 / table.ids.length];
      });
      const mean = (i: 0 | 1) => cells.reduce((a, c) => a + c[i], 0) / cells.length;
      rows.push([foldIdx, rerank, neighbours, ...cells.map(([a, b]) => `${a.toFixed(3)} / ${b.toFixed(3)}`), mean(0).toFixed(3), mean(1).toFixed(3)]);
    }
    disposeFoldIndexes(indexes);
  }
  console.log(markdownTable(['fold', 'rerank', 'neighbours', ...conds.map((c) => `${c} p@1 / p@3`), 'mean p@1', 'mean p@3'], rows));
}

if (positionals[0] === 'agreement') await agreementCmd();
else if (positionals[0] === 'timing') await timingCmd();
else {
  console.error('usage: npx tsx bench/curriculum.ts timing|agreement [options] (see the header of bench/curriculum.ts)');
  process.exit(2);
}
