/**
 * `npm run bench:crash [-- --trials N --points P]`: SIGKILL a tiny `hardy-mer train` run at seeded
 * random moments, resume, compare with an uninterrupted run. Prints one JSON line.
 */
import { parseArgs } from 'node:util';
import { crashTrial, referenceRun } from '../../test/support/crash.ts';
import { inTempDir, synthTiny } from '../../test/support/cli.ts';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '4' }, points: { type: 'string', default: '3' } } });
await inTempDir('crash', async (dir) => {
  const data = synthTiny(dir, 1);
  const ref = referenceRun(data, dir);
  const reports = [];
  for (let t = 0; t < Number(values.trials); t++) {
    const r = await crashTrial({ data, dir, reference: ref.stdout, referenceSeconds: ref.seconds, points: Number(values.points), seed: 100 + t });
    process.stderr.write(`trial ${t + 1}: kills at ${r.kills.join(', ')} ms, ${r.killed} landed, ${r.jsonFilesChecked} JSON files parsed, identical results: ${r.identical}\n`);
    reports.push(r);
  }
  const summary = {
    trials: reports.length,
    killsLanded: reports.reduce((a, r) => a + r.killed, 0),
    killsAttempted: reports.reduce((a, r) => a + r.kills.length, 0),
    jsonFilesChecked: reports.reduce((a, r) => a + r.jsonFilesChecked, 0),
    allIdentical: reports.every((r) => r.identical),
    referenceSeconds: Number(ref.seconds.toFixed(1)),
  };
  console.log(JSON.stringify(summary));
  if (!summary.allIdentical) process.exitCode = 1;
});
