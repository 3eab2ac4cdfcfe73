// Batched single-precision matrix product through CBLAS (OpenBLAS), plus exact GELU and its
// gradient, dropout, sums and Adam for the tfjs wasm backend; and exact k-nearest-neighbour search
// (sgemm + selection). Attention is in attention.cc.
//
// The operands live in the wasm heap: JS passes one Float32Array over the whole heap and element
// offsets, so nothing is copied. Slice i computes
//   out[outOffset + i*M*N .. ] (M x N, row-major) = op(A_i) op(B_i)
// with A_i at heap[aOffsets[i]] (M x K, or K x M when transA) and B_i at heap[bOffsets[i]]
// (K x N, or N x K when transB). Broadcast batch dims repeat an offset.
#include <napi.h>
#include <cblas.h>
#include <cmath>
#include <algorithm>
#include <thread>
#include <vector>

extern "C" {
// Declared by OpenBLAS (openblas_config.h is not always on the include path of other BLASes).
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
char* openblas_get_config(void);
}

void RegisterAttention(Napi::Env env, Napi::Object exports);  // attention.cc

namespace {

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 9) {
    Napi::TypeError::New(env, "matmul(heap, aOffsets, bOffsets, outOffset, M, N, K, transA, transB)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto heap = info[0].As<Napi::Float32Array>();
  auto aOff = info[1].As<Napi::Uint32Array>();
  auto bOff = info[2].As<Napi::Uint32Array>();
  const size_t outOffset = info[3].As<Napi::Number>().Int64Value();
  const int M = info[4].As<Napi::Number>().Int32Value();
  const int N = info[5].As<Napi::Number>().Int32Value();
  const int K = info[6].As<Napi::Number>().Int32Value();
  const bool transA = info[7].As<Napi::Boolean>().Value();
  const bool transB = info[8].As<Napi::Boolean>().Value();
  const size_t batch = aOff.ElementLength();
  const size_t heapLen = heap.ElementLength();
  const size_t sliceA = size_t(M) * K, sliceB = size_t(K) * N, sliceOut = size_t(M) * N;
  if (bOff.ElementLength() != batch || outOffset + batch * sliceOut > heapLen) {
    Napi::RangeError::New(env, "matmul: output or offsets out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  for (size_t i = 0; i < batch; i++) {
    if (size_t(aOff[i]) + sliceA > heapLen || size_t(bOff[i]) + sliceB > heapLen) {
      Napi::RangeError::New(env, "matmul: operand out of range").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  float* base = heap.Data();
  float* out = base + outOffset;
  if (K == 0) {
    for (size_t j = 0; j < batch * sliceOut; j++) out[j] = 0.f;
    return env.Undefined();
  }
  const int lda = transA ? M : K;
  const int ldb = transB ? K : N;
  for (size_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                M, N, K, 1.0f, base + aOff[i], lda, base + bOff[i], ldb, 0.0f, out + i * sliceOut, N);
  }
  return env.Undefined();
}

// Runs f(begin, end) over [0, n) on two threads when the work is large enough to pay for one
// (a thread start costs ~20-50 us; below ~64k elements one core is as fast).
template <typename F>
void Parallel(size_t n, size_t workPerItem, F f) {
  if (n < 2 || n * workPerItem < 65536) {
    f(size_t(0), n);
    return;
  }
  const size_t half = n / 2;
  std::thread t([&] { f(size_t(0), half); });
  f(half, n);
  t.join();
}

// Elementwise kernels over heap ranges. Checks that [offset, offset + n) lies inside the heap.
bool InHeap(Napi::Env env, const Napi::Float32Array& heap, std::initializer_list<size_t> offsets, size_t n) {
  for (size_t off : offsets) {
    if (off + n > heap.ElementLength()) {
      Napi::RangeError::New(env, "elementwise: range outside the heap").ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

// gelu(heap, xOffset, outOffset, n): out = x Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2 (exact GELU).
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  auto heap = info[0].As<Napi::Float32Array>();
  const size_t x = info[1].As<Napi::Number>().Int64Value(), out = info[2].As<Napi::Number>().Int64Value();
  const size_t n = info[3].As<Napi::Number>().Int64Value();
  if (!InHeap(info.Env(), heap, {x, out}, n)) return info.Env().Undefined();
  const float* xs = heap.Data() + x;
  float* ys = heap.Data() + out;
  Parallel(n, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) ys[i] = 0.5f * xs[i] * std::erfc(-xs[i] * float(M_SQRT1_2));
  });
  return info.Env().Undefined();
}

// geluGrad(heap, xOffset, dyOffset, outOffset, n): out = dy (Phi(x) + x phi(x)).
Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  auto heap = info[0].As<Napi::Float32Array>();
  const size_t x = info[1].As<Napi::Number>().Int64Value(), dy = info[2].As<Napi::Number>().Int64Value();
  const size_t out = info[3].As<Napi::Number>().Int64Value(), n = info[4].As<Napi::Number>().Int64Value();
  if (!InHeap(info.Env(), heap, {x, dy, out}, n)) return info.Env().Undefined();
  const float* xs = heap.Data() + x;
  const float* dys = heap.Data() + dy;
  float* gs = heap.Data() + out;
  const float invSqrt2Pi = 0.3989422804014327f;
  Parallel(n, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) {
      const float v = xs[i];
      gs[i] = dys[i] * (0.5f * std::erfc(-v * float(M_SQRT1_2)) + v * invSqrt2Pi * std::exp(-0.5f * v * v));
    }
  });
  return info.Env().Undefined();
}

