/**
 * Plain-JS float64 references for the engine tests: a broadcasting batched matrix product and
 * central finite differences.
 */
import * as tf from '@tensorflow/tfjs';

/** Output shape of op(A) op(B) with broadcast batch dims. */
function productShape(aShape: number[], bShape: number[], transA: boolean, transB: boolean) {
  const [ar, ac] = aShape.slice(-2) as [number, number];
  const [br, bc] = bShape.slice(-2) as [number, number];
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const n = transB ? br : bc;
  const rank = Math.max(aShape.length, bShape.length) - 2;
  const pad = (s: number[]): number[] => [...Array(rank - (s.length - 2)).fill(1), ...s.slice(0, -2)];
  const pa = pad(aShape);
  const pb = pad(bShape);
  const outBatch = pa.map((d, i) => Math.max(d, pb[i]!));
  return { m, k, n, pa, pb, outBatch, shape: [...outBatch, m, n] };
}

/**
 * Visits every multiply-add of op(A) op(B): f(index in A, index in B, index in the output),
 * resolving transposes and broadcast batch dims the way NumPy does.
 */
function forEachProductTerm(aShape: number[], bShape: number[], transA: boolean, transB: boolean, f: (ai: number, bi: number, oi: number) => void): void {
  const { m, k, n, pa, pb, outBatch } = productShape(aShape, bShape, transA, transB);
  const count = outBatch.reduce((p, d) => p * d, 1);
  const flat = (coords: number[], dims: number[]): number =>
    coords.reduce((acc, c, i) => acc * dims[i]! + (dims[i] === 1 ? 0 : c), 0);
  for (let o = 0; o < count; o++) {
    const coords: number[] = [];
    let rem = o;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      coords[d] = rem % outBatch[d]!;
      rem = Math.floor(rem / outBatch[d]!);
    }
    const aOff = flat(coords, pa) * m * k;
    const bOff = flat(coords, pb) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        for (let p = 0; p < k; p++) {
          f(aOff + (transA ? p * m + i : i * k + p), bOff + (transB ? j * k + p : p * n + j), o * m * n + i * n + j);
        }
      }
    }
  }
}

/** op(A) op(B) over broadcast batch dims, in float64, from tensors' values. */
export function referenceMatMul(a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean): { shape: number[]; values: Float64Array } {
  const av = a.dataSync();
  const bv = b.dataSync();
  const { shape } = productShape(a.shape, b.shape, transA, transB);
  const values = new Float64Array(shape.reduce((p, d) => p * d, 1));
  forEachProductTerm(a.shape, b.shape, transA, transB, (ai, bi, oi) => {
    values[oi] += av[ai]! * bv[bi]!;
  });
  return { shape, values };
}

/** Gradients of sum(dY * op(A) op(B)) w.r.t. A and B, in float64 (broadcast dims summed). */
export function referenceMatMulGrads(a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor, transA: boolean, transB: boolean): { ga: Float64Array; gb: Float64Array } {
  const av = a.dataSync();
  const bv = b.dataSync();
  const dyv = dy.dataSync();
  const ga = new Float64Array(a.size);
  const gb = new Float64Array(b.size);
  forEachProductTerm(a.shape, b.shape, transA, transB, (ai, bi, oi) => {
    ga[ai] += dyv[oi]! * bv[bi]!;
    gb[bi] += dyv[oi]! * av[ai]!;
  });
  return { ga, gb };
}

/** Largest |x - y| / max(1, |y|) over two arrays (relative for large values, absolute near 0). */
export function maxRelErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < y.length; i++) {
    worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / Math.max(1, Math.abs(y[i]!)));
  }
  return worst;
}

/**
 * Central finite differences of a scalar function at `x`, in float64 outside tfjs (inputs are
 * re-fed as float32, so `eps` must be large enough for float32 resolution).
 */
export function numericGrad(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, eps = 1e-2): Float64Array {
  const base = Float32Array.from(x.dataSync());
  const g = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const probe = (delta: number): number => {
      const v = Float32Array.from(base);
      v[i] = base[i]! + delta;
      return tf.tidy(() => f(tf.tensor(v, x.shape)).dataSync()[0]!);
    };
    g[i] = (probe(eps) - probe(-eps)) / (2 * eps);
  }
  return g;
}
