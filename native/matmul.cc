// Batched single-precision matrix product through CBLAS (OpenBLAS), for tfjs's BatchMatMul and
// _FusedMatMul on the wasm heap (src/engine/matmul-kernels.ts). Slice i computes
//
//   out[outOffset + i*M*N ..] (M x N, row-major) = op(A_i) op(B_i)
//
// with A_i at heap[aOffsets[i]] (M x K, or K x M when transA) and B_i at heap[bOffsets[i]] (K x N,
// or N x K when transB); broadcast batch dimensions repeat an offset. These products are the step's
// largest (bench/RESULTS.md, "Per-kernel profile": 45 % of it).
//
// Sgemm: each product split here into row blocks of C fixed by its shape, one single-threaded sgemm
// per block, the blocks on our threads (OnThreads), instead of OpenBLAS's own threads, whose
// partition follows the thread count and changes the last bits (common.h). Row blocks because on
// OpenBLAS 0.3.21 (Zen kernel) a block starting at a multiple of 12 rows gives exactly the rows of
// the whole product (measured; column blocks never did: they change OpenBLAS's own blocking), so a
// split product equals the unsplit one-thread product; block edges are multiples of kRowAlign to
// keep that on kernels with other tile heights (4, 6, 8, 12, 16, 24 divide it).
#include "common.h"

namespace hardy {

namespace {
constexpr int kRowAlign = 48;
// Below this many multiply-adds (~200 us on one core) one block: a thread start costs ~20-50 us on
// an idle machine and up to ~250 us beside nice-19 work (measured, 96x128x96 split in two: 300 us vs
// 40 us whole), more than half such a product saves.
constexpr double kSplitMacs = double(1 << 22);

// Row r of op(A): A row-major M x K (row r at r * lda) or K x M (column r, at r).
const float* RowOfA(const Gemm& g, int r) { return g.a + (g.transA ? size_t(r) : size_t(r) * g.lda); }
}  // namespace

void Sgemm(const Gemm& g) {
  if (g.M == 0 || g.N == 0) return;
  // Block t covers rows [edge(t), edge(t + 1)): M t / kThreads rounded to a multiple of kRowAlign.
  const bool split = double(g.M) * g.N * g.K >= kSplitMacs && g.M >= 2 * kRowAlign;
  const int blocks = split ? kThreads : 1;
  auto edge = [&](int t) {
    if (t == blocks) return g.M;
    return int((int64_t(g.M) * t / blocks + kRowAlign / 2) / kRowAlign * kRowAlign);
  };
  auto block = [&](int t) {
    const int r0 = edge(t), rows = edge(t + 1) - r0;
    if (rows <= 0) return;
    cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans, rows, g.N,
                g.K, g.alpha, RowOfA(g, r0), g.lda, g.b, g.ldb, 0.0f, g.c + size_t(r0) * g.N, g.N);
  };
  if (blocks == 1) {
    block(0);
  } else {
    OnThreads(block);
  }
}

namespace {

// matmul(heap, aOffsets, bOffsets, outOffset, M, N, K, transA, transB)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Args a(info, "matmul(heap, aOffsets, bOffsets, outOffset, M, N, K, transA, transB)");
  auto heap = a.Floats(0);
  auto aOff = a.Uints(1);
  auto bOff = a.Uints(2);
  const size_t outOffset = a.Index(3);
  const int M = a.Int(4, 0, INT32_MAX), N = a.Int(5, 0, INT32_MAX), K = a.Int(6, 0, INT32_MAX);
  const bool transA = a.Bool(7), transB = a.Bool(8);
  const size_t batch = aOff.ElementLength();
  const size_t sliceA = size_t(M) * K, sliceB = size_t(K) * N, sliceOut = size_t(M) * N;
  a.Require(bOff.ElementLength() == batch, "aOffsets and bOffsets differ in length");
  a.InHeap(heap, outOffset, batch * sliceOut, "the output");
  for (size_t i = 0; i < batch && a.Good(); i++) {  // Good: bOff holds batch offsets
    a.InHeap(heap, aOff[i], sliceA, "an A operand");
    a.InHeap(heap, bOff[i], sliceB, "a B operand");
  }
  if (!a.Ok()) return info.Env().Undefined();
  float* base = heap.Data();
  float* out = base + outOffset;
  if (K == 0) {
    for (size_t j = 0; j < batch * sliceOut; j++) out[j] = 0.f;
    return info.Env().Undefined();
  }
  const int lda = transA ? M : K;
  const int ldb = transB ? K : N;
  for (size_t i = 0; i < batch; i++) {
    Sgemm({transA, transB, M, N, K, 1.0f, base + aOff[i], lda, base + bOff[i], ldb, out + i * sliceOut});
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul));
}

}  // namespace hardy