// Chris Wellons' lowbias32, the hash of src/engine/dropout-kernel.ts (the two must stay identical:
// the native and the TypeScript dropout give bit-equal masks).
static inline uint32_t Hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  return x ^ (x >> 16);
}

// dropout(heap, x, out, n, rate, seed): out[i] = x[i] / (1 - rate) where hash(seed, i) >= rate 2^32,
// else 0 (inverted dropout whose mask is a function of (seed, i); dropout-kernel.ts says why).
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  auto heap = info[0].As<Napi::Float32Array>();
  const size_t x = info[1].As<Napi::Number>().Int64Value(), out = info[2].As<Napi::Number>().Int64Value();
  const size_t n = info[3].As<Napi::Number>().Int64Value();
  const double rate = info[4].As<Napi::Number>().DoubleValue();
  const uint32_t seed = info[5].As<Napi::Number>().Uint32Value();
  if (!InHeap(info.Env(), heap, {x, out}, n)) return info.Env().Undefined();
  const float* xs = heap.Data() + x;
  float* ys = heap.Data() + out;
  const uint32_t s = Hash32(seed ^ 0x5bd1e995u);
  // h >= rate 2^32 as an integer compare (h is an integer), and a branch-free select: the loop
  // vectorises.
  const uint64_t keepFrom = uint64_t(std::ceil(rate * 4294967296.0));
  const double scale = 1.0 / (1.0 - rate);
  Parallel(n, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) {
      const uint32_t h = Hash32(s + uint32_t(i) * 0x9e3779b9u);
      const float y = float(double(xs[i]) * scale);
      ys[i] = uint64_t(h) >= keepFrom ? y : 0.0f;
    }
  });
  return info.Env().Undefined();
}

