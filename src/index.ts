/**
 * The package's public API: `import { ... } from 'hardy-mer'`. Only what this module exports is
 * covered by semantic versioning (CHANGELOG.md); every other module may change in any release.
 * It is kept small on purpose: load a corpus, run a configured experiment, load a trained run
 * and predict, serve a run over HTTP, export a run's models (safetensors) and import them back.
 *
 * Every function here starts the tensor engine itself (once per process), so a caller never has to.
 */
import { loadCorpus as loadCorpusImpl, type LoadOptions } from './data/load.ts';
import type { Condition, Corpus, DatasetName } from './data/types.ts';
import { initEngine } from './engine/backend.ts';
import { runExperiment as runExperimentImpl } from './run/experiment.ts';
import type { RunResults } from './eval/report-data.ts';
import type { PredictResponse, Predictor, PredictorInfo } from './serve/predictor.ts';
import { RunPredictor } from './serve/run-predictor.ts';
import type { RunningServer } from './serve/server.ts';
import { serveRun, type ServeOptions } from './serve/serve-run.ts';
import { validatePredictRequest } from './serve/validate.ts';
import { exportRun, importExport, type ExportSidecar } from './run/export.ts';
import { DEFAULT_CONFIG, type RunConfig } from './train/config.ts';
import type { HardyMethod } from './train/methods.ts';
import { readConfigFile, resolveConfig, type PartialConfig } from './cli/config.ts';

export { VERSION } from './util/version.ts';
export { HardyError } from './util/errors.ts';
export { writeSynth, type SynthOptions } from './data/synth.ts';
export { DEFAULT_CONFIG, readConfigFile, resolveConfig };
export type { Condition, Corpus, DatasetName, Dialogue, Modality, Task, Utterance } from './data/types.ts';
export type { MetricRecord } from './eval/metrics.ts';
export type { ConditionResult, RunResults } from './eval/report-data.ts';
export type { PredictResponse, PredictorInfo, UtterancePrediction } from './serve/predictor.ts';
export type { RunningServer, ServerOptions } from './serve/server.ts';
export type { ServeOptions } from './serve/serve-run.ts';
export type { HardyMethod, LoadOptions, PartialConfig, RunConfig };
export type { ExportSidecar };

/**
 * A corpus in any supported layout (GCNet/MERTools feature folders with their label pickle, or an
 * MMSA pickle); `dataset` is detected when omitted. Throws a HardyError naming the file and the id
 * on bad input.
 */
export function loadCorpus(path: string, options: LoadOptions & { dataset?: DatasetName } = {}): Corpus {
  const { dataset, ...load } = options;
  return loadCorpusImpl(path, dataset, load);
}

export interface ExperimentOptions {
  /** Corpus folder or MMSA pickle. */
  data: string;
  dataset?: DatasetName;
  load?: LoadOptions;
  /** `hardy` or an ablation preset, or `momke` (see the README). Default `hardy`. */
  method?: HardyMethod;
  /** Hyper-parameters over the paper's defaults (`DEFAULT_CONFIG`), as in a `--config` file. */
  config?: PartialConfig;
  /** Default: `[config.seed]`. */
  seeds?: number[];
  /** The run folder (`hardy-mer train --out`). */
  out: string;
  /** Continue the run in `out` (finished units are skipped). */
  resume?: boolean;
  /** Training progress on stderr (off by default). */
  progress?: boolean;
  /** One line per finished (seed, fold, condition). */
  log?: (line: string) => void;
}

/** What `hardy-mer train` does: trains every seed x fold x condition into `out` and returns the results object. */
export async function runExperiment(options: ExperimentOptions): Promise<RunResults> {
  const config: RunConfig = resolveConfig(options.config ?? {});
  await initEngine();
  return runExperimentImpl({
    data: options.data,
    dataset: options.dataset,
    load: options.load,
    method: options.method ?? 'hardy',
    config,
    seeds: options.seeds ?? [config.seed],
    runDir: options.out,
    resume: Boolean(options.resume),
    progress: { quiet: !options.progress },
    log: options.log,
  });
}

/** A trained model ready to predict: the models of a run folder, or of an exported file. */
export interface Model {
  /** Task, class names, feature dimensions and the conditions that have a model. */
  info(): PredictorInfo;
  /**
   * Predictions for a request in the format of `POST /predict` and `hardy-mer predict --input`
   * (README, "predict and serve"); it is validated first (a HardyError says what is wrong where).
   */
  predict(request: unknown): Promise<PredictResponse>;
  /** Frees the models' tensors. */
  dispose(): void;
}

function asModel(predictor: Predictor & { dispose(): void }): Model {
  return {
    info: () => predictor.info(),
    predict: (request) => {
      const info = predictor.info();
      return predictor.predict(validatePredictRequest(request, { dims: info.dims, conditions: info.models.map((m) => m.condition) }));
    },
    dispose: () => predictor.dispose(),
  };
}

/** The models of a run folder written by `hardy-mer train` or `runExperiment`. */
export async function loadRun(runDir: string): Promise<Model> {
  await initEngine();
  return asModel(RunPredictor.load(runDir));
}

/**
 * `hardy-mer serve` for a run folder: the HTTP JSON API (and the web page, unless `page: false`) on
 * `options.host` (127.0.0.1) and `options.port` (8080; 0 = any free port), predictions in
 * `options.workers` worker threads (1). Resolves once the models are loaded; `close()` finishes
 * in-flight requests, then stops the workers.
 */
export async function serve(runDir: string, options: ServeOptions = {}): Promise<RunningServer> {
  const s = await serveRun(runDir, options);
  await s.ready;
  return { server: s.server, host: s.host, port: s.port, url: s.url, close: s.close };
}

/**
 * `hardy-mer export`: the run's models as `out` (.safetensors, PyTorch layout) and its JSON sidecar
 * (README, "export and import"); `condition` keeps one condition's models.
 */
export async function exportModels(runDir: string, out: string, options: { condition?: Condition } = {}): Promise<ExportSidecar> {
  await initEngine();
  return exportRun(runDir, out, options);
}

/** `hardy-mer import`: a run folder in `outDir` (empty or absent) from an exported file, for `loadRun` and `serve`. */
export async function importModels(file: string, outDir: string): Promise<ExportSidecar> {
  await initEngine();
  return importExport(file, outDir);
}
