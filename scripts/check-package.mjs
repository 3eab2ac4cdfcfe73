// The package as a user gets it (`npm run check:package`; CI runs it after the tests): `npm pack`
// (which compiles dist/), `npm install ./hardy-mer-x.y.z.tgz` into an empty folder (dependencies
// from the registry, the OpenBLAS addon built at install), then there:
//   1. `hardy-mer --version` prints package.json's version;
//   2. the README's program ("Use it from your program") type-checks against the shipped
//      declarations and runs: it writes a tiny corpus, trains, loads the run and predicts; then
//      `hardy-mer train` trains a tiny MoMKE unit on that corpus;
//   3. `import { loadRun } from 'hardy-mer'` predicts exactly what `hardy-mer predict` prints, and
//      again on the pure-wasm path (addon absent) to 1e-5;
//   4. `hardy-mer serve` starts its worker threads, serves the bundled web page (app.js, its chunk,
//      the wasm binaries) and answers POST /predict exactly as `hardy-mer predict` did.
// Exits non-zero on the first failure; prints the time of each phase.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const tmp = mkdtempSync(join(tmpdir(), 'hardy-pack-'));
const app = join(tmp, 'app');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function fail(message) {
  process.stderr.write(`check-package: ${message}\n(left for inspection: ${tmp})\n`);
  process.exit(1);
}

/** Runs a command in `cwd`; returns stdout; fails the check on a non-zero exit. */
function sh(what, cmd, args, cwd, env = {}) {
  const t0 = performance.now();
  // HARDY_MER_FROM_SOURCE would make the installed bin look for sources it does not ship.
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, HARDY_MER_FROM_SOURCE: '', ...env }, maxBuffer: 1 << 26 });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  process.stdout.write(`ok ${what} (${s} s)\n`);
  return r.stdout;
}