// sumAxes(heap, x, out, outer, mid, inner): out[o, j] = sum_m x[o, m, j] (a reduction over one
// contiguous run of axes: bias gradients, row sums). Split across two threads over `outer`, or over
// the columns `inner` when there is a single outer slice.
Napi::Value SumAxes(const Napi::CallbackInfo& info) {
  auto heap = info[0].As<Napi::Float32Array>();
  const size_t x = info[1].As<Napi::Number>().Int64Value(), out = info[2].As<Napi::Number>().Int64Value();
  const size_t outer = info[3].As<Napi::Number>().Int64Value(), mid = info[4].As<Napi::Number>().Int64Value();
  const size_t inner = info[5].As<Napi::Number>().Int64Value();
  if (!InHeap(info.Env(), heap, {x}, outer * mid * inner) || !InHeap(info.Env(), heap, {out}, outer * inner)) return info.Env().Undefined();
  const float* xs = heap.Data() + x;
  float* ys = heap.Data() + out;
  auto sum = [&](size_t o0, size_t o1, size_t j0, size_t j1) {
    for (size_t o = o0; o < o1; o++) {
      float* y = ys + o * inner;
      const float* src = xs + o * mid * inner;
      if (inner == 1) {
        float acc = 0.f;
        for (size_t m = 0; m < mid; m++) acc += src[m];
        y[0] = acc;
        continue;
      }
      for (size_t j = j0; j < j1; j++) y[j] = 0.f;
      for (size_t m = 0; m < mid; m++) {
        const float* row = src + m * inner;
        for (size_t j = j0; j < j1; j++) y[j] += row[j];
      }
    }
  };
  if (outer >= 2) {
    Parallel(outer, mid * inner, [&](size_t b, size_t e) { sum(b, e, 0, inner); });
  } else {
    Parallel(inner, mid * outer, [&](size_t b, size_t e) { sum(0, outer, b, e); });
  }
  return info.Env().Undefined();
}

// adam(heap, w, g, m, v, wOut, mOut, vOut, n, lr, b1, b2, eps, weightDecay, bc1, bc2): one Adam
// step with L2 penalty, PyTorch semantics, in one pass (the tfjs version is ~12 kernels per
// parameter):  g' = g + wd w;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;
//              w = w - (lr / bc1) m / (sqrt(v / bc2) + eps)
Napi::Value Adam(const Napi::CallbackInfo& info) {
  auto heap = info[0].As<Napi::Float32Array>();
  size_t off[7];
  for (int i = 0; i < 7; i++) off[i] = info[1 + i].As<Napi::Number>().Int64Value();
  const size_t n = info[8].As<Napi::Number>().Int64Value();
  float hp[7];
  for (int i = 0; i < 7; i++) hp[i] = float(info[9 + i].As<Napi::Number>().DoubleValue());
  if (!InHeap(info.Env(), heap, {off[0], off[1], off[2], off[3], off[4], off[5], off[6]}, n)) return info.Env().Undefined();
  float* H = heap.Data();
  const float *w = H + off[0], *g = H + off[1], *m = H + off[2], *v = H + off[3];
  float *wo = H + off[4], *mo = H + off[5], *vo = H + off[6];
  const float lr = hp[0], b1 = hp[1], b2 = hp[2], eps = hp[3], wd = hp[4], bc1 = hp[5], bc2 = hp[6];
  const float step = lr / bc1;
  Parallel(n, 4, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) {
      const float gi = wd > 0.f ? g[i] + w[i] * wd : g[i];
      const float mi = m[i] * b1 + gi * (1.f - b1);
      const float vi = v[i] * b2 + gi * gi * (1.f - b2);
      mo[i] = mi;
      vo[i] = vi;
      wo[i] = w[i] - (mi / (std::sqrt(vi / bc2) + eps)) * step;
    }
  });
  return info.Env().Undefined();
}

