import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { hardyMer, inTempDir } from '../support/cli.ts';

const run = (...args: string[]) => hardyMer(args);

test('hardy-mer synth + inspect (tiny): 5 sessions, the requested counts, JSON report', () =>
  inTempDir('cli', (dir) => {
    const out = join(dir, 'tiny');
    const s = run('synth', '--out', out, '--preset', 'tiny', '--seed', '3');
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /wrote 10 dialogues, 80 utterances/);
    const r = run('inspect', '--data', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.dataset, 'iemocap4');
    assert.equal(rep.utterances, 80);
    assert.deepEqual(rep.groups.map((g: { name: string }) => g.name), ['session 1', 'session 2', 'session 3', 'session 4', 'session 5']);
    assert.deepEqual(rep.groups.map((g: { utterances: number }) => g.utterances), [16, 15, 17, 14, 18]);
    assert.deepEqual(rep.dims, { a: 12, t: 16, v: 16 });
    assert.equal(rep.nonFinite, 0);
    assert.deepEqual(rep.labels.map((l: { label: string }) => l.label), ['happy', 'sad', 'neutral', 'angry']);
    assert.equal(rep.labels.reduce((a: number, l: { count: number }) => a + l.count, 0), 80);
    const text = run('inspect', '--data', out);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /session 5\s+2 dialogues\s+18 utterances/);
  }));

test('bad input exits non-zero with one clear message and no stack trace', () =>
  inTempDir('cli', (dir) => {
    const bad = join(dir, 'bad');
    cpSync('fixtures/data/gcnet_iemocap', bad, { recursive: true });
    copyFileSync('fixtures/data/bad/os_system_p0.pkl', join(bad, 'IEMOCAP_features_raw_4way.pkl'));
    const r = run('inspect', '--data', bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^hardy-mer: .*IEMOCAP_features_raw_4way\.pkl: pickle names the global 'os\.system'/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const again = run('synth', '--out', bad);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /not empty/);
    const usage = run('synth', '--out', join(dir, 'x'), '--preset', 'huge');
    assert.notEqual(usage.status, 0);
    assert.ok(!existsSync(join(dir, 'x')));
    const coupling = run('synth', '--out', join(dir, 'y'), '--preset', 'scripted', '--coupling', 'half');
    assert.equal(coupling.status, 1);
    assert.match(coupling.stderr, /--coupling must be a number in \[0, 1\], got 'half'/);
    assert.ok(!existsSync(join(dir, 'y')));
    const help = run('synth', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--preset/);
  }));
