/** `hardy-mer predict`: emotions (or sentiment) for new utterances with any subset of modalities. */
import { Command } from 'commander';
import type { PredictResponse } from '../../serve/predictor.ts';
import { writeFileAtomic } from '../../util/atomic.ts';

function formatPredictions(r: PredictResponse, classNames: string[]): string {
  const lines = r.utterances.map((u) => {
    const detail = u.probs ? u.probs.map((p, k) => `${classNames[k] ?? k} ${p.toFixed(3)}`).join('  ') : `score ${u.score!.toFixed(3)}`;
    return `${u.dialogue}\t${u.id}\t{${u.used.join(',')}}\t${u.label}\t${detail}`;
  });
  return ['dialogue\tutterance\tused\tlabel\tdetail', ...lines].join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('Predict for utterances in a JSON, JSONL or npy folder (a|t|v/<uid>.npy) with the models of a run')
    .requiredOption('--run <dir>', 'run folder written by `hardy-mer train`')
    .requiredOption('--input <path>', 'FILE.json (same body as POST /predict), FILE.jsonl (one utterance per line) or a folder a|t|v/<uid>.npy [+ dialogues.json]')
    .option('--out <file>', 'also write the JSON response to this file')
    .option('--json', 'print the JSON response instead of a table')
    .action(async (opts: { run: string; input: string; out?: string; json?: boolean }) => {
      const { initEngine } = await import('../../engine/backend.ts');
      const { readPredictInput } = await import('../../serve/input.ts');
      const { RunPredictor } = await import('../../serve/run-predictor.ts');
      await initEngine();
      const predictor = RunPredictor.load(opts.run);
      try {
        const info = predictor.info();
        const req = readPredictInput(opts.input, { dims: info.dims, conditions: info.models.map((m) => m.condition), limits: info.featureLimits });
        const res = await predictor.predict(req);
        if (opts.out) writeFileAtomic(opts.out, JSON.stringify(res, null, 2) + '\n');
        process.stdout.write(opts.json ? JSON.stringify(res) + '\n' : formatPredictions(res, info.classNames));
      } finally {
        predictor.dispose();
      }
    });
}
