// `npm install` hook: builds the native kernels addon (binding.gyp -> build/Release/hardy_native.node).
// A failed build must not fail the install: the engine then uses its pure-wasm matmul path
// (about 3-4x slower per training step) and says so once at start-up.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

// npm exports the path of its bundled node-gyp to lifecycle scripts; outside npm, look next to node.
const gyp =
  process.env.npm_config_node_gyp ??
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const args = [gyp, 'rebuild'];
// Node's own headers, when installed with it, avoid node-gyp's header download (no network here).
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const r = existsSync(gyp) ? spawnSync(process.execPath, args, { stdio: 'inherit' }) : undefined;
if (r?.status !== 0) {
  const why = r ? `node-gyp exited with ${r.status ?? r.signal}` : `node-gyp not found at ${gyp}`;
  process.stderr.write(
    `\nhardy-mer: the native kernels addon (OpenBLAS) was not built (${why}).\n` +
      'Training still works on the pure-wasm path, about 3-4x slower per step.\n' +
      'To build it: install a C++ compiler and OpenBLAS (Debian: apt-get install -y g++ libopenblas-dev), then `npm run install` (or `npm install`).\n\n',
  );
}