// Top-kk of every row of scores [rows, n] minus sub[j] when given (larger first; equal scores keep
// the lower column first), written to vals/idx [rows, kk]. Insertion into a sorted run of kk: kk is
// small (the curriculum's k + 1), and after the first columns almost every candidate fails the first
// comparison. Subtracting here saves two passes over the score matrix.
void TopRows(const float* scores, const float* sub, size_t rows, size_t n, int kk, float* vals, int32_t* idx) {
  for (size_t r = 0; r < rows; r++) {
    const float* s = scores + r * n;
    float* v = vals + r * kk;
    int32_t* ix = idx + r * kk;
    int filled = 0;
    for (size_t j = 0; j < n; j++) {
      const float x = sub ? s[j] - sub[j] : s[j];
      if (filled == kk && !(x > v[kk - 1])) continue;
      int p = filled < kk ? filled++ : kk - 1;
      while (p > 0 && x > v[p - 1]) {
        v[p] = v[p - 1];
        ix[p] = ix[p - 1];
        p--;
      }
      v[p] = x;
      ix[p] = int32_t(j);
    }
  }
}

// knn(db, dbSq, queries, n, nq, dim, kk, outVals, outIdx): exact top-kk scores of each query against
// the n rows of db ([n, dim] row-major), score = 2 q.x - ||x||^2 when dbSq ([n]) is given (the L2
// ranking without the constant ||q||^2), else q.x. One sgemm per chunk of queries (bounds the score
// buffer to ~64 MB), then the selection split across two threads.
Napi::Value Knn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 9) {
    Napi::TypeError::New(env, "knn(db, dbSq|null, queries, n, nq, dim, kk, outVals, outIdx)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto db = info[0].As<Napi::Float32Array>();
  const bool l2 = info[1].IsTypedArray();
  auto q = info[2].As<Napi::Float32Array>();
  const size_t n = info[3].As<Napi::Number>().Int64Value(), nq = info[4].As<Napi::Number>().Int64Value();
  const size_t dim = info[5].As<Napi::Number>().Int64Value();
  const int kk = info[6].As<Napi::Number>().Int32Value();
  auto outVals = info[7].As<Napi::Float32Array>();
  auto outIdx = info[8].As<Napi::Int32Array>();
  const float* dbSq = l2 ? info[1].As<Napi::Float32Array>().Data() : nullptr;
  if (db.ElementLength() < n * dim || q.ElementLength() < nq * dim || kk < 1 || size_t(kk) > n ||
      outVals.ElementLength() < nq * kk || outIdx.ElementLength() < nq * kk ||
      (l2 && info[1].As<Napi::Float32Array>().ElementLength() < n)) {
    Napi::RangeError::New(env, "knn: array sizes do not match n, nq, dim, kk").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const size_t chunk = std::max<size_t>(1, std::min(nq, size_t(16) * 1024 * 1024 / n));
  std::vector<float> scores(chunk * n);
  for (size_t start = 0; start < nq; start += chunk) {
    const size_t rows = std::min(chunk, nq - start);
    float* sc = scores.data();
    // scores = (2 when L2) Q X^T; the selection subtracts ||x||^2
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(n), int(dim), l2 ? 2.0f : 1.0f,
                q.Data() + start * dim, int(dim), db.Data(), int(dim), 0.0f, sc, int(n));
    float* v = outVals.Data() + start * kk;
    int32_t* ix = outIdx.Data() + start * kk;
    const size_t half = rows / 2;
    if (half == 0) {
      TopRows(sc, dbSq, rows, n, kk, v, ix);
    } else {
      std::thread t(TopRows, sc, dbSq, half, n, kk, v, ix);
      TopRows(sc + half * n, dbSq, rows - half, n, kk, v + half * kk, ix + half * kk);
      t.join();
    }
  }
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", Napi::String::New(env, openblas_get_config()));
  o.Set("threads", Napi::Number::New(env, openblas_get_num_threads()));
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  openblas_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul));
  exports.Set("gelu", Napi::Function::New(env, Gelu));
  exports.Set("geluGrad", Napi::Function::New(env, GeluGrad));
  exports.Set("dropout", Napi::Function::New(env, Dropout));
  exports.Set("sumAxes", Napi::Function::New(env, SumAxes));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("knn", Napi::Function::New(env, Knn));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  RegisterAttention(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(hardy_matmul, Init)
