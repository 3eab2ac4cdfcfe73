/**
 * A run's deployed models out of hardy-mer and back (`hardy-mer export` / `hardy-mer import`).
 *
 * `FILE.safetensors` holds, for every member (one seed x fold x unit), the deployed model (the
 * student, or MoMKE for a MoMKE run) and its fold's feature pipeline; `FILE.json` (the sidecar)
 * says what they are: architecture, config, class names, the feature pipeline, which tensor prefix
 * belongs to which member, and what each weight name of its model kind means (`WEIGHT_NAMES`).
 *
 * Tensor names and layout follow PyTorch, so a module whose `nn.Linear`s sit at the same dotted
 * paths loads a member with `load_state_dict`: hardy-mer's Linear keeps W [in, out] and computes
 * x W + b; the file holds `<name>.weight` = W^T [out, in] and `<name>.bias` [out] (nn.Linear's
 * y = x weight^T + bias). Every matrix is transposed on the way out and back on the way in, so
 * the round trip is exact.
 *
 *   models.<unit>.seed<s>.fold<f>.<param>.weight|bias     the member's model (WEIGHT_NAMES)
 *   features.seed<s>.fold<f>.<m>.fc<k>.weight|bias        the fold's fine-tuning MLP of modality m
 *
 * `importExport` writes a run folder that `predict`, `serve` and `loadRun` read like a trained one
 * (it has no training curves, test metrics, retrieval indexes or teacher, so no hardness estimate).
 */
import { basename, dirname, join, resolve } from 'node:path';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { decodeSafetensors, encodeSafetensors, type Float32Tensor } from '../data/formats/safetensors.ts';
import { CONDITIONS, MODALITIES, type Condition, type Modality } from '../data/types.ts';
import { createModel } from '../model/factory.ts';
import { FinetuneMlp } from '../model/finetune.ts';
import type { WeightData } from '../model/params.ts';
import type { ModelConfig, ModelKind } from '../model/types.ts';
import { loadModel, saveModel } from '../train/checkpoint.ts';
import type { RunConfig } from '../train/config.ts';
import { FeaturePipeline } from '../train/features.ts';
import type { HardyMethod } from '../train/methods.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { HardyError } from '../util/errors.ts';
import { VERSION } from '../util/version.ts';
import { RunLayout } from './layout.ts';
import { readDeployedRun, type CorpusInfo, type RunFile } from './run-file.ts';
import { parseUnit, unitName } from './unit.ts';

export const EXPORT_FORMAT = 'hardy-mer/export';

/** The HARDY-MER backbone's weights (student and MoMKE; `{m}` = a, t, v; `{l}` = expert layer 0..depth-1). */
const BACKBONE_NAMES: Record<string, string> = {
  'proj.{m}': 'input projection of modality m, [hidden, d_m]: h_m = x_m weight^T + bias, x_m zero-filled when m is missing',
  'expert.{m}.l{l}.attn.q|k|v':
    "layer l of modality m's expert: query, key, value projections [hidden, hidden] of self-attention across the utterances of a dialogue. " +
    'Heads split the hidden axis into `heads` contiguous slices of hidden/heads; scores are scaled by 1/sqrt(hidden/heads); ' +
    'the keys are the utterances where m is available (a query with none gets zeros); no output projection',
  'expert.{m}.l{l}.mlp.fc1|fc2': 'the block MLP [hidden, hidden]: with a = attention(z), z <- z + a + fc2(gelu(fc1(a))), GELU exact (erf); dropout is off at prediction',
  'uni.{m}': 'stage-1 unimodal head [classes, hidden]; training only, not used to predict',
  'fusion.W1': 'z = [r_a * avail_a, r_t * avail_t, r_v * avail_v] [3 hidden] (r_m: the output of expert m on h_m); u = z + relu(z weight^T + bias)',
  'fusion.out': 'logits = u weight^T + bias [classes]; probabilities = softmax(logits), or the score when the task is regression',
};

