// Multi-head attention within dialogues, on the models' row layout (src/model/tokens.ts): the N real
// utterances of a batch are rows of q, k, v [N, D], dialogue b owning rows starts[b]..starts[b+1].
// Each (dialogue, head) pair is two small products read straight from the rows (leading dimension
// D, column offset h * dh): no padding, no grid, no head transposes. The forward keeps the
// attention weights P (per pair [n, n], at pStarts[b] + h n^2) for the backward.
//
//   forward : S = scale Q K^T; P = softmax over the kept keys (a row with none gives zeros); O = P V
//   backward: dP = dO V^T; dV = P^T dO; dS = P * (dP - rowsum(dP * P)) * scale; dQ = dS K; dK = dS^T Q
#include <cmath>

#include "common.h"

namespace hardy {
namespace {

// Where the rows and the saved weights are: read once per call instead of passed around.
struct Layout {
  float* heap;
  int D, H, dh, B;
  const int32_t* starts;   // [B + 1]
  const int32_t* pStarts;  // [B + 1]
  float scale;
  size_t N;                // rows: starts[B]
  size_t pSize;            // floats of P: pStarts[B]
};

// Reads (starts, pStarts, D, H, scale) at arguments at..at+4 and checks them: starts and pStarts
// ascending from 0, D a multiple of H.
Layout ReadLayout(Args& a, size_t at, Napi::Float32Array heap) {
  auto starts = a.Ints(at);
  auto pStarts = a.Ints(at + 1);
  Layout L{};
  L.heap = heap.Data();
  L.D = a.Int(at + 2, 1, INT32_MAX);
  L.H = a.Int(at + 3, 1, INT32_MAX);
  L.scale = float(a.Real(at + 4));
  L.B = int(starts.ElementLength()) - 1;
  a.Require(L.B >= 0 && pStarts.ElementLength() == starts.ElementLength(), "starts and pStarts must both hold B + 1 values");
  a.Require(L.D % L.H == 0, "D must be a multiple of H");
  if (!a.Good()) return L;
  L.starts = starts.Data();
  L.pStarts = pStarts.Data();
  bool ascending = L.starts[0] == 0 && L.pStarts[0] == 0;
  for (int b = 0; b < L.B && ascending; b++) {
    const int64_t n = L.starts[b + 1] - L.starts[b];
    ascending = n >= 0 && int64_t(L.pStarts[b + 1]) - L.pStarts[b] == n * n * L.H;
  }
  a.Require(ascending, "starts must ascend from 0, and pStarts by H n^2 for a dialogue of n rows");
  L.dh = L.D / L.H;
  L.N = size_t(L.starts[L.B]);
  L.pSize = size_t(L.pStarts[L.B]);
  return L;
}

// Runs pair(b, h, scratch) for every (dialogue, head), the pairs dealt round-robin over the threads
// (common.h), each pair's products one single-threaded sgemm: they are small (n x n x dh), and
// waking OpenBLAS's pool for each of them cost more than the products (measured: ~25 ms per
// attention call under load vs ~2 ms this way).
template <typename F>
void ForPairs(const Layout& L, F pair) {
  OnThreads([&](int part) {
    std::vector<float> scratch;
    int idx = 0;
    for (int b = 0; b < L.B; b++) {
      if (L.starts[b + 1] == L.starts[b]) continue;
      for (int h = 0; h < L.H; h++, idx++) if (idx % kThreads == part) pair(b, h, scratch);
    }
  });
}

// attention(heap, q, k, v, keyMask, out, p, starts, pStarts, D, H, scale)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  Args a(info, "attention(heap, q, k, v, keyMask, out, p, starts, pStarts, D, H, scale)");
  auto heap = a.Floats(0);
  const size_t q = a.Index(1), k = a.Index(2), v = a.Index(3), mask = a.Index(4), out = a.Index(5), p = a.Index(6);
  const Layout L = ReadLayout(a, 7, heap);
  const size_t ND = L.N * L.D;
  a.InHeap(heap, q, ND, "q");
  a.InHeap(heap, k, ND, "k");
  a.InHeap(heap, v, ND, "v");
  a.InHeap(heap, mask, L.N, "keyMask");
  a.InHeap(heap, out, ND, "out");
  a.InHeap(heap, p, L.pSize, "p");
  if (!a.Ok()) return info.Env().Undefined();
  const float* km = L.heap + mask;
  ForPairs(L, [&](int b, int h, std::vector<float>&) {
    const int r0 = L.starts[b], n = L.starts[b + 1] - r0;
    const size_t col = size_t(r0) * L.D + size_t(h) * L.dh;
    float* P = L.heap + p + L.pStarts[b] + size_t(h) * n * n;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, L.dh, L.scale, L.heap + q + col, L.D,
                L.heap + k + col, L.D, 0.0f, P, n);
    for (int i = 0; i < n; i++) {
      float* row = P + size_t(i) * n;
      float mx = -INFINITY;
      for (int j = 0; j < n; j++) if (km[r0 + j] > 0) mx = std::max(mx, row[j]);
      if (mx == -INFINITY) {  // no key to attend: zeros
        for (int j = 0; j < n; j++) row[j] = 0.0f;
        continue;
      }
      float sum = 0.0f;
      for (int j = 0; j < n; j++) {
        row[j] = km[r0 + j] > 0 ? std::exp(row[j] - mx) : 0.0f;
        sum += row[j];
      }
      const float inv = 1.0f / sum;
      for (int j = 0; j < n; j++) row[j] *= inv;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, L.dh, n, 1.0f, P, n, L.heap + v + col, L.D, 0.0f,
                L.heap + out + col, L.D);
  });
  return info.Env().Undefined();
}

