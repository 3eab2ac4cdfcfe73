/**
 * Prediction inside the web page: the run's trained models for one condition and fold, fetched
 * from the server as their saved files, rebuilt with the project's own model code and run on
 * TensorFlow.js's wasm backend with the engine's pure-TypeScript path (engine/wasm-start.ts:
 * the same kernels as the server's fallback path, no native addon). forward.ts is the code the
 * server runs too, so only the engine underneath differs. Bundled by esbuild when the server starts
 * (page-bundle.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { registerXnnpackMatMul, startWasmBackend } from '../../engine/wasm-start.ts';
import { createModel } from '../../model/factory.ts';
import type { MerModel } from '../../model/types.ts';
import { MODEL_FORMAT, parseBundle, type ModelFileHeader } from '../../train/checkpoint.ts';
import { FEATURES_FORMAT, FeaturePipeline } from '../../train/features.ts';
import type { Condition } from '../../data/types.ts';
import { modelOutputs, transformDialogue } from '../forward.ts';
import type { RequestDialogue } from '../predictor.ts';

interface Member {
  model: MerModel;
  pipeline: FeaturePipeline;
}

let started: Promise<void> | undefined;
const cache = new Map<string, Promise<Member[]>>();

/** The wasm backend, its binaries served by `hardy-mer serve` under /wasm/. */
export function startEngine(): Promise<void> {
  started ??= startWasmBackend(new URL('wasm/', location.href).href).then(registerXnnpackMatMul);
  return started;
}

async function fetchOk(url: string, headers: Record<string, string>): Promise<Response> {
  const r = await fetch(url, { headers });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${((await r.json().catch(() => ({}))) as { message?: string }).message ?? ''}`);
  return r;
}

async function loadMember(base: string, headers: Record<string, string>): Promise<Member> {
  const get = (name: string) => fetchOk(`${base}&name=${name}`, headers);
  const [mj, mb, fj, fb] = await Promise.all(['model.json', 'weights.bin', 'features.json', 'features.bin'].map(get));
  const model = parseBundle(await mj!.text(), new Uint8Array(await mb!.arrayBuffer()), { json: `${base} model.json`, bin: `${base} weights.bin` }, MODEL_FORMAT);
  const h = model.header as unknown as ModelFileHeader;
  const m = createModel(h.kind, h.config, 0);
  m.params.setWeights(model.sets.weights ?? new Map(), `${base} model.json`);
  const features = parseBundle(await fj!.text(), new Uint8Array(await fb!.arrayBuffer()), { json: `${base} features.json`, bin: `${base} features.bin` }, FEATURES_FORMAT);
  return { model: m, pipeline: FeaturePipeline.fromBundle(features.header, features.sets, `${base} features.json`) };
}

/** Every model the run trained for `condition` (on `fold`, or on all folds), loaded once per page. */
function members(condition: Condition, fold: number | undefined, headers: Record<string, string>): Promise<Member[]> {
  const key = `${condition}/${fold ?? 'all'}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const r = await fetchOk(`browser/members?condition=${condition}${fold === undefined ? '' : `&fold=${fold}`}`, headers);
      const list = (await r.json()) as { seed: number; fold: number }[];
      return Promise.all(list.map((m) => loadMember(`browser/file?condition=${condition}&fold=${m.fold}&seed=${m.seed}`, headers)));
    })();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/**
 * Class probabilities (or scores) of every utterance of `dialogues`, averaged over the models for
 * `condition` (of `fold`, or of every fold) as the server does: id -> values [C].
 */
export async function predictInBrowser(dialogues: RequestDialogue[], condition: Condition, fold: number | undefined, C: number, headers: Record<string, string>): Promise<Map<string, number[]>> {
  await startEngine();
  const ms = await members(condition, fold, headers);
  const sums = new Map<string, Float32Array>();
  for (const { model, pipeline } of ms) {
    const rows = new Map(dialogues.map((d) => [d.id, transformDialogue(pipeline, d)]));
    for (const [id, values] of modelOutputs(model, dialogues, rows, pipeline.inputDims, C)) {
      const acc = sums.get(id) ?? new Float32Array(C);
      for (let k = 0; k < C; k++) acc[k]! += values[k]!;
      sums.set(id, acc);
    }
  }
  return new Map([...sums].map(([id, s]) => [id, Array.from(s, (x) => x / ms.length)]));
}

export const backendName = () => `${tf.getBackend()} (tfjs ${tf.version_core})`;