/** An LSTM layer's weights under `<name>.l{l}.fwd|bwd` (src/model/recurrent.ts). */
const LSTM_NAMES = (name: string, what: string): Record<string, string> => ({
  [`${name}.l{l}.fwd|bwd.x`]:
    `${what}. Input weights [4H, in] and bias of layer l, forward or backward direction: [i, f, g, o] = x weight^T + bias + h_{t-1} h.weight^T; ` +
    `c = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g), h = sigmoid(o) tanh(c); padding steps carry the state; the backward direction runs the dialogue reversed`,
  [`${name}.l{l}.fwd|bwd.h`]: 'recurrent weights [4H, H] (no bias); layer l > 0 reads [forward; backward] of layer l - 1',
});

/** What each weight name of a member means, per model kind (the kind is the sidecar's `kind`). */
export const WEIGHT_NAMES: Record<ModelKind, Record<string, string>> = {
  student: {
    ...BACKBONE_NAMES,
    'decoder.fc1|fc2': 'reconstruction of the three modalities from u (fc2(relu(fc1(u))), [d_a + d_t + d_v]); training only',
  },
  teacher: {
    ...BACKBONE_NAMES,
    'ca.{pair}.*': 'cross-modal attention of the MI term, one block per ordered modality pair (at, ta, av, va, tv, vt); training only',
    'decoder.fc1|fc2': 'reconstruction of the three modalities from u (fc2(relu(fc1(u))), [d_a + d_t + d_v]); training only',
  },
  momke: {
    ...BACKBONE_NAMES,
    'router.{m}.fc1|fc2': 'the mixing weights of the three experts for modality m, softmax(fc2(relu(fc1(h_m))))',
  },
  mmin: {
    'proj.{m}': 'encoder of modality m [hidden/2, d_m]: e_m = relu(x_m weight^T + bias) * avail_m; e = [e_a; e_t; e_v] [3 hidden/2]',
    'target.{m}': 'frozen copy of proj.{m} from the best pre-training epoch: the imagination target; training only',
    'pre.cls.l{l}': 'pre-training classifier on complete inputs (3 layers, relu between); training only',
    'cra.forward.ae{k}.enc|dec.l{l}':
      'forward imagination: 5 residual autoencoders, s_1 = e, o_k = dec_k(enc_k(s_k)), s_{k+1} = s_k + o_k; ' +
      'enc: 3h/2 -> h -> h/2 -> h/4 with relu after every layer (the latent z_k), dec the mirror with relu between (h = hidden)',
    'cra.backward.ae{k}.enc|dec.l{l}': 'backward (cycle) imagination, same shape as the forward one; training only',
    'cls.l{l}': 'classifier on the joint latent [z_1; ...; z_5] [5 hidden/4]: 3 layers, relu between; logits as fusion.out',
  },
  gcnet: {
    ...LSTM_NAMES('context', 'Context encoder: 2-layer BiLSTM, H = hidden per direction, over u = [x_a avail_a; x_t avail_t; x_v avail_v] of the dialogue; c [2H]'),
    '{G}.rgcn.root|rel':
      'G = temporal | speaker graph (window 2 past, 2 future): x_i W_root^T + b + sum_r mean_{j in N_r(i)} x_j W_r, the R relation matrices stacked as rel [R 2H, H]',
    '{G}.conv.root|nb': "graph convolution: g_i = x_i root.weight^T + root.bias + (sum_{j in N(i)} x_j) nb.weight^T, on the rgcn's output, [H]",
    ...LSTM_NAMES('{G}.lstm', "Graph G's 2-layer BiLSTM over [c; g], 3H per direction"),
    '{G}.out': 'f_G = relu(out(BiLSTM_2([c; g]))) [3H]',
    cls: 'logits = (f_temporal + f_speaker) weight^T + bias',
    rec: 'completion of the missing features from the same sum, [d_a + d_t + d_v]; training only',
  },
};

