/**
 * Shape arithmetic shared by the BatchMatMul replacements: from the operand shapes and transpose
 * flags to a list of 2-D products over row-major slices, with tfjs's batch broadcasting resolved
 * into per-slice element offsets. Pure (no tensors), so it is tested on its own.
 */

export interface MatMulPlan {
  /** Rows of op(A), columns of op(B), shared inner size. */
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** Element offset (inside A / inside B) of the operands of each 2-D product, in output order. */
  aOffsets: Uint32Array;
  bOffsets: Uint32Array;
  /** Shape tfjs expects for the result: broadcast batch dims + [rows, cols]. */
  outShape: number[];
}

/** tfjs/NumPy broadcasting of two batch shapes (right-aligned; 1 stretches). */
export function broadcastShapes(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`matMul: batch dims [${a}] and [${b}] do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Index of each output batch element in an operand's (right-aligned, broadcast) batch dims. */
function sourceIndices(outBatch: number[], srcBatch: number[]): Uint32Array {
  const total = outBatch.reduce((p, d) => p * d, 1);
  const idx = new Uint32Array(total);
  const rank = outBatch.length;
  const lead = rank - srcBatch.length;
  for (let o = 0; o < total; o++) {
    let rem = o;
    let src = 0;
    let stride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const coord = rem % outBatch[d]!;
      rem = Math.floor(rem / outBatch[d]!);
      if (d >= lead) {
        const sd = srcBatch[d - lead]!;
        src += (sd === 1 ? 0 : coord) * stride;
        stride *= sd;
      }
    }
    idx[o] = src;
  }
  return idx;
}

export function planMatMul(aShape: number[], bShape: number[], transA: boolean, transB: boolean): MatMulPlan {
  if (aShape.length < 2 || bShape.length < 2) throw new Error('matMul: operands need rank >= 2');
  const [a0, a1] = aShape.slice(-2) as [number, number];
  const [b0, b1] = bShape.slice(-2) as [number, number];
  const m = transA ? a1 : a0;
  const ka = transA ? a0 : a1;
  const kb = transB ? b1 : b0;
  const n = transB ? b0 : b1;
  if (ka !== kb) {
    throw new Error(`matMul: inner sizes ${ka} and ${kb} differ (shapes [${aShape}] x [${bShape}], transposeA=${transA}, transposeB=${transB})`);
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const outBatch = broadcastShapes(aBatch, bBatch);
  const outShape = [...outBatch, m, n];
  const outCount = outBatch.reduce((p, d) => p * d, 1);
  const aCount = aBatch.reduce((p, d) => p * d, 1);
  const bCount = bBatch.reduce((p, d) => p * d, 1);

  // One shared B and untransposed A: the A slices are consecutive rows, so the whole batch is a
  // single [outCount * m, k] x B product (the common "activations x weights" case).
  if (bCount === 1 && aCount === outCount && !transA) {
    return { m: outCount * m, n, k: ka, transA, transB, aOffsets: Uint32Array.of(0), bOffsets: Uint32Array.of(0), outShape };
  }
  const aIdx = sourceIndices(outBatch, aBatch);
  const bIdx = sourceIndices(outBatch, bBatch);
  const aOffsets = aIdx.map((i) => i * m * ka);
  const bOffsets = bIdx.map((i) => i * ka * n);
  return { m, n, k: ka, transA, transB, aOffsets, bOffsets, outShape };
}
