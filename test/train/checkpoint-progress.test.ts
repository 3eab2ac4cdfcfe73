import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { initEngine } from '../../src/engine/backend.ts';
import { createModel } from '../../src/model/factory.ts';
import { loadModel, saveModel } from '../../src/train/checkpoint.ts';
import { Progress } from '../../src/train/progress.ts';
import { HardyError } from '../../src/util/errors.ts';
import { tinyConfig } from '../support/model-batch.ts';

describe('model files', () => {
  before(async () => {
    await initEngine();
  });

  it('round-trip every kind; bad files are refused with a HardyError naming the file', () => {
    for (const kind of ['student', 'teacher', 'momke'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'hardy-model-'));
      const model = createModel(kind, tinyConfig(), 4);
      saveModel(dir, model, { note: 'x' });
      const { model: back, meta } = loadModel(dir);
      assert.equal(back.kind, kind);
      assert.deepEqual(back.config, model.config);
      assert.deepEqual(meta, { note: 'x' });
      assert.deepEqual([...back.params.getWeights()], [...model.params.getWeights()]);
      const header = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      assert.equal(header.format, 'hardy-mer/model');
      assert.ok(header.tensors.every((t: { name: string; shape: number[] }) => model.params.vars.get(t.name)?.shape.join() === t.shape.join()));
      back.dispose();
      model.dispose();
    }
    const dir = mkdtempSync(join(tmpdir(), 'hardy-model-'));
    const model = createModel('student', tinyConfig(), 4);
    saveModel(dir, model);
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(16));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof HardyError && /weights\.bin/.test(e.message));
    const header = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...header, format: 'other' }));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof HardyError && /model\.json.*format/.test(e.message));
    assert.throws(() => loadModel(join(dir, 'nope')), HardyError);
    model.dispose();
  });
});

describe('progress display', () => {
  function capture(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
    const s = new PassThrough();
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    Object.assign(s, { isTTY: tty });
    return { stream: s as unknown as NodeJS.WriteStream, text: () => out };
  }

  it('plain lines without a TTY, a redrawn bar with ETA on a TTY, no colour under NO_COLOR', () => {
    const plain = capture(false);
    const p = new Progress('student', 2, 0, { stream: plain.stream });
    p.startEpoch();
    p.step(0, 1, 2, 1.0);
    p.step(0, 2, 2, 3.0);
    p.endEpoch(0, 'val WA 0.5');
    assert.match(plain.text(), /^student epoch 1\/2 loss 2\.0000 val WA 0\.5 \(\d+\.\ds\)\n$/);

    const prev = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    const tty = capture(true);
    const q = new Progress('teacher', 2, 0, { stream: tty.stream });
    q.startEpoch();
    q.step(0, 2, 2, 0.5);
    assert.match(tty.text(), /\rteacher \[.*#+.*\] epoch 1\/2 batch 2\/2 loss 0\.5000 ETA /);
    assert.match(tty.text(), /\x1b\[36m/);
    process.env.NO_COLOR = '1';
    const nc = capture(true);
    const r = new Progress('momke', 2, 0, { stream: nc.stream });
    r.startEpoch();
    r.step(0, 2, 2, 0.5);
    assert.doesNotMatch(nc.text(), /\x1b\[3\dm/);
    if (prev === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = prev;
  });
});
