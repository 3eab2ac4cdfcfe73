/** Parsers of the CLI's list and protocol flags, shared by the commands. */
import { Option } from 'commander';
import { CONDITIONS, type Condition, type Modality } from '../data/types.ts';
import { OUTPUT_FORMATS, type OutputFormat } from '../eval/formats.ts';
import { excerpt, HardyError } from '../util/errors.ts';
import type { PartialConfig } from './config.ts';

/** `1,2,3` -> [1, 2, 3], each an integer in [0, max] (default: a 32-bit seed). */
export function parseIntList(s: string, flag: string, max = 2 ** 32 - 1): number[] {
  const xs = s.split(',').map((x) => x.trim());
  if (xs.some((x) => !/^\d{1,10}$/.test(x) || Number(x) > max)) throw new HardyError(`${flag} takes comma-separated integers in [0, ${max}], got '${excerpt(s, 60)}'`);
  return xs.map(Number);
}

export function parseConditions(s: string): Condition[] {
  const xs = s.split(',').map((x) => x.trim());
  const bad = xs.filter((x) => !(CONDITIONS as readonly string[]).includes(x));
  if (bad.length) throw new HardyError(`--conditions: unknown condition '${bad.join("', '")}' (expected some of ${CONDITIONS.join(', ')})`);
  return xs as Condition[];
}

/** `fixed` | `random:<rate>` with rate in {0.0, 0.1, ..., 0.7}. */
export function parseProtocol(s: string): PartialConfig['protocol'] {
  if (s === 'fixed') return { kind: 'fixed' };
  const m = /^random:(\d*\.?\d+)$/.exec(s);
  const rate = m ? Number(m[1]) : NaN;
  if (!(rate >= 0 && rate <= 0.7)) throw new HardyError(`--protocol must be 'fixed' or 'random:<rate>' with rate in [0, 0.7], got '${s}'`);
  return { kind: 'random', missingRate: rate };
}

/** --audio-dir/--text-dir/--video-dir -> the loader's feature folder names (only those given). */
export function featureDirsOf(f: { audioDir?: string; textDir?: string; videoDir?: string }): Partial<Record<Modality, string>> {
  const dirs: Partial<Record<Modality, string>> = {};
  if (f.audioDir) dirs.a = f.audioDir;
  if (f.textDir) dirs.t = f.textDir;
  if (f.videoDir) dirs.v = f.videoDir;
  return dirs;
}


/** `--format table|csv|md|json` (`--json` stays as the short form of `--format json`). */
export const formatOption = (): Option => new Option('--format <format>', 'output: a table, csv, md (markdown) or json').choices([...OUTPUT_FORMATS]).default('table');
export const formatOf = (f: { format?: OutputFormat; json?: boolean }): OutputFormat => (f.json ? 'json' : (f.format ?? 'table'));

/** `0,0.1,0.2` -> [0, 0.1, 0.2], each a missing rate in [0, 0.7]. */
export function parseRates(s: string): number[] {
  const xs = s.split(',').map((x) => x.trim());
  const rates = xs.map(Number);
  if (xs.some((x, i) => x === '' || !(rates[i]! >= 0 && rates[i]! <= 0.7))) throw new HardyError(`--missing-rates takes comma-separated rates in [0, 0.7], got '${s}'`);
  return [...new Set(rates)];
}

/** A commander parser for a flag taking a whole number >= 1 (`--jobs`, `--threads`, `--concurrency`). */
export const positiveInt =
  (flag: string) =>
  (s: string): number => {
    if (!/^\d{1,6}$/.test(s.trim()) || Number(s) < 1) throw new HardyError(`${flag} takes a whole number >= 1, got '${excerpt(s, 40)}'`);
    return Number(s);
  };