/** The feature pipeline, as the sidecar describes it. */
export const FEATURE_PIPELINE_STEPS = [
  'x: the raw utterance-level feature of modality m, [d_m]',
  'if finetune: x <- fc2(relu(fc1(x))) with features.seed<s>.fold<f>.<m>.fc1|fc2 (d_m -> d_m -> d_m); fc3..fc5 are the stage-0 classifier, training only',
  'text (t) only: x <- x / |x| (L2 norm; a zero vector stays zero)',
];

export interface ExportMember {
  /** Condition, or `rate-<r>` for a random-protocol model. */
  unit: string;
  /** The conditions this member predicts for (a random-protocol model serves all seven). */
  serves: Condition[];
  seed: number;
  fold: number;
  /** Prefix of the model's tensors. */
  model: string;
  /** Prefix of the fold's feature pipeline tensors. */
  features: string;
  /** The model's own record (selected epoch, selection protocol...). */
  meta?: Record<string, unknown>;
}

/** The sidecar JSON (`FILE.json` beside `FILE.safetensors`). */
export interface ExportSidecar {
  format: typeof EXPORT_FORMAT;
  version: 1;
  hardyMer: string;
  /** The safetensors file's name (in the sidecar's folder). */
  weights: string;
  exportedAt: string;
  source: { run: string; createdAt: string; dataset: string; method: HardyMethod };
  kind: ModelKind;
  corpus: CorpusInfo;
  architecture: ModelConfig;
  config: RunConfig;
  featurePipeline: { finetune: boolean; steps: string[] };
  /** How the members become a prediction. */
  prediction: string;
  layout: string;
  weightNames: Record<string, string>;
  members: ExportMember[];
}

/** `FILE.safetensors` -> `FILE.json`. */
export function sidecarPath(file: string): string {
  return join(dirname(file), `${basename(file).replace(/\.safetensors$/, '')}.json`);
}

// hardy-mer's Linear stores W [in, out] (`<name>.W`) and b (`<name>.b`); PyTorch's nn.Linear
// stores weight [out, in] and bias. These two map one naming onto the other.
function toTorch(weights: Map<string, WeightData>, prefix: string, out: Map<string, Float32Tensor>): void {
  for (const [name, w] of weights) {
    if (name.endsWith('.W') && w.shape.length === 2) out.set(`${prefix}${name.slice(0, -2)}.weight`, transpose(w));
    else if (name.endsWith('.b')) out.set(`${prefix}${name.slice(0, -2)}.bias`, w);
    else throw new Error(`export: weight ${name} is neither a Linear matrix nor a bias`);
  }
}

function fromTorch(tensors: Map<string, Float32Tensor>, prefix: string, source: string): Map<string, WeightData> {
  const out = new Map<string, WeightData>();
  for (const [name, t] of tensors) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (rest.endsWith('.weight')) {
      if (t.shape.length !== 2) throw new HardyError(`${source}: ${name} has shape [${t.shape}], expected a matrix`);
      out.set(`${rest.slice(0, -7)}.W`, transpose(t));
    } else if (rest.endsWith('.bias')) out.set(`${rest.slice(0, -5)}.b`, t);
    else throw new HardyError(`${source}: ${name} is neither a .weight nor a .bias`);
  }
  if (!out.size) throw new HardyError(`${source}: no tensor starts with '${prefix}'`);
  return out;
}

function transpose(w: Float32Tensor): Float32Tensor {
  const [r, c] = w.shape as [number, number];
  const values = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) values[j * r + i] = w.values[i * c + j]!;
  return { shape: [c, r], values };
}

export interface ExportOptions {
  /** Only the models of this condition (fixed protocol); default all. */
  condition?: Condition;
}

/**
 * Writes `out` (.safetensors) and its sidecar for the finished units of `runDir`. Needs the engine
 * (the models are loaded through their own classes, which check every weight's name and shape).
 */
