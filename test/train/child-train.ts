/**
 * Child process for the resume test: trains a small student on the tiny corpus into argv[2].
 * With KILL_MARK set, it writes that file in the middle of epoch 3 and then stalls, so the parent
 * can SIGKILL it mid-epoch.
 */
import { writeFileSync } from 'node:fs';
import { initEngine } from '../../src/engine/backend.ts';
import { runTiny } from './tiny-run.ts';

await initEngine();
const mark = process.env.KILL_MARK;
await runTiny(process.argv[2]!, {
  viewsFor: (batch, epoch) => {
    if (mark && epoch === 3) {
      writeFileSync(mark, 'mid-epoch');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
    }
    return [batch];
  },
});
