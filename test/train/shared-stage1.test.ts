// The end of stage 1 shared by a fold's units (train/trainer.ts `trainStage1`, run as a job of its
// own by src/run/graph.ts): a unit that starts from it must end bit for bit where a unit that ran
// stage 1 itself ends, whatever the stage-2 selection (the restored state once lost its unset
// bests: -Infinity saved as null, and `x > null` is `x > 0`).
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFold } from '../../src/data/index.ts';
import { initEngine } from '../../src/engine/backend.ts';
import { scorerFor } from '../../src/eval/metrics.ts';
import { modelFiles } from '../../src/run/layout.ts';
import { train, trainStage1, type TrainJob } from '../../src/train/trainer.ts';
import { synthCorpus } from './corpus.ts';
import { TINY_CONFIG } from './tiny-run.ts';

before(async () => {
  await initEngine();
});

const bytes = (w: Map<string, { values: Float32Array }>): Buffer[] => [...w.values()].map((x) => Buffer.from(x.values.buffer, x.values.byteOffset, x.values.byteLength));

for (const selectOn of ['task', 'reconstruction'] as const) {
  it(`a unit from the shared end of stage 1 ends where one that trained stage 1 itself ends (select on ${selectOn})`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'hardy-stage1-'));
    try {
      const corpus = synthCorpus('tiny');
      const job: TrainJob = {
        kind: 'teacher',
        config: TINY_CONFIG,
        corpus,
        fold: getFold(corpus, 1, { seed: 1, validFraction: 0.2 }),
        condition: 'a',
        score: scorerFor(corpus.task, corpus.numClasses),
        primary: 'WA',
        schedule: { epochs: 6, stage1Epochs: 2 },
        selectOn,
        progress: { quiet: true },
      };
      const own = await train({ ...job, files: modelFiles(join(root, 'own')) });
      const shared = join(root, 'stage1');
      await trainStage1({ ...job, files: { ...modelFiles(join(shared, 'training'), shared), stage1Checkpoint: join(shared, 'checkpoint') } });
      const from = await train({ ...job, files: modelFiles(join(root, 'from-shared'), shared) });
      assert.equal(from.history.length, 6);
      assert.equal(from.bestEpoch, own.bestEpoch);
      assert.deepEqual(bytes(from.model.params.getWeights()), bytes(own.model.params.getWeights()));
      own.model.dispose();
      from.model.dispose();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