export function exportRun(runDir: string, out: string, opts: ExportOptions = {}): ExportSidecar {
  if (!out.endsWith('.safetensors')) throw new HardyError(`--out ${out}: expected a file name ending in .safetensors`);
  const { run, method, kind, layout } = readDeployedRun(runDir);
  const tensors = new Map<string, Float32Tensor>();
  const members: ExportMember[] = [];
  const foldsDone = new Set<string>();
  let architecture: ModelConfig | undefined;
  let finetune = false;
  for (const { layout: u, unit, seed, fold, name } of layout.units()) {
    if (opts.condition && !(unit.protocol === 'fixed' && unit.condition === opts.condition)) continue;
    if (!u.modelSaved(kind)) continue; // unfinished unit
    const features = `features.seed${seed}.fold${fold}.`;
    if (!foldsDone.has(features)) {
      foldsDone.add(features);
      const pipeline = FeaturePipeline.load(u.fold.features);
      if (pipeline.mlps) {
        finetune = true;
        // FinetuneMlp names its layers `ft.<m>.fc<k>`; the file says `<features><m>.fc<k>`.
        for (const m of MODALITIES) {
          const own = `ft.${m}.`;
          toTorch(new Map([...pipeline.mlps[m].params.getWeights()].map(([k, w]) => [k.slice(own.length), w])), `${features}${m}.`, tensors);
        }
      }
      pipeline.dispose();
    }
    const { model, meta } = loadModel(u.models[kind].model);
    const prefix = `models.${name}.seed${seed}.fold${fold}.`;
    toTorch(model.params.getWeights(), prefix, tensors);
    architecture ??= model.config;
    model.dispose();
    members.push({ unit: name, serves: unit.protocol === 'random' ? [...CONDITIONS] : [unit.condition], seed, fold, model: prefix, features, meta });
  }
  if (!members.length || !architecture) {
    const which = opts.condition ? ` for condition '${opts.condition}'` : '';
    throw new HardyError(`${runDir}: no finished model${which} to export`);
  }
  const sidecar: ExportSidecar = {
    format: EXPORT_FORMAT,
    version: 1,
    hardyMer: VERSION,
    weights: basename(out),
    exportedAt: new Date().toISOString(),
    source: { run: resolve(runDir), createdAt: run.createdAt, dataset: run.identity.dataset, method },
    kind,
    corpus: run.corpus,
    architecture,
    config: run.identity.config,
    featurePipeline: { finetune, steps: FEATURE_PIPELINE_STEPS },
    prediction:
      'an utterance is predicted by the members that serve the condition of the modalities it brings; each runs on the whole dialogue ' +
      '(every utterance with its own availability) and their probabilities (or scores) are averaged',
    layout:
      "every Linear is PyTorch's nn.Linear: <name>.weight [out, in], <name>.bias [out], y = x weight^T + bias; " +
      'a member is the tensors under its `model` prefix (architecture) and its `features` prefix (feature pipeline)',
    weightNames: WEIGHT_NAMES[kind],
    members,
  };
  writeFileAtomic(out, encodeSafetensors(tensors, { format: 'pt', producer: `hardy-mer ${VERSION}`, sidecar: basename(sidecarPath(out)) }));
  writeJsonAtomic(sidecarPath(out), sidecar);
  return sidecar;
}

/** Reads `file` and its sidecar; every inconsistency is a HardyError naming the file. */
export function readExport(file: string): { sidecar: ExportSidecar; tensors: Map<string, Float32Tensor> } {
  const side = sidecarPath(file);
  if (!existsSync(file)) throw new HardyError(`${file}: no such file`);
  if (!existsSync(side)) throw new HardyError(`${file}: its sidecar ${side} is missing (export writes both)`);
  let sidecar: ExportSidecar;
  try {
    sidecar = JSON.parse(readFileSync(side, 'utf8')) as ExportSidecar;
  } catch (err) {
    throw new HardyError(`${side}: not valid JSON (${(err as Error).message})`);
  }
  if (sidecar.format !== EXPORT_FORMAT) throw new HardyError(`${side}: format '${String(sidecar.format)}', expected '${EXPORT_FORMAT}'`);
  if (sidecar.version !== 1) throw new HardyError(`${side}: version ${String(sidecar.version)}, this hardy-mer reads version 1`);
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
  return { sidecar, tensors };
}

