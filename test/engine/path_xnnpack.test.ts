// Everything that depends on the matrix-product path, on the xnnpack path (one file per path:
// tfjs kernel registration is process-global).
import { matmulSuite } from './matmul_cases.ts';
import { memorySuite } from './memory_cases.ts';
import { paritySuite } from './parity_cases.ts';

matmulSuite('xnnpack');
paritySuite('xnnpack');
memorySuite('xnnpack');
