// Multi-head attention within dialogues, on the models' row layout (src/model/tokens.ts): the N real
// utterances of a batch are rows of q, k, v [N, D], dialogue b owning rows starts[b]..starts[b+1].
// Each (dialogue, head) pair is two small products read straight from the rows (leading dimension
// D, column offset h * dh): no padding, no grid, no head transposes. The forward keeps the
// attention weights P (per pair [n, n], at pStarts[b] + h n^2) for the backward.
//
//   forward : S = scale Q K^T; P = softmax over the kept keys (a row with none gives zeros); O = P V
//   backward: dP = dO V^T; dV = P^T dO; dS = P * (dP - rowsum(dP * P)) * scale; dQ = dS K; dK = dS^T Q
#include <napi.h>
#include <cblas.h>
#include <cmath>
#include <thread>
#include <vector>

extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}

namespace {

struct Layout {
  float* heap;
  size_t heapLen;
  int D, H, dh, B;
  const int32_t* starts;   // [B + 1]
  const int32_t* pStarts;  // [B + 1]
  float scale;
};

bool ReadLayout(const Napi::CallbackInfo& info, size_t at, Napi::Float32Array heap, Layout& L) {
  auto starts = info[at].As<Napi::Int32Array>();
  auto pStarts = info[at + 1].As<Napi::Int32Array>();
  L.heap = heap.Data();
  L.heapLen = heap.ElementLength();
  L.D = info[at + 2].As<Napi::Number>().Int32Value();
  L.H = info[at + 3].As<Napi::Number>().Int32Value();
  L.scale = float(info[at + 4].As<Napi::Number>().DoubleValue());
  L.B = int(starts.ElementLength()) - 1;
  L.starts = starts.Data();
  L.pStarts = pStarts.Data();
  if (L.B < 0 || pStarts.ElementLength() != starts.ElementLength() || L.H <= 0 || L.D % L.H != 0) {
    Napi::RangeError::New(info.Env(), "attention: bad layout").ThrowAsJavaScriptException();
    return false;
  }
  L.dh = L.D / L.H;
  return true;
}

// Checks that every [offset, offset + len) lies inside the heap.
bool InHeap(const Napi::CallbackInfo& info, const Layout& L, std::initializer_list<std::pair<size_t, size_t>> ranges) {
  for (auto [off, len] : ranges) {
    if (off + len > L.heapLen) {
      Napi::RangeError::New(info.Env(), "attention: range outside the heap").ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

size_t Off(const Napi::Value& v) { return size_t(v.As<Napi::Number>().Int64Value()); }

// Runs pair(b, h, scratch) for every (dialogue, head) on two threads, each calling single-threaded
// sgemm: the products are small (n x n x dh), and waking OpenBLAS's pool for each of them cost
// more than the products (measured: ~25 ms per attention call under load vs ~2 ms this way).
template <typename F>
void ForPairs(const Layout& L, F pair) {
  const int saved = openblas_get_num_threads();
  openblas_set_num_threads(1);
  auto run = [&](int part) {
    std::vector<float> scratch;
    int idx = 0;
    for (int b = 0; b < L.B; b++) {
      if (L.starts[b + 1] == L.starts[b]) continue;
      for (int h = 0; h < L.H; h++, idx++) if (idx % 2 == part) pair(b, h, scratch);
    }
  };
  std::thread t(run, 1);
  run(0);
  t.join();
  openblas_set_num_threads(saved);
}

// attention(heap, q, k, v, keyMask, out, p, starts, pStarts, D, H, scale)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  auto heap = info[0].As<Napi::Float32Array>();
  Layout L;
  if (!ReadLayout(info, 7, heap, L)) return info.Env().Undefined();
  const size_t N = size_t(L.starts[L.B]), ND = N * L.D;
  const size_t q = Off(info[1]), k = Off(info[2]), v = Off(info[3]), mask = Off(info[4]), out = Off(info[5]), p = Off(info[6]);
  if (!InHeap(info, L, {{q, ND}, {k, ND}, {v, ND}, {mask, N}, {out, ND}, {p, size_t(L.pStarts[L.B])}})) return info.Env().Undefined();
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
  auto heap = info[0].As<Napi::Float32Array>();
  Layout L;
  if (!ReadLayout(info, 9, heap, L)) return info.Env().Undefined();
  const size_t N = size_t(L.starts[L.B]), ND = N * L.D;
  const size_t dOut = Off(info[1]), q = Off(info[2]), k = Off(info[3]), v = Off(info[4]), p = Off(info[5]);
  const size_t dq = Off(info[6]), dk = Off(info[7]), dv = Off(info[8]);
  if (!InHeap(info, L, {{dOut, ND}, {q, ND}, {k, ND}, {v, ND}, {p, size_t(L.pStarts[L.B])}, {dq, ND}, {dk, ND}, {dv, ND}})) {
    return info.Env().Undefined();
  }
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