/**
 * Rebuilds a run folder in `outDir` (which must be empty or absent) from an export, so that
 * `predict`, `serve` and `loadRun` use it. Needs the engine (models are rebuilt to check shapes).
 */
export function importExport(file: string, outDir: string): ExportSidecar {
  const { sidecar, tensors } = readExport(file);
  const existed = existsSync(outDir);
  if (existed && readdirSync(outDir).length) throw new HardyError(`${outDir}: folder is not empty; choose another --out`);
  try {
    writeRun(file, sidecar, tensors, outDir);
  } catch (err) {
    // Nothing half-imported is left behind: the folder was empty or absent, and is again.
    if (!existed) rmSync(outDir, { recursive: true, force: true });
    else for (const name of readdirSync(outDir)) rmSync(join(outDir, name), { recursive: true, force: true });
    throw err;
  }
  return sidecar;
}

function writeRun(file: string, sidecar: ExportSidecar, tensors: Map<string, Float32Tensor>, outDir: string): void {
  const layout = new RunLayout(outDir);
  const seeds = [...new Set(sidecar.members.map((m) => m.seed))];
  const run: RunFile = {
    identity: { dataset: sidecar.source.dataset as RunFile['identity']['dataset'], data: '', load: {}, method: sidecar.source.method, seeds, config: sidecar.config },
    corpus: sidecar.corpus,
    provenance: { version: VERSION, importedFrom: resolve(file) },
    createdAt: new Date().toISOString(),
    version: 1,
  };
  const dims = sidecar.architecture.dims;
  const foldsDone = new Set<string>();
  // Model and features first, run.json last: a folder without run.json is not taken for a run.
  for (const m of sidecar.members) {
    const unit = parseUnit(m.unit);
    if (!unit) throw new HardyError(`${sidecarPath(file)}: member unit '${m.unit}' is not a condition or rate-<r>`);
    const u = layout.unit(m.seed, m.fold, unit);
    if (!foldsDone.has(m.features)) {
      foldsDone.add(m.features);
      let mlps: Record<Modality, FinetuneMlp> | undefined;
      if (sidecar.featurePipeline.finetune) {
        mlps = {} as Record<Modality, FinetuneMlp>;
        for (const mod of MODALITIES) {
          const w = fromTorch(tensors, `${m.features}${mod}.`, file);
          const outDim = w.get('fc5.W')?.shape[1];
          if (!outDim) throw new HardyError(`${file}: ${m.features}${mod}.fc5.weight is missing`);
          mlps[mod] = new FinetuneMlp(dims[mod], outDim, 0, `ft.${mod}`);
          mlps[mod].params.setWeights(new Map([...w].map(([k, v]) => [`ft.${mod}.${k}`, v])), file);
        }
      }
      const pipeline = new FeaturePipeline(dims, mlps);
      pipeline.save(u.fold.features);
      pipeline.dispose();
    }
    const model = createModel(sidecar.kind, sidecar.architecture, 0);
    try {
      const w = fromTorch(tensors, m.model, file);
      model.params.setWeights(w, file);
      const missing = model.params.names().filter((n) => !w.has(n));
      if (missing.length) throw new HardyError(`${file}: member ${m.model} lacks ${missing.slice(0, 3).map((n) => n.replace(/\.W$/, '.weight').replace(/\.b$/, '.bias')).join(', ')}`);
      saveModel(u.models[sidecar.kind].model, model, { ...m.meta, importedFrom: resolve(file) });
    } finally {
      model.dispose();
    }
    writeJsonAtomic(u.record, { method: sidecar.source.method, condition: unitName(unit), fold: m.fold, seed: m.seed, importedFrom: resolve(file) });
  }
  writeJsonAtomic(layout.configFile, sidecar.config);
  writeJsonAtomic(layout.runFile, run);
}
