/**
 * Runs one of the benches' Python references (Debian's python3-torch / python3-faiss) on 2 threads
 * and returns the JSON object of its last output line, or null with the reason on stderr (the
 * benches then print `ref_*: null`).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
/**
 * The environment as the bench started: loading our addon later sets OPENBLAS_THREAD_TIMEOUT, and
 * the reference runs with its own defaults.
 */
const REF_ENV = { ...process.env };

/** `script` is a file next to this one; `needs` names the Debian package in the failure message. */
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
