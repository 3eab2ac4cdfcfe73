/**
 * The server side of the web page (page/): its static files, the run's test utterances
 * (examples.ts), and the saved model files the page's in-browser prediction loads.
 *
 *   GET /, /style.css, /app.js (+ its chunk)    the page (page-bundle.ts: bundled at build, or at start from the sources)
 *   GET /wasm/<file>.wasm                      TensorFlow.js's wasm binaries, from node_modules
 *   GET /examples                              { examples: ExampleEntry[], unavailable? }
 *   GET /example?id=UID                        POST /predict body of the dialogue holding test utterance UID (+ its fold)
 *   GET /browser/members?condition=C[&fold=F]  [{ seed, fold, unit }]: the models the page loads for C (on fold F)
 *   GET /browser/file?condition=C&fold=F&seed=S&name=N   N in model.json, weights.bin, features.json, features.bin
 * Query values are looked up in tables built from the run folder; none is ever used as a path.
 * The static files need no token (they are code); the rest do when the server has one.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type http from 'node:http';
import { dirname, join } from 'node:path';
import { readDeployedRun } from '../run/run-file.ts';
import { HardyError } from '../util/errors.ts';
import { RunExamples } from './examples.ts';
import type { Predictor } from './predictor.ts';
import { RawBody, type Route } from './server.ts';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };
const typeOf = (name: string) => TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
// The page may load only its own files (and run the wasm it was served): no network beyond this server.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function query(req: http.IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://localhost').searchParams;
}

export interface PageOptions {
  runDir: string;
  /** The page's files by name (page-bundle.ts `pageFiles()`). */
  files: Map<string, Buffer>;
  log?: (line: string) => void;
}

/**
 * The page's routes for `createServer({ routes })`, and `labelOf`: a training utterance's true
 * label for the neighbours the page shows (withNeighbourLabels).
 */
export function runPage(o: PageOptions): { routes: Record<string, Route>; labelOf(id: string): string | number | undefined } {
  const routes: Record<string, Route> = {};
  const file = (name: string, data: Buffer) => {
    const body = new RawBody(typeOf(name), data, name.endsWith('.html') ? { 'content-security-policy': CSP } : {});
    routes[name === 'index.html' ? '/' : `/${name}`] = { open: true, methods: { GET: () => body } };
  };
  for (const [name, data] of o.files) file(name, data);
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) file(`wasm/${name}`, readFileSync(join(wasmDir, name)));

  // The corpus is read once, on first use (the page's first request), not while the server starts.
  let examples: RunExamples | { unavailable: string } | undefined;
  const getExamples = () => {
    if (!examples) {
      try {
        examples = RunExamples.load(o.runDir);
      } catch (err) {
        if (!(err instanceof HardyError)) throw err;
        examples = { unavailable: err.message };
      }
    }
    return examples;
  };
  routes['/examples'] = {
    methods: {
      GET: () => {
        const ex = getExamples();
        return ex instanceof RunExamples ? { examples: ex.entries } : { examples: [], unavailable: ex.unavailable };
      },
    },
  };
  routes['/example'] = {
    methods: {
      GET: (req) => {
        const ex = getExamples();
        if (!(ex instanceof RunExamples)) throw new HardyError(`no test utterances: ${ex.unavailable}`);
        return ex.request(query(req).get('id') ?? '');
      },
    },
  };

  // (condition, fold, seed) -> the unit's model folder and its fold's feature pipeline folder.
  const { kind, layout } = readDeployedRun(o.runDir);
  const units = layout
    .units()
    .filter((u) => u.layout.modelSaved(kind))
    .map((u) => ({ seed: u.seed, fold: u.fold, name: u.name, unit: u.unit, model: u.layout.models[kind].model, features: u.layout.fold.features }));
  /** The units serving `condition` (on `fold`, or on every fold without one), as RunPredictor picks them. */
  const unitsFor = (q: URLSearchParams) => {
    const condition = q.get('condition');
    const fold = q.has('fold') ? Number(q.get('fold')) : undefined;
    // A random-missing model serves every condition; a fixed one only its own.
    const found = units.filter((u) => (u.unit.protocol === 'random' || u.unit.condition === condition) && (fold === undefined || u.fold === fold));
    if (!found.length) throw new HardyError(`no model for condition '${condition}'${fold === undefined ? '' : ` on fold ${fold}`} (this run has ${[...new Set(units.map((u) => `${u.name} on fold ${u.fold}`))].join(', ')})`);
    return found;
  };
  routes['/browser/members'] = { methods: { GET: (req) => unitsFor(query(req)).map((u) => ({ seed: u.seed, fold: u.fold, unit: u.name })) } };
  const FILES: Record<string, (u: (typeof units)[number]) => string> = {
    'model.json': (u) => join(u.model, 'model.json'),
    'weights.bin': (u) => join(u.model, 'weights.bin'),
    'features.json': (u) => join(u.features, 'features.json'),
    'features.bin': (u) => join(u.features, 'features.bin'),
  };
  routes['/browser/file'] = {
    methods: {
      GET: (req) => {
        const q = query(req);
        const name = q.get('name') ?? '';
        const where = FILES[name];
        if (!Object.hasOwn(FILES, name) || !where) throw new HardyError(`name must be one of ${Object.keys(FILES).join(', ')}`);
        const u = unitsFor(q).find((x) => x.seed === Number(q.get('seed')));
        if (!u) throw new HardyError(`no model for seed ${q.get('seed')} on fold ${q.get('fold')}`);
        return new RawBody(typeOf(name), readFileSync(where(u)));
      },
    },
  };
  return {
    routes,
    labelOf: (id) => {
      const ex = getExamples();
      return ex instanceof RunExamples ? ex.labelOf(id) : undefined;
    },
  };
}

/** `p` whose explained answers carry each neighbour's true label. */
export function withNeighbourLabels(p: Predictor, labelOf: (id: string) => string | number | undefined): Predictor {
  return {
    info: () => p.info(),
    ready: () => p.ready?.() ?? true,
    stats: () => p.stats?.() ?? {},
    async predict(req) {
      const res = await p.predict(req);
      if (!req.explain) return res;
      for (const u of res.utterances) for (const n of u.neighbours ?? []) n.label = labelOf(n.id);
      return res;
    },
  };
}
