/**
 * Server load test (issue 8), loopback only, bounded in count and time: N concurrent clients send
 * a seeded mix of valid and malformed requests (bad JSON, NaN literal, Infinity, wrong dims,
 * unknown condition/modality, empty, no model for the condition, bodies over the size limit).
 * Checks: the server never crashes, every malformed request gets the expected 4xx with a reason,
 * every valid answer equals calling the predictor directly on the same validated request.
 * Reports p50/p99 latency of valid requests and of `GET /health` polled during the storm,
 * throughput, predictions (utterances answered) per second, and the queueing bound the throughput
 * implies (Little's law for a closed loop: clients / requests per second).
 *
 *   node --import tsx bench/serve-load.ts [--clients 100] [--requests 20] [--seconds 120] [--seed 1]
 *        [--utterances 1] [--workers 1] [--batch-max 64] [--batch-delay-ms 0] [--worker-nice 0] [--parse-thread-kib 16|off] [--timeout-ms 30000] [--run RUNDIR] [--record]
 *        [--profile FILE.cpuprofile]
 *
 * --workers 0 serves from the main thread without the pool: the reference the pool is measured against.
 * --parse-thread-kib off parses every body on the server's main thread (before the parsing thread).
 *
 * Without --run it serves a deterministic stand-in predictor; with --run, the trained run's models.
 * The server runs as `hardy-mer serve` does: main thread for HTTP, predictions in a PredictorPool
 * of --workers threads; the clients run in another worker thread, so generating bodies never stalls
 * the server's event loop. All share the machine's cores. The machinery and its checks are in
 * test/support/serve-load.ts (shared with the fast subset in `npm test`); this file is the command
 * line and the table of bench/RESULTS.md.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { writeFileAtomic } from '../src/util/atomic.ts';
import type { Predictor, PredictorSpec } from '../src/serve/predictor.ts';
import { initEngine } from '../src/engine/backend.ts';
import { DEFAULT_PARSE_THREAD_BYTES } from '../src/serve/server.ts';
import { HardyError } from '../src/util/errors.ts';
import { makeFakePredictor } from '../test/support/fake-predictor.ts';
import { NUMERIC_TOLERANCE, runServeLoad, type LoadOptions, type LoadReport, type PredictorFactory } from '../test/support/serve-load.ts';

const RUN_PREDICTOR = '../src/serve/run-predictor.ts';

function markdown(r: LoadReport, o: LoadOptions, command: string, predictorName: string, title: string): string {
  const f = (x: number) => x.toFixed(1);
  const kinds = Object.entries(r.byKind)
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const p = o.pool;
  const s = r.mainThread.sched;
  return `## ${title}

${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Command: \`${command}\`

Loopback, ${o.clients} concurrent clients x up to ${o.requestsPerClient} requests (valid ones: ${o.utterances} utterance(s) in one dialogue), bound ${o.maxSeconds} s,
body limit ${(o.maxBodyBytes / 2 ** 20).toFixed(1)} MiB, predictor: ${predictorName}; ${p.workers === 0 ? 'predictions on the main thread (no pool: the reference)' : `${p.workers ?? 1} prediction worker thread(s), batches up to
${p.maxBatchUtterances ?? 64} utterances, batch delay ${p.batchDelayMs ?? 0} ms, workers ${p.workerNice ?? 0} nice steps below the main thread`}; bodies ${o.parseThreadBytes === Infinity ? 'all parsed on the main thread' : `of ${((o.parseThreadBytes ?? DEFAULT_PARSE_THREAD_BYTES) / 1024).toFixed(0)} KiB or more parsed in the parsing thread`}; ${cpus().length} cores shared with other work (1-minute load average
${r.loadAverage[0].toFixed(1)} before, ${r.loadAverage[1].toFixed(1)} after).

| measure | value |
|---|---|
| requests | ${r.requests} (${kinds}) |
| request bytes sent | ${r.bodyMiB.toFixed(1)} MiB |
| wall time | ${r.seconds.toFixed(1)} s (${r.throughput.toFixed(0)} requests/s) |
| predictions (utterances answered) per second | ${r.predictionsPerSecond.toFixed(0)} |
| server crashes / network errors / failures | ${r.crashes} / ${r.networkErrors} / ${r.failures.length} |
| malformed answered with the expected 4xx and reason | ${r.malformedOk} of ${r.malformed} |
| valid answers equal to a direct predictor call (ids, labels, conditions, hardness identical; probabilities within ${NUMERIC_TOLERANCE}) | ${r.validIdentical} of ${r.valid}, ${r.validExact} bit-identical (largest difference ${r.maxDifference.toExponential(1)}) |
| latency, one client alone p50 / p99 | ${f(r.latencyMs.aloneP50)} / ${f(r.latencyMs.aloneP99)} ms |
| latency, valid requests p50 / p99 | ${f(r.latencyMs.validP50)} / ${f(r.latencyMs.validP99)} ms |
| queueing bound (clients / throughput) and valid p99 / bound | ${f(r.queueBoundMs)} ms, ${(r.latencyMs.validP99 / r.queueBoundMs).toFixed(2)}x |
| GET /health during the load (${r.healthPolls} polls) p50 / p99 / max | ${f(r.latencyMs.healthP50)} / ${f(r.latencyMs.healthP99)} / ${f(r.latencyMs.healthMax)} ms |
| GET /health polls over 50 ms | ${r.healthOver50} of ${r.healthPolls} |
| server main thread: event-loop delay p50 / p99 / max (10 ms timer) | ${f(r.mainThread.loopDelayP50)} / ${f(r.mainThread.loopDelayP99)} / ${f(r.mainThread.loopDelayMax)} ms |
| server main thread: garbage collections (count, total, longest pause) | ${r.mainThread.gcCount}, ${f(r.mainThread.gcMs)} ms, ${f(r.mainThread.gcMaxMs)} ms (${Object.entries(r.mainThread.gcByKind).map(([k, [n, ms]]) => `${k} ${n}, longest ${f(ms)} ms`).join('; ')}) |
| server main thread: on a core / runnable but waiting for one (mean wait per turn) | ${s ? `${f(s.cpuMs)} / ${f(s.waitMs)} ms of ${f(r.seconds * 1000)} (${f(s.waitMs / Math.max(1, s.slices))} ms)` : 'not measured (Linux only)'} |
| CPU during the load: whole process / server main thread / the bench's client thread (waiting for a core) | ${f(r.processCpuMs / 1000)} / ${s ? f(s.cpuMs / 1000) : '-'} / ${r.clientsSched ? `${f(r.clientsSched.cpuMs / 1000)} (${f(r.clientsSched.waitMs / 1000)})` : '-'} s of ${f(r.seconds)} s x ${cpus().length} cores |
| latency, all requests p50 / p99 / max | ${f(r.latencyMs.p50)} / ${f(r.latencyMs.p99)} / ${f(r.latencyMs.max)} ms |
| pool | ${JSON.stringify(r.pool)} |
`;
}

/**
 * Puts a section into bench/RESULTS.md (the current figures) in place of the section with the same
 * title, and moves the replaced one to the top of bench/LOG.md (the history) as a dated entry.
 */
