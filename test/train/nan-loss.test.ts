import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.ts';
import { createModel } from '../../src/model/factory.ts';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { HardyError } from '../../src/util/errors.ts';
import { modelFiles } from '../../src/run/layout.ts';
import { runTiny } from './tiny-run.ts';

before(async () => {
  await initEngine();
});

test('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hardy-nan-'));
  try {
    let model: Parameters<typeof loadCheckpoint>[1] | undefined;
    // Epochs 1-2 train normally; in epoch 3 (stage 2) the views carry NaN audio features.
    await assert.rejects(
      runTiny(dir, {
        beforeEpoch: (_e, info) => void (model = info.model),
        viewsFor: (batch, epoch) => (epoch < 2 ? [batch] : [{ ...batch, features: { ...batch.features, a: batch.features.a.map(() => NaN) } }]),
      }, { epochs: 4, stage1Epochs: 1 }),
      (e: unknown) => e instanceof HardyError && /loss became NaN at epoch 3, batch 1/.test(e.message) && /last good checkpoint \(epoch 2\)/.test(e.message),
    );
    // The checkpoint on disk is epoch 2's (0-based 1) and loads into a fresh model with finite weights.
    const fresh = createModel('student', model!.config, 0);
    const ck = loadCheckpoint(modelFiles(dir).checkpoint, fresh);
    assert.equal(ck?.epoch, 1);
    for (const w of fresh.params.getWeights().values()) assert.ok(w.values.every(Number.isFinite));
    fresh.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
