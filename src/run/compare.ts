/**
 * `compare`: reads run folders (their eval.json when `hardy-mer eval` wrote one, else results.json)
 * into the columns compare.ts tabulates, checking that they can be compared: one dataset, one
 * task. Each run's row is its method, or `method (folder)` when two runs share a method.
 */
import { basename } from 'node:path';
import { compareRuns, type Comparison, type RunColumns } from '../eval/compare.ts';
import { robustnessCurve, type EvalResults, type RobustnessCurve } from '../eval/report-data.ts';
import { HardyError } from '../util/errors.ts';
import { readEval, readResults } from './report.ts';
import { readRunFile } from './run-file.ts';

export interface ComparedRun {
  dir: string;
  task: string;
  columns: RunColumns;
  results: EvalResults;
  provenance?: Record<string, unknown>;
}

export function loadComparedRuns(dirs: string[]): ComparedRun[] {
  if (dirs.length < 2) throw new HardyError(`compare needs at least two run folders, got ${dirs.length}`);
  const runs = dirs.map((dir) => {
    const file = readRunFile(dir);
    const results: EvalResults = readEval(dir) ?? readResults(dir);
    const columns: RunColumns['columns'] = {};
    for (const [c, r] of Object.entries(results.conditions)) columns[c] = r.folds;
    for (const [c, r] of Object.entries(results.robustness?.byRate ?? {})) columns[c] = r.folds;
    return { dir, task: file.corpus.task, results, provenance: file.provenance ? { ...file.provenance } : undefined, columns };
  });
  const datasets = new Set(runs.map((r) => `${r.results.dataset} (${r.task})`));
  if (datasets.size > 1) throw new HardyError(`compare: the runs are on different datasets or tasks (${[...datasets].join(', ')}): ${runs.map((r) => `${r.dir}: ${r.results.dataset}`).join('; ')}`);
  const twice = (m: string) => runs.filter((r) => r.results.method === m).length > 1;
  return runs.map((r) => ({
    dir: r.dir,
    task: r.task,
    results: r.results,
    provenance: r.provenance,
    columns: {
      label: twice(r.results.method) ? `${r.results.method} (${basename(r.dir)})` : r.results.method,
      method: r.results.method,
      dataset: r.results.dataset,
      selection: r.results.selection,
      columns: r.columns,
    },
  }));
}

/** `baseline`: a row label, a method or a run folder; default the MoMKE run if there is one, else the first. */
export function compareRunDirs(dirs: string[], opts: { baseline?: string; metric?: string } = {}): { comparison: Comparison; runs: ComparedRun[]; curves: RobustnessCurve[] } {
  const runs = loadComparedRuns(dirs);
  const metric = opts.metric ?? (runs[0]!.task === 'classification' ? 'WA' : 'ACC2');
  const known = Object.keys(Object.values(runs[0]!.results.conditions)[0]?.mean ?? {});
  if (!known.includes(metric)) throw new HardyError(`--metric ${metric}: the runs report ${known.join(', ')}`);
  const want = opts.baseline;
  const base = want
    ? runs.find((r) => r.columns.label === want || r.dir === want || r.columns.method === want)
    : (runs.find((r) => r.columns.method === 'momke') ?? runs[0]);
  if (!base) throw new HardyError(`--baseline ${want}: no such run (runs: ${runs.map((r) => `${r.columns.label} = ${r.dir}`).join(', ')})`);
  const comparison = compareRuns(runs.map((r) => r.columns), metric, base.columns.label);
  const curves = runs.map((r) => robustnessCurve(r.results, metric, r.columns.label)).filter((c): c is RobustnessCurve => c !== undefined);
  return { comparison, runs, curves };
}
