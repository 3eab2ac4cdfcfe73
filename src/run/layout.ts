/**
 * The run folder, the one place that knows where a run's files are. Every reader and writer (the
 * experiment, re-scoring, the report, predict and serve) goes through it; train/ is handed the
 * `UnitFiles` / `ModelFiles` it builds.
 *
 *   RUNDIR/run.json, config.json, results.json, eval.json, report.html
 *   RUNDIR/eval-masks/seed-<s>/fold-<f>/rate-<r>.json   masks of `eval --missing-rates`
 *   RUNDIR/seed-<s>/fold-<f>/                  fold-shared: features/, indexes/, stage1-<kind>/checkpoint/
 *                                              (and stage1-<kind>/training/ while its job runs)
 *   RUNDIR/seed-<s>/fold-<f>/<unit>/           one unit: hardy.json, hardness.json, curriculum.jsonl,
 *                                              unit.json (written last), <kind>/{metrics.jsonl, checkpoint/,
 *                                              model/, result.json, test-masks.json}
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { foldIndexesSaved } from '../curriculum/retrieval-index.ts';
import { MODEL_KINDS, type ModelKind } from '../model/types.ts';
import { hasCheckpoint } from '../train/checkpoint.ts';
import { FeaturePipeline } from '../train/features.ts';
import type { ModelFiles, UnitFiles } from '../train/files.ts';
import { parseUnit, unitName, type Unit } from './unit.ts';

/** The files of one model kind trained in folder `dir`; `stage1` is the fold-shared stage-1 folder. */
export function modelFiles(dir: string, stage1?: string): ModelFiles {
  return {
    metrics: join(dir, 'metrics.jsonl'),
    checkpoint: join(dir, 'checkpoint'),
    model: join(dir, 'model'),
    result: join(dir, 'result.json'),
    testMasks: join(dir, 'test-masks.json'),
    stage1Checkpoint: stage1 && join(stage1, 'checkpoint'),
  };
}

/** What the units of one seed and fold share. */
export class FoldLayout {
  readonly features: string;
  readonly finetuneReport: string;
  readonly indexes: string;
  constructor(readonly dir: string) {
    this.features = join(dir, 'features');
    this.finetuneReport = join(this.features, 'finetune.json');
    this.indexes = join(dir, 'indexes');
  }
  stage1(kind: ModelKind): string {
    return join(this.dir, `stage1-${kind}`);
  }
  /** The stage-1 job of `kind`: trains in `stage1-<kind>/training/`, ends in `stage1-<kind>/checkpoint/` (what the units share). */
  stage1Training(kind: ModelKind): ModelFiles & { stage1Checkpoint: string } {
    const files = modelFiles(join(this.stage1(kind), 'training'), this.stage1(kind));
    return { ...files, stage1Checkpoint: files.stage1Checkpoint! };
  }
  stage1Done(kind: ModelKind): boolean {
    return hasCheckpoint(join(this.stage1(kind), 'checkpoint'));
  }
  featuresSaved(): boolean {
    return FeaturePipeline.exists(this.features);
  }
  indexesComplete(): boolean {
    return foldIndexesSaved(this.indexes);
  }
}

/** One unit's folder. Without a fold (a unit trained alone) the fold-shared files live inside it. */
export class UnitLayout implements UnitFiles {
  readonly fold: FoldLayout;
  readonly record: string;
  readonly hardness: string;
  readonly curriculumLog: string;
  readonly unitFile: string;
  readonly features: string;
  readonly finetuneReport: string;
  readonly indexes: string;
  readonly models: Record<ModelKind, ModelFiles>;

  constructor(
    readonly dir: string,
    fold?: FoldLayout,
  ) {
    this.fold = fold ?? new FoldLayout(dir);
    this.record = join(dir, 'hardy.json');
    this.hardness = join(dir, 'hardness.json');
    this.curriculumLog = join(dir, 'curriculum.jsonl');
    this.unitFile = join(dir, 'unit.json');
    this.features = this.fold.features;
    this.finetuneReport = this.fold.finetuneReport;
    this.indexes = this.fold.indexes;
    // Only a unit inside a fold shares stage 1 with its siblings.
    this.models = Object.fromEntries(MODEL_KINDS.map((kind) => [kind, modelFiles(join(dir, kind), fold && fold.stage1(kind))])) as Record<ModelKind, ModelFiles>;
  }

  /** A unit is done when its `unit.json` exists (written after everything else). */
  done(): boolean {
    return existsSync(this.unitFile);
  }
  /** A model of this kind was trained to the end (`model.json` is written after the weights). */
  modelSaved(kind: ModelKind): boolean {
    return existsSync(join(this.models[kind].model, 'model.json'));
  }
  /** A unit folder holds `hardy.json` from its start. */
  started(): boolean {
    return existsSync(this.record);
  }
}

/** A unit folder found in a run. */
export interface UnitEntry {
  seed: number;
  fold: number;
  unit: Unit;
  /** Its folder name and results key (`unitName(unit)`). */
  name: string;
  layout: UnitLayout;
}

export class RunLayout {
  readonly runFile: string;
  readonly configFile: string;
  readonly resultsFile: string;
  readonly evalFile: string;
  readonly reportFile: string;

  constructor(readonly root: string) {
    this.runFile = join(root, 'run.json');
    this.configFile = join(root, 'config.json');
    this.resultsFile = join(root, 'results.json');
    this.evalFile = join(root, 'eval.json');
    this.reportFile = join(root, 'report.html');
  }

  /** The random test masks `eval --missing-rates` scores every model of (seed, fold) on at `rate`. */
  evalMasks(seed: number, fold: number, rate: number): string {
    return join(this.root, 'eval-masks', `seed-${seed}`, `fold-${fold}`, `rate-${rate}.json`);
  }

  fold(seed: number, fold: number): FoldLayout {
    return new FoldLayout(join(this.root, `seed-${seed}`, `fold-${fold}`));
  }

  unit(seed: number, fold: number, unit: Unit): UnitLayout {
    const f = this.fold(seed, fold);
    return new UnitLayout(join(f.dir, unitName(unit)), f);
  }

  /** Every started unit folder of the run, in seed, fold, unit-name order. */
  units(): UnitEntry[] {
    const out: UnitEntry[] = [];
    const num = (name: string, prefix: string) => Number(name.slice(prefix.length));
    const sub = (dir: string, prefix: string) =>
      existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith(prefix)).sort((a, b) => num(a, prefix) - num(b, prefix)) : [];
    for (const s of sub(this.root, 'seed-')) {
      for (const f of sub(join(this.root, s), 'fold-')) {
        const seed = num(s, 'seed-');
        const fold = num(f, 'fold-');
        for (const name of readdirSync(join(this.root, s, f)).sort()) {
          const unit = parseUnit(name);
          if (!unit) continue;
          const layout = this.unit(seed, fold, unit);
          if (layout.started()) out.push({ seed, fold, unit, name, layout });
        }
      }
    }
    return out;
  }
}