// attentionGrad(heap, dOut, q, k, v, p, dq, dk, dv, starts, pStarts, D, H, scale)
Napi::Value AttentionGrad(const Napi::CallbackInfo& info) {
  Args a(info, "attentionGrad(heap, dOut, q, k, v, p, dq, dk, dv, starts, pStarts, D, H, scale)");
  auto heap = a.Floats(0);
  const size_t dOut = a.Index(1), q = a.Index(2), k = a.Index(3), v = a.Index(4), p = a.Index(5);
  const size_t dq = a.Index(6), dk = a.Index(7), dv = a.Index(8);
  const Layout L = ReadLayout(a, 9, heap);
  const size_t ND = L.N * L.D;
  a.InHeap(heap, dOut, ND, "dOut");
  a.InHeap(heap, q, ND, "q");
  a.InHeap(heap, k, ND, "k");
  a.InHeap(heap, v, ND, "v");
  a.InHeap(heap, p, L.pSize, "p");
  a.InHeap(heap, dq, ND, "dq");
  a.InHeap(heap, dk, ND, "dk");
  a.InHeap(heap, dv, ND, "dv");
  if (!a.Ok()) return info.Env().Undefined();
  ForPairs(L, [&](int b, int h, std::vector<float>& dP) {
    const int r0 = L.starts[b], n = L.starts[b + 1] - r0;
    dP.resize(size_t(n) * n);
    const size_t col = size_t(r0) * L.D + size_t(h) * L.dh;
    const float* P = L.heap + p + L.pStarts[b] + size_t(h) * n * n;
    const float* dO = L.heap + dOut + col;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, L.dh, 1.0f, dO, L.D, L.heap + v + col, L.D, 0.0f, dP.data(), n);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, L.dh, n, 1.0f, P, n, dO, L.D, 0.0f, L.heap + dv + col, L.D);
    for (int i = 0; i < n; i++) {  // dS, in place of dP
      const float* pr = P + size_t(i) * n;
      float* dr = dP.data() + size_t(i) * n;
      float dot = 0.0f;
      for (int j = 0; j < n; j++) dot += dr[j] * pr[j];
      for (int j = 0; j < n; j++) dr[j] = pr[j] * (dr[j] - dot) * L.scale;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, L.dh, n, 1.0f, dP.data(), n, L.heap + k + col, L.D, 0.0f,
                L.heap + dq + col, L.D);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, L.dh, n, 1.0f, dP.data(), n, L.heap + q + col, L.D, 0.0f,
                L.heap + dk + col, L.D);
  });
  return info.Env().Undefined();
}

}  // namespace

void RegisterAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attention", Napi::Function::New(env, Attention));
  exports.Set("attentionGrad", Napi::Function::New(env, AttentionGrad));
}

}  // namespace hardy