/** Starts the installed `hardy-mer serve` on runs/tiny, fetches the page and a prediction, stops it. */
async function serveCheck() {
  const t0 = performance.now();
  const child = spawn(bin, ['serve', '--run', 'runs/tiny', '--port', '0'], { cwd: app, env: { ...process.env, HARDY_MER_FROM_SOURCE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b) => {
        out += b;
        const m = /listening (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    while ((await fetch(`${url}/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 200));
    const get = async (path, type) => {
      const r = await fetch(url + path);
      if (r.status !== 200 || !r.headers.get('content-type')?.startsWith(type)) fail(`serve: GET ${path} -> ${r.status} ${r.headers.get('content-type')}`);
      return r.text();
    };
    const html = await get('/', 'text/html');
    const appJs = await get('/app.js', 'text/javascript');
    const chunk = /["'](\.\/[\w-]+\.js)["']/.exec(appJs)?.[1];
    if (!html.includes('app.js') || !chunk) fail('serve: the page or its bundle is incomplete');
    await get(chunk.slice(1), 'text/javascript');
    await get('/wasm/tfjs-backend-wasm-simd.wasm', 'application/wasm');
    const r = await fetch(`${url}/predict`, { method: 'POST', body: readFileSync(join(app, 'request.json')) });
    if (r.status !== 200) fail(`serve: POST /predict -> ${r.status} ${await r.text()}`);
    process.stdout.write(`ok hardy-mer serve: page, bundle, wasm, prediction (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    return r.json();
  } catch (e) {
    fail(`hardy-mer serve failed: ${e.message}`);
  } finally {
    child.kill('SIGTERM');
  }
}

// 1. pack (prepare compiles dist/) and install into an empty folder.
const packed = JSON.parse(sh('npm pack', npm, ['pack', '--json', '--pack-destination', tmp], root));
const tarball = join(tmp, packed[0].filename);
const shipped = packed[0].files.map((f) => f.path);
for (const need of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'bin/hardy-mer.js', 'binding.gyp', 'LICENSE', 'CHANGELOG.md', 'configs/demo.yaml']) {
  if (!shipped.includes(need)) fail(`${packed[0].filename} does not contain ${need}`);
}
for (const f of shipped) if (/^(src|test|bench)\//.test(f)) fail(`${packed[0].filename} ships ${f}`);
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
sh('npm install <tarball> (addon built at install)', npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
// Where OpenBLAS is installed (.ci/run sets HARDY_MER_REQUIRE_NATIVE) the install must have built the addon.
const release = join(app, 'node_modules', 'hardy-mer', 'build', 'Release');
if (process.env.HARDY_MER_REQUIRE_NATIVE === '1' && !(existsSync(release) && readdirSync(release).some((f) => f.endsWith('.node')))) {
  fail(`the native addon was not built at install (no ${release}/*.node)`);
}

// 2. the bin and the README's program.
const bin = join(app, 'node_modules', '.bin', 'hardy-mer');
const printed = sh('hardy-mer --version', bin, ['--version'], app).trim();
if (printed !== version) fail(`hardy-mer --version printed '${printed}', expected '${version}'`);
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const program = /## Use it from your program[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
if (!program) fail('README.md has no ```ts program under "## Use it from your program"');
writeFileSync(join(app, 'readme.ts'), program);
// Declarations that failed to resolve would silently type as any: these misuses must be errors.
writeFileSync(
  join(app, 'misuse.ts'),
  `import { loadRun, runExperiment, type PredictorInfo } from 'hardy-mer';
// @ts-expect-error a run folder is a path
void loadRun(42);
// @ts-expect-error no such method
void runExperiment({ data: 'd', out: 'o', method: 'nope' });
// @ts-expect-error class names are strings
export const n: number[] = ({} as PredictorInfo).classNames;
`,
);
// The same text must be valid JavaScript too: it has no type annotations, so users can paste it into a .mjs.
writeFileSync(join(app, 'readme.mjs'), program);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
sh('README program type-checks against dist/*.d.ts', process.execPath, [
  tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
  // skipLibCheck: tfjs' own declarations do not pass a strict check (its issue, not ours).
  '--skipLibCheck', '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', 'readme.ts', 'misuse.ts',
], app);
sh('README program runs (tiny corpus, train, load, predict)', process.execPath, ['readme.mjs'], app);
// The command line trains there too (a tiny MoMKE unit beside the library's HARDY-MER run).
writeFileSync(join(app, 'tiny.json'), JSON.stringify({ model: { hidden: 16, depth: 1, heads: 2, dropout: 0.1 }, momke: { epochs: 2, stage1Epochs: 1 }, finetune: { epochs: 1 } }));
const trained = JSON.parse(sh('hardy-mer train --json', bin, ['train', '--data', 'data/tiny', '--method', 'momke', '--conditions', 'a', '--folds', '1', '--seeds', '1', '--config', 'tiny.json', '--out', 'runs/cli', '--json'], app));
if (trained.method !== 'momke' || !(trained.average?.WA >= 0 && trained.average.WA <= 1)) fail(`hardy-mer train --json printed no MoMKE results: ${JSON.stringify(trained).slice(0, 200)}`);

// 3. the library predicts what the CLI predicts, on both matrix-product paths.
writeFileSync(
  join(app, 'predict.mjs'),
  `import { loadCorpus, loadRun } from 'hardy-mer';
const d = loadCorpus('data/tiny').dialogues[1];
const request = { dialogues: [{ id: d.id, utterances: d.utterances.map((u, i) => ({ id: u.id, features: i % 2 ? { a: Array.from(u.features.a) } : { a: Array.from(u.features.a), t: Array.from(u.features.t) } })) }] };
const model = await loadRun('runs/tiny');
process.stdout.write(JSON.stringify({ request, response: await model.predict(request) }));
model.dispose();
`,
);
const lib = JSON.parse(sh("import { loadRun } from 'hardy-mer'; predict", process.execPath, ['predict.mjs'], app));
writeFileSync(join(app, 'request.json'), JSON.stringify(lib.request));
const cli = JSON.parse(sh('hardy-mer predict --json', bin, ['predict', '--run', 'runs/tiny', '--input', 'request.json', '--json'], app));
if (JSON.stringify(cli) !== JSON.stringify(lib.response)) fail('the library and `hardy-mer predict` disagree');
const wasm = JSON.parse(sh('the same on the pure-wasm path (no addon)', process.execPath, ['predict.mjs'], app, { HARDY_MER_ADDON: join(tmp, 'no-addon.node') }));
lib.response.utterances.forEach((u, i) => {
  const w = wasm.response.utterances[i];
  const gap = Math.max(...u.probs.map((p, k) => Math.abs(p - w.probs[k])));
  if (!(gap < 1e-5) || u.label !== w.label) fail(`${u.id}: native and pure-wasm predictions differ by ${gap}`);
});

// 4. `hardy-mer serve` from the package: worker threads, the bundled web page and its wasm, an answer.
const served = await serveCheck();
if (JSON.stringify(served) !== JSON.stringify(cli)) fail('`hardy-mer serve` and `hardy-mer predict` disagree');
process.stdout.write(`check-package: ${packed[0].filename} (${(packed[0].size / 1024).toFixed(0)} KiB, ${shipped.length} files) installs and works\n`);
rmSync(tmp, { recursive: true, force: true });
