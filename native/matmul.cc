// Batched single-precision matrix product through CBLAS (OpenBLAS), for tfjs's BatchMatMul and
// _FusedMatMul on the wasm heap (src/engine/matmul-kernels.ts). Slice i computes
//
//   out[outOffset + i*M*N ..] (M x N, row-major) = op(A_i) op(B_i)
//
// with A_i at heap[aOffsets[i]] (M x K, or K x M when transA) and B_i at heap[bOffsets[i]] (K x N,
// or N x K when transB); broadcast batch dimensions repeat an offset. One sgemm per slice, with
// OpenBLAS's own threads: these products are the step's largest (bench/RESULTS.md, "Per-kernel
// profile": 45 % of it), large enough for OpenBLAS's pool to pay.
#include "common.h"

namespace hardy {
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
  std::shared_lock<std::shared_mutex> blas(BlasThreadsLock());
  for (size_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                M, N, K, 1.0f, base + aOff[i], lda, base + bOff[i], ldb, 0.0f, out + i * sliceOut, N);
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul));
}

}  // namespace hardy
