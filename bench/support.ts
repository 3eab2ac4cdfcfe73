/**
 * What the benches share: summary statistics, timing (wall and CPU), memory, the engine flags of
 * the speed benches, Markdown tables for bench/RESULTS.md, and the Python references.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MatmulChoice } from '../src/engine/backend.ts';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** x rounded to `digits` decimals (1 by default), as the benches print their figures. */
export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The process's peak resident memory so far, in MB. */
export const peakRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

/**
 * f's result with its wall time and the CPU time of the whole process (every thread, so both BLAS
 * threads count: less sensitive to other jobs on a shared machine than wall time), in ms.
 */
export function timed<T>(f: () => T): { value: T; ms: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, ms, cpuMs: (c.user + c.system) / 1000 };
}

/** The flags every speed bench takes (node:util parseArgs options), and their reading. */
export const ENGINE_FLAGS = { matmul: { type: 'string' }, 'no-ref': { type: 'boolean', default: false } } as const;
export function engineFlags(v: { matmul?: string; 'no-ref'?: boolean }): { matmul?: MatmulChoice; ref: boolean } {
  return { matmul: v.matmul as MatmulChoice | undefined, ref: !v['no-ref'] };
}

/** A Markdown table: a header row, the separator, one line per row. */
export function markdownTable(header: Array<string | number>, rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map(() => '---|').join('')}`, ...rows.map(line)].join('\n');
}

const PYTHON = '/usr/bin/python3';
/**
 * The environment as the bench started: loading our addon later sets OPENBLAS_NUM_THREADS=1, and
 * the reference runs with its own defaults.
 */
const REF_ENV = { ...process.env };

/**
 * Runs one of the benches' Python references (Debian's python3-torch / python3-faiss; `script` is
 * a file next to this one) on 2 threads and returns the JSON object of its last output line, or
 * null with the reason on stderr (the benches then print `ref_*: null`); `needs` names the Debian
 * package in that message.
 */
export function runPythonRef<T extends object>(script: string, args: string[], needs: string): T | null {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const r = spawnSync(PYTHON, [path, ...args], {
    env: { ...REF_ENV, OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE', MKL_NUM_THREADS: '2' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = r.stdout?.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    process.stderr.write(`reference not run: ${r.error?.message ?? `${PYTHON} ${path} exited with ${r.status}`} (${needs} is needed)\n`);
    return null;
  }
  const out = JSON.parse(last) as T & { error?: string };
  if (out.error) {
    process.stderr.write(`reference not run: ${out.error}\n`);
    return null;
  }
  return out;
}
