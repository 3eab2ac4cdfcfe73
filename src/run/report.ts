/**
 * A run folder -> ReportData: results, training curves (metrics.jsonl of every model), curriculum
 * diagnostics (curriculum.jsonl), confusion matrices (unit.json), summed or listed over units.
 */
import { existsSync, readFileSync } from 'node:fs';
import { MODEL_KINDS } from '../model/types.ts';
import type { EpochDiagnostics } from '../curriculum/diagnostics.ts';
import { curriculumSections, robustnessCurve, type ConfusionMatrix, type EvalResults, type ModelKind, type ReportData, type RobustnessCurve, type RunResults, type TrainingCurve } from '../eval/report-data.ts';
import type { EpochRecord } from '../train/trainer.ts';
import { HardyError } from '../util/errors.ts';
import type { UnitRecord } from './experiment.ts';
import { RunLayout } from './layout.ts';
import { readRunFile } from './run-file.ts';

const readJsonLines = <T>(path: string): T[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T)
    : [];

export function readResults(runDir: string): RunResults {
  const path = new RunLayout(runDir).resultsFile;
  if (!existsSync(path)) throw new HardyError(`${runDir}: no results.json (the run has not finished; continue it with 'hardy-mer train ... --out ${runDir} --resume')`);
  return JSON.parse(readFileSync(path, 'utf8')) as RunResults;
}

/** Element-wise sum of count arrays of possibly different lengths. */
function addCounts(acc: number[], xs: number[]): number[] {
  const out = acc.slice();
  xs.forEach((x, i) => (out[i] = (out[i] ?? 0) + x));
  return out;
}

/** `RUNDIR/eval.json` when `hardy-mer eval` wrote one. */
export function readEval(runDir: string): EvalResults | undefined {
  const path = new RunLayout(runDir).evalFile;
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as EvalResults) : undefined;
}

export function collectReportData(runDir: string, baselineDirs: string[] = []): ReportData {
  const run = readRunFile(runDir);
  const results = readResults(runDir);
  const { task, classNames } = run.corpus;
  const primary = task === 'classification' ? 'WA' : 'ACC2';
  const curves: TrainingCurve[] = [];
  const confusion = new Map<string, number[][]>();
  const diagsByUnit: Array<{ where: { condition: string; fold: number }; diags: EpochDiagnostics[] }> = [];
  for (const { layout: u, name, seed, fold } of new RunLayout(runDir).units()) {
    for (const kind of MODEL_KINDS) {
      const recs = readJsonLines<EpochRecord>(u.models[kind].metrics);
      if (!recs.length) continue;
      curves.push({
        kind,
        condition: name,
        fold,
        seed,
        valMetricName: `${primary} (${results.selection === 'test' ? 'test' : 'valid'})`,
        points: recs.map((r) => ({ epoch: r.epoch + 1, trainLoss: r.loss, stage: r.stage, valMetric: (results.selection === 'test' ? r.test : r.valid)?.[primary] })),
      });
    }
    if (u.done()) {
      const rec = JSON.parse(readFileSync(u.unitFile, 'utf8')) as UnitRecord;
      if (rec.confusion) confusion.set(name, (confusion.get(name) ?? []).length ? confusion.get(name)!.map((row, i) => addCounts(row, rec.confusion![i]!)) : rec.confusion);
    }
    const diags = readJsonLines<EpochDiagnostics>(u.curriculumLog);
    if (diags.length) diagsByUnit.push({ where: { condition: name, fold }, diags });
  }
  const names = task === 'classification' ? classNames : undefined;
  const sections = diagsByUnit.map((d) => curriculumSections(d.diags, d.where, names));
  const data: ReportData = {
    title: `hardy-mer: ${results.method} on ${results.dataset}`,
    subtitle: `run ${runDir}, created ${run.createdAt}`,
    dataset: results.dataset,
    method: results.method,
    protocol: results.protocol,
    selection: results.selection,
    task,
    results,
    config: run.identity.config,
    curves,
    confusion: [...confusion].map(([condition, matrix]): ConfusionMatrix => ({ condition, classNames, matrix })),
  };
  if (sections.length) {
    // Hardness and K_i summed over units (last epoch / per epoch); agreement listed per unit.
    const edges = (sections[0]!.hardness as { edges: number[] }).edges;
    data.hardness = { edges, counts: sections.reduce<number[]>((acc, s) => addCounts(acc, (s.hardness as { counts: number[] }).counts), []) };
    const byEpoch = new Map<number, number[]>();
    for (const s of sections) for (const k of s.kDistribution ?? []) byEpoch.set(k.epoch!, addCounts(byEpoch.get(k.epoch!) ?? [], k.counts));
    data.kDistribution = [...byEpoch].sort((a, b) => a[0] - b[0]).map(([epoch, counts]) => ({ epoch, counts }));
    data.agreement = sections.flatMap((s) => s.agreement ?? []);
    data.caseStudy = sections[0]!.caseStudy;
  }
  if (baselineDirs.length) data.baselines = baselineDirs.map(readResults);
  const robustness = [readEval(runDir), ...baselineDirs.map(readEval)]
    .map((e) => (e ? robustnessCurve(e, primary) : undefined))
    .filter((c): c is RobustnessCurve => c !== undefined);
  if (robustness.length) data.robustness = robustness;
  if (run.provenance) data.provenance = { ...run.provenance };
  return data;
}
