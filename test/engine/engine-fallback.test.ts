// initEngine's path selection as a user sees it: env override, fallback with a single notice
// when the addon cannot load, refusal of an explicit 'native' request without the addon.
// Each scenario runs in a child process because kernel registration is process-global.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadAddon } from '../../src/engine/native-addon.ts';

const SCRIPT = `
import * as tf from '@tensorflow/tfjs';
import { initEngine } from './src/engine/backend.ts';
const first = await initEngine();
const second = await initEngine();
const y = tf.matMul(tf.ones([2, 3, 4]), tf.ones([4, 5]), false, false);
const g = tf.grad((w) => tf.sum(tf.matMul(tf.ones([2, 3, 4]), w)))(tf.ones([4, 5]));
console.log(JSON.stringify({ first, second, y: y.dataSync()[0], g: g.dataSync()[0] }));
`;

function run(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('without a loadable addon, auto falls back to the xnnpack path and says so exactly once', () => {
  const r = run({ HARDY_MER_ADDON: '/nonexistent/hardy_native.node', HARDY_MER_MATMUL: '' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.first.matmul, 'xnnpack');
  assert.equal(out.second.matmul, 'xnnpack');
  assert.match(out.first.fallbackReason, /nonexistent/);
  assert.equal(out.y, 4);
  assert.equal(out.g, 6);
  assert.equal(r.stderr.match(/native BLAS matmul unavailable/g)?.length, 1, r.stderr);
});

test('HARDY_MER_MATMUL selects the path; explicit native without the addon is an error', () => {
  const stock = run({ HARDY_MER_MATMUL: 'stock' });
  assert.equal(stock.status, 0, stock.stderr);
  assert.equal(JSON.parse(stock.stdout.trim().split('\n').at(-1)!).first.matmul, 'stock');
  const bad = run({ HARDY_MER_MATMUL: 'native', HARDY_MER_ADDON: '/nonexistent/hardy_native.node' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /native matmul requested but the addon did not load/);
  const typo = run({ HARDY_MER_MATMUL: 'blas' });
  assert.notEqual(typo.status, 0);
  assert.match(typo.stderr, /HARDY_MER_MATMUL="blas": expected one of auto, native, xnnpack, stock/);
});

const addonMissing = loadAddon().error;
const skipNative = process.env.HARDY_MER_ADDON
  ? 'addon path overridden'
  : addonMissing && process.env.HARDY_MER_REQUIRE_NATIVE !== '1' ? `native addon not built (${addonMissing})` : false;

test('with the addon built, auto selects the native path', { skip: skipNative }, () => {
  const r = run({ HARDY_MER_MATMUL: '' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.first.matmul, 'native', 'build/Release/hardy_native.node should load after npm install');
  assert.match(out.first.blas, /OpenBLAS/);
  assert.equal(r.stderr, '');
});
