/**
 * `npm run bench:knn [-- --repeats 15] [--no-ref]`
 *
 * Exact kNN batch as the curriculum runs it: 800 queries against 6,000 x 1024, top-6, ours
 * (`ExactIndex.search`: native sgemm + selection when the addon is built, else tfjs matMul + topk;
 * HARDY_MER_KNN=tfjs forces the latter) against Debian's python3-faiss (IndexFlatL2, and IndexFlatIP
 * on L2-normalised vectors for cosine), 2 threads, same data (written here, read by
 * bench/torch_knn_faiss.py). Data: 60 Gaussian clusters (centres N(0, 1), points centre + 0.5 N(0, 1)),
 * queries drawn the same way, so neighbours are well separated as real features are.
 * Timed on both sides: the search call only (index built before), median over repeats after one
 * warm-up; `ours_ms`/`ref_ms` are the L2 + cosine medians summed. The neighbour sets are compared.
 * Last line of output: one JSON object.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../src/engine/backend.ts';
import { KNN_ENV } from '../src/engine/knn.ts';
import { ExactIndex, type Metric } from '../src/curriculum/retrieval-index.ts';
import { Rng } from '../src/util/rng.ts';
import { median, peakRssMb, round, runPythonRef } from './support.ts';
import { inTempDir } from '../test/support/cli.ts';

const [N, NQ, DIM, K] = [6000, 800, 1024, 6];
const METRICS: Metric[] = ['l2', 'cosine'];

function clustered(n: number, centres: Float32Array, rng: Rng): Float32Array {
  const x = new Float32Array(n * DIM);
  const nc = centres.length / DIM;
  for (let i = 0; i < n; i++) {
    const c = rng.int(nc);
    for (let j = 0; j < DIM; j++) x[i * DIM + j] = centres[c * DIM + j]! + 0.5 * rng.normal();
  }
  return x;
}


function runOurs(db: Float32Array, q: Float32Array, repeats: number): Record<Metric, { ms: number[]; rows: Int32Array }> {
  const ids = Array.from({ length: N }, (_, i) => `u${i}`);
  const out = {} as Record<Metric, { ms: number[]; rows: Int32Array }>;
  for (const metric of METRICS) {
    const index = new ExactIndex({ metric, dim: DIM, fold: 1, ids, vectors: db });
    index.search(q, K); // warm-up
    const ms: number[] = [];
    let rows: Int32Array = new Int32Array();
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      rows = index.search(q, K).rows;
      ms.push(performance.now() - t0);
    }
    index.dispose();
    out[metric] = { ms, rows };
    process.stderr.write(`ours ${metric}: ${ms.map((t) => t.toFixed(1)).join(' ')} ms\n`);
  }
  return out;
}

function runRef(dir: string, repeats: number): { ms: Record<Metric, number[]>; rows: Record<Metric, Int32Array>; rssMb: number } | null {
  const out = runPythonRef<{ times_ms: Record<Metric, number[]>; rss_mb: number }>(
    'torch_knn_faiss.py', [dir, '--n', `${N}`, '--nq', `${NQ}`, '--dim', `${DIM}`, '--k', `${K}`, '--repeats', `${repeats}`], "Debian's python3-faiss",
  );
  if (!out) return null;
  const rows = {} as Record<Metric, Int32Array>;
  for (const m of METRICS) rows[m] = new Int32Array(new Uint8Array(readFileSync(join(dir, `faiss-${m}.i32`))).buffer);
  return { ms: out.times_ms, rows, rssMb: out.rss_mb };
}

/** Fraction of queries whose top-k row sets are equal (order within the set ignored). */
function agreement(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < NQ; i++) {
    const x = [...a.subarray(i * K, (i + 1) * K)].sort((p, q) => p - q).join();
    const y = [...b.subarray(i * K, (i + 1) * K)].sort((p, q) => p - q).join();
    if (x === y) same++;
  }
  return same / NQ;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const repeats = argv.includes('--repeats') ? Number(argv[argv.indexOf('--repeats') + 1]) : 15;
  const ref = !argv.includes('--no-ref');
  const engine = await initEngine();
  const rng = new Rng(11);
  const centres = new Float32Array(60 * DIM).map(() => rng.normal());
  const db = clustered(N, centres, rng);
  const q = clustered(NQ, centres, rng);
  await inTempDir('knn', (dir) => {
    writeFileSync(join(dir, 'db.f32'), db);
    writeFileSync(join(dir, 'queries.f32'), q);
    const load0 = loadavg()[0]!;
    const ours = runOurs(db, q, repeats);
    const oursRss = peakRssMb();
    const faiss = ref ? runRef(dir, repeats) : null;
    if (!ref) process.stderr.write('reference not run: --no-ref\n');
    const oursMs = METRICS.reduce((s, m) => s + median(ours[m].ms), 0);
    const refMs = faiss ? METRICS.reduce((s, m) => s + median(faiss.ms[m]), 0) : null;
    const per = Object.fromEntries(METRICS.flatMap((m) => [
      [`ours_${m}_ms`, round(median(ours[m].ms))],
      [`ref_${m}_ms`, faiss ? round(median(faiss.ms[m])) : null],
      [`agree_${m}`, faiss ? agreement(ours[m].rows, faiss.rows[m]) : null],
      [`ours_${m}_spread_ms`, [round(Math.min(...ours[m].ms)), round(Math.max(...ours[m].ms))]],
      [`ref_${m}_spread_ms`, faiss ? [round(Math.min(...faiss.ms[m])), round(Math.max(...faiss.ms[m]))] : null],
    ]));
    console.log(JSON.stringify({
      ours_ms: round(oursMs),
      ref_ms: refMs === null ? null : round(refMs),
      ratio: refMs === null ? null : round(oursMs / refMs, 2),
      ours_rss_mb: oursRss,
      ref_rss_mb: faiss?.rssMb ?? null,
      ours_path: process.env[KNN_ENV] === 'tfjs' || engine.matmul !== 'native' ? `tfjs (${engine.matmul} matmul)` : 'native',
      ...per,
      repeats,
      load_avg_1m: [round(load0), round(loadavg()[0]!)],
    }));
  });
}

await main();
