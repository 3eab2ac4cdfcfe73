// The xnnpack matrix-product path (own file: tfjs kernel registration is process-global).
import { matmulSuite } from './matmul_cases.ts';

matmulSuite('xnnpack');
