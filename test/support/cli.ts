/**
 * What the end-to-end tests and benches share: the command line as users run it, temporary folders
 * that are removed afterwards, and the tiny synthetic corpus with a short config for it.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The installed command; the test runner sets HARDY_MER_FROM_SOURCE, so it runs src/, not dist/. */
export const BIN = 'bin/hardy-mer.js';

/** `hardy-mer ...args`, waited for; stdout and stderr as text. */
export function hardyMer(args: string[], options: Omit<SpawnSyncOptionsWithStringEncoding, 'encoding'> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', ...options });
}

/** `hardy-mer ...args` started in the background (to kill it, or to race it). */
export function startHardyMer(args: string[], options: SpawnOptions = { stdio: 'ignore' }): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], options);
}

/** A new empty folder `hardy-<name>-XXXXXX` under the system's temp folder. */
export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `hardy-${name}-`));
}

/** Runs f in a new temp folder and removes the folder afterwards, whatever f does. */
export async function inTempDir<T>(name: string, f: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = tempDir(name);
  try {
    return await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `hardy-mer synth --preset tiny --seed S` into dir/tiny (5 sessions, a few dialogues each); its path. */
export function synthTiny(dir: string, seed = 1): string {
  const data = join(dir, 'tiny');
  const r = hardyMer(['synth', '--out', data, '--preset', 'tiny', '--seed', String(seed)]);
  if (r.status !== 0) throw new Error(`hardy-mer synth failed (${r.status}): ${r.stderr}`);
  return data;
}

/** A config file dir/NAME (cfg.yaml by default) of the given YAML lines; its path. */
export function writeConfig(dir: string, lines: string[], name = 'cfg.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Whether a process of this pid exists (signal 0 checks without signalling). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
