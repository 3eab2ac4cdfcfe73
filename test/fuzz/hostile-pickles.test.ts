// Hostile pickles (fixtures/hostile, written by scripts/make_hostile_pickles.py): every one is refused
// with a HardyError naming the file and the global or opcode, and nothing they ask for ever runs.
// The reader runs in a child process whose cwd is a fresh temp dir: each payload would create the
// marker file there. As a positive control, Python's own pickle.load does create it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readPickle } from '../../src/data/formats/pickle.ts';
import { HardyError } from '../../src/util/errors.ts';

const DIR = resolve('fixtures/hostile');
interface Entry { file: string; protocol: number; expect: string; runsInPython: boolean }
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { marker: string; files: Entry[] };
const files = manifest.files;
const CHILD = resolve('test/fuzz/hostile-child.ts');
// the child's cwd is a temp dir, so the tsx loader is named by its resolved URL
const TSX = import.meta.resolve('tsx');

test('the manifest covers every hostile global under every protocol 0-5, and the opcode variants', () => {
  assert.deepEqual(readdirSync(DIR).filter((f) => f.endsWith('.pkl')).sort(), files.map((e) => e.file).sort());
  for (const g of ['os_system', 'posix_system', 'nt_system', 'subprocess_popen', 'builtins_eval', 'builtins_exec', 'builtins_getattr', 'importlib_import_module']) {
    assert.deepEqual(files.filter((e) => e.file.startsWith(`${g}_p`) && !e.file.includes('py3names')).map((e) => e.protocol), [0, 1, 2, 3, 4, 5], g);
  }
  for (const v of ['inst_', 'obj_', 'stack_global_', 'memoized_global_', 'newobj_', 'newobj_ex_', 'build_', 'ext1', 'ext2', 'ext4']) {
    assert.ok(files.some((e) => e.file.startsWith(v)), v);
  }
});

for (const e of files) {
  test(`${e.file} (protocol ${e.protocol}) is refused, naming ${e.expect}`, () => {
    const path = join(DIR, e.file);
    assert.throws(() => readPickle(path), (err: unknown) =>
      err instanceof HardyError && err.message.startsWith(`${path}: `) && err.message.includes(e.expect));
  });
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'hardy-hostile-'));
}

test('loading every hostile pickle in a child process creates no marker file and refuses each one', () => {
  const cwd = freshDir();
  const r = spawnSync(process.execPath, ['--import', TSX, CHILD, ...files.map((e) => join(DIR, e.file))], { cwd, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { loaded: boolean; name?: string });
  assert.equal(results.length, files.length);
  assert.ok(results.every((x) => !x.loaded && x.name === 'HardyError'));
  assert.deepEqual(readdirSync(cwd), [], 'the child left nothing in its cwd');
  assert.ok(!existsSync(join(cwd, manifest.marker)));
});

test('a hostile label pickle inside a dataset folder is refused by loadCorpus, and nothing runs', () => {
  const cwd = freshDir();
  const corpus = join(cwd, 'corpus');
  cpSync('fixtures/data/gcnet_iemocap', corpus, { recursive: true });
  const label = join(corpus, 'IEMOCAP_features_raw_4way.pkl');
  copyFileSync(join(DIR, 'posix_system_p2.pkl'), label);
  const r = spawnSync(process.execPath, ['--import', TSX, CHILD, '--corpus', corpus], { cwd, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { loaded: boolean; name: string; message: string };
  assert.equal(out.name, 'HardyError');
  assert.ok(out.message.startsWith(label) && out.message.includes("'posix.system'"), out.message);
  assert.ok(!existsSync(join(cwd, manifest.marker)));
});

const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0);

test('positive control: Python\'s own pickle.load runs these payloads and creates the marker', { skip: python ? false : 'no python3' }, () => {
  const runs = files.filter((e) => e.runsInPython);
  assert.ok(runs.length >= 40);
  // one interpreter; each file is loaded with a fresh temp dir as cwd, and Popen children are awaited
  const code = `
import json, os, pickle, sys, tempfile
out = {}
for f in sys.argv[1:]:
    d = tempfile.mkdtemp(prefix='hardy-control-')
    os.chdir(d)
    try:
        v = pickle.load(open(f, 'rb'))
        for x in (v if isinstance(v, list) else [v]):
            if hasattr(x, 'wait'): x.wait()
    except Exception as e:
        pass
    out[os.path.basename(f)] = os.path.exists(os.path.join(d, ${JSON.stringify(manifest.marker)}))
print(json.dumps(out))`;
  const r = spawnSync(python!, ['-c', code, ...runs.map((e) => join(DIR, e.file))], { cwd: freshDir(), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const created = JSON.parse(r.stdout) as Record<string, boolean>;
  assert.deepEqual(runs.filter((e) => !created[e.file]).map((e) => e.file), [], 'every payload marked as running in Python creates the marker');
});
