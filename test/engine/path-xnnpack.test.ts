// Everything that depends on the matrix-product path, on the xnnpack path (one file per path:
// tfjs kernel registration is process-global).
import { matmulSuite } from './matmul-cases.ts';
import { memorySuite } from './memory-cases.ts';
import { paritySuite } from './parity-cases.ts';

matmulSuite('xnnpack');
paritySuite('xnnpack');
memorySuite('xnnpack');
