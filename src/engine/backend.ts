/**
 * The one module that owns the tensor backend: start-up, kernel registration and seeding.
 * Nothing else in the project names a backend.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export interface EngineInfo {
  backend: string;
}

let started: Promise<EngineInfo> | undefined;

/** Start the wasm backend once per process; later calls return the same promise. */
export function initEngine(): Promise<EngineInfo> {
  started ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(wasmDir + '/');
    await tf.setBackend('wasm');
    await tf.ready();
    return { backend: tf.getBackend() };
  })();
  return started;
}