export function record(section: string, dir = 'bench'): void {
  const results = join(dir, 'RESULTS.md');
  const title = section.slice(0, section.indexOf('\n'));
  const text = readFileSync(results, 'utf8');
  const start = text.indexOf(`\n${title}\n`);
  if (start < 0) return writeFileAtomic(results, `${text.trimEnd()}\n\n${section.trimEnd()}\n`);
  const next = text.indexOf('\n## ', start + 1);
  const end = next < 0 ? text.length : next + 1;
  const old = text.slice(start + 1, end).trimEnd();
  const log = join(dir, 'LOG.md');
  const logText = readFileSync(log, 'utf8');
  const at = logText.indexOf('\n## ') + 1 || logText.length;
  const stamp = new Date().toISOString().slice(0, 10);
  const entry = `## ${stamp} — ${title.slice(3)}: the figures this day's run replaced\n\n${old.replace(/^## .*\n+/, '')}\n\n`;
  writeFileAtomic(log, logText.slice(0, at) + entry + logText.slice(at));
  writeFileAtomic(results, `${text.slice(0, start + 1)}${section.trimEnd()}\n${text.slice(end).replace(/^(?!\n|$)/, '\n')}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '100' },
      requests: { type: 'string', default: '20' },
      seconds: { type: 'string', default: '120' },
      seed: { type: 'string', default: '1' },
      utterances: { type: 'string', default: '1' },
      workers: { type: 'string', default: '1' },
      'batch-max': { type: 'string', default: '64' },
      'batch-delay-ms': { type: 'string', default: '0' },
      'worker-nice': { type: 'string', default: '0' },
      'timeout-ms': { type: 'string', default: '30000' },
      'parse-thread-kib': { type: 'string', default: String(DEFAULT_PARSE_THREAD_BYTES / 1024) },
      'max-body-mib': { type: 'string', default: '2' },
      record: { type: 'boolean', default: false },
      profile: { type: 'string' },
      run: { type: 'string' },
    },
  });
  let name: string;
  let spec: PredictorSpec;
  let direct: PredictorFactory;
  if (values.run) {
    const runDir = values.run;
    name = `the trained run ${runDir}`;
    spec = { module: new URL(RUN_PREDICTOR, import.meta.url).href, options: { runDir } };
    direct = async () => {
      await initEngine();
      // Resolved at run time: the run-folder predictor sits above this bench's static imports.
      const mod = await import(RUN_PREDICTOR);
      return mod.RunPredictor.load(runDir) as Predictor;
    };
  } else {
    // IEMOCAP (GCNet features) dimensions and the six incomplete-condition models.
    const fake = { dims: { a: 512, t: 1024, v: 1024 } };
    name = 'deterministic linear stand-in (test/support/fake-predictor.ts), IEMOCAP dims a 512 / t 1024 / v 1024, 4 classes';
    spec = { module: new URL('../test/support/fake-predictor.ts', import.meta.url).href, options: fake };
    direct = () => makeFakePredictor(fake);
  }
  const o: LoadOptions = {
    spec,
    direct,
    pool: { workers: Number(values.workers), maxBatchUtterances: Number(values['batch-max']), batchDelayMs: Number(values['batch-delay-ms']), workerNice: Number(values['worker-nice']), timeoutMs: Number(values['timeout-ms']) },
    clients: Number(values.clients),
    requestsPerClient: Number(values.requests),
    maxSeconds: Number(values.seconds),
    seed: Number(values.seed),
    maxBodyBytes: Math.round(Number(values['max-body-mib']) * 2 ** 20),
    utterances: Number(values.utterances),
    parseThreadBytes: values['parse-thread-kib'] === 'off' ? Infinity : Number(values['parse-thread-kib']) * 1024,
    profile: values.profile,
  };
  if (!(o.parseThreadBytes! >= 0)) throw new HardyError(`--parse-thread-kib must be a number of KiB or 'off', got '${values['parse-thread-kib']}'`);
  const r = await runServeLoad(o);
  const command = `npm run bench:serve -- ${process.argv.slice(2).join(' ')}`.trim();
  const md = markdown(r, o, command, name, values.run ? 'Server load, trained model' : 'Server load');
  console.log(md);
  if (r.failures.length) console.log('Failures (first 20):\n  ' + r.failures.slice(0, 20).join('\n  '));
  if (values.record) record(md);
  process.exit(r.failures.length || r.crashes ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main().catch((err) => {
    console.error(err instanceof HardyError ? err.message : err);
    process.exit(1);
  });
}
