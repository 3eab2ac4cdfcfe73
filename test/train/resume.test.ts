import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.ts';
import { loadModel } from '../../src/train/checkpoint.ts';
import { runTiny, TINY_CONFIG } from './tiny-run.ts';
import { getFold } from '../../src/data/index.ts';
import { scorerFor } from '../../src/eval/metrics.ts';
import { modelFiles } from '../../src/run/layout.ts';
import { train } from '../../src/train/trainer.ts';
import { synthCorpus } from './corpus.ts';

const CHILD = join(import.meta.dirname, 'child-train.ts');

function runChild(runDir: string, env: Record<string, string> = {}): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, runDir], { env: { ...process.env, ...env }, stdio: 'ignore' });
}

const readResult = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
const readLines = (dir: string): unknown[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const r = JSON.parse(l);
    delete r.seconds; // wall-clock times are the only fields allowed to differ
    delete r.evalSeconds;
    return r;
  });

describe('training: determinism and resume', () => {
  before(async () => {
    await initEngine();
  });

  it('same seed and config give identical metrics on two runs; another seed differs', async () => {
    const strip = (h: { seconds?: number; evalSeconds?: number }[]): unknown[] => h.map(({ seconds: _s, evalSeconds: _e, ...r }) => r);
    const a = await runTiny(undefined);
    const b = await runTiny(undefined);
    assert.deepEqual(strip(a.history), strip(b.history));
    assert.deepEqual(a.test, b.test);
    const c = await runTiny(undefined, undefined, { config: { ...(await import('./tiny-run.ts')).TINY_CONFIG, seed: 4 } });
    assert.notDeepEqual(strip(c.history), strip(a.history));
    for (const r of [a, b, c]) r.model.dispose();
  });

  it('a unit that starts from the shared stage-1 checkpoint selects on reconstruction as one trained in one go', async () => {
    // The checkpoint is JSON: the "no best yet" score (-Infinity) must survive it, or no negative
    // score (minus the reconstruction error) ever counts as better and the unit stops after
    // `earlyStopPatience` stage-2 epochs, deploying its last one.
    const root = mkdtempSync(join(tmpdir(), 'hardy-shared-'));
    const corpus = synthCorpus('tiny');
    const fold = getFold(corpus, 1, { seed: 1, validFraction: 0.2 });
    const unit = (name: string) =>
      train({
        kind: 'teacher',
        config: { ...TINY_CONFIG, earlyStopPatience: 2 },
        corpus,
        fold,
        condition: 'a',
        score: scorerFor(corpus.task, corpus.numClasses),
        primary: 'WA',
        schedule: { epochs: 9, stage1Epochs: 2 },
        decoderHidden: 32,
        files: modelFiles(join(root, name), join(root, 'stage1')),
        selectOn: 'reconstruction',
        progress: { quiet: true },
      });
    const strip = (h: { seconds?: number; evalSeconds?: number }[]): unknown[] => h.map(({ seconds: _s, evalSeconds: _e, ...r }) => r);
    const first = await unit('first'); // trains stage 1 and leaves its end in the shared checkpoint
    const second = await unit('second'); // starts from that checkpoint
    assert.ok(existsSync(join(root, 'stage1', 'checkpoint', 'latest.json')));
    assert.deepEqual(strip(second.history), strip(first.history));
    assert.equal(second.bestEpoch, first.bestEpoch);
    const stage2 = second.history.filter((h) => h.stage === 2);
    assert.equal(second.bestEpoch, stage2.reduce((b, h) => (h.rec! < b.rec! ? h : b)).epoch, 'the selected epoch has the lowest validation reconstruction error');
    first.model.dispose();
    second.model.dispose();
  });

  it('a run killed with SIGKILL mid-epoch resumes and ends with the same metrics', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hardy-resume-'));
    const straight = join(root, 'straight');
    const killed = join(root, 'killed');
    assert.equal(spawnSync(process.execPath, ['--import', 'tsx', CHILD, straight], { stdio: 'ignore' }).status, 0);

    const mark = join(root, 'mark');
    const child = runChild(killed, { KILL_MARK: mark });
    const exited = new Promise<number | null>((res) => child.on('exit', (_code, signal) => res(signal ? -1 : _code)));
    const t0 = Date.now();
    while (!existsSync(mark)) {
      assert.ok(Date.now() - t0 < 120_000, 'child never reached the middle of epoch 3');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, -1);
    // Killed mid-epoch 3: the last checkpoint is epoch 2, no result yet.
    assert.equal(JSON.parse(readFileSync(join(killed, 'checkpoint', 'latest.json'), 'utf8')).epoch, 2);
    assert.ok(!existsSync(join(killed, 'result.json')));

    const second = runChild(killed);
    assert.equal(await new Promise((res) => second.on('exit', res)), 0);
    assert.deepEqual(readResult(killed), readResult(straight));
    assert.deepEqual(readLines(killed), readLines(straight));
    // Exactly one checkpoint left, and the saved model loads and matches the run's architecture.
    assert.deepEqual(readdirSync(join(killed, 'checkpoint')).sort(), ['epoch-0004', 'latest.json']);
    const { model, meta } = loadModel(join(killed, 'model'));
    assert.equal(model.kind, 'student');
    assert.equal(meta!.selection, 'val');
    model.dispose();
  });
});
