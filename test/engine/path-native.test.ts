// Everything that depends on the matrix-product path, on the native path (one file per path:
// tfjs kernel registration is process-global).
import { loadAddon } from '../../src/engine/native-addon.ts';
import { matmulSuite } from './matmul-cases.ts';
import { memorySuite } from './memory-cases.ts';
import { paritySuite } from './parity-cases.ts';

// Without the addon (no compiler or OpenBLAS at install) the engine falls back, so these skip;
// HARDY_MER_REQUIRE_NATIVE=1 (set by .ci/run when libopenblas-dev is installed) makes them run
// and fail instead, so a broken build cannot pass unnoticed.
const load = loadAddon();
const skip = load.addon || process.env.HARDY_MER_REQUIRE_NATIVE === '1' ? false : `native addon not built (${load.error})`;

matmulSuite('native', skip);
paritySuite('native', skip);
memorySuite('native', skip);
