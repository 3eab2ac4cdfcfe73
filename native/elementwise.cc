// Elementwise kernels and one reduction on the wasm heap, each one pass over its operands split
// across threads (common.h, Parallel), where tfjs runs several kernels each:
//
//   gelu      y = x Phi(x),  Phi(x) = erfc(-x / sqrt 2) / 2               (exact GELU)
//   geluGrad  dx = dy (Phi(x) + x phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
//   dropout   y_i = x_i / (1 - rate) if hash(seed, i) >= rate 2^32, else 0 (src/engine/dropout-kernel.ts)
//   sumAxes   y[o, j] = sum_m x[o, m, j]                                   (bias gradients, row sums)
//   adam      one Adam step with L2 penalty, PyTorch semantics:
//               g' = g + wd w;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;
//               w = w - (lr / bc1) m / (sqrt(v / bc2) + eps),   bc_k = 1 - b_k^t
//
// Why native (bench/LOG.md, 2026-11-27 14:52-15:30, per-kernel profile of the training step):
// fusing Adam removed 1,876 kernel calls per step (Add 718 -> 182, Multiply 982 -> 178); GELU in
// float on two threads replaced a double, one-thread loop; the stock wasm Sum transposes first.
// Dropout's hash does not vectorise with the baseline x86-64 flags and -march=native made GELU
// slower on the measuring CPU, so neither is compiled with it (2026-11-27 16:56-17:06).
#include <cmath>

#include "common.h"

namespace hardy {
namespace {

// gelu(heap, x, out, n)
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  Args a(info, "gelu(heap, x, out, n)");
  auto heap = a.Floats(0);
  const size_t x = a.Index(1), out = a.Index(2), n = a.Index(3);
  a.InHeap(heap, x, n, "x");
  a.InHeap(heap, out, n, "out");
  if (!a.Ok()) return info.Env().Undefined();
  const float* xs = heap.Data() + x;
  float* ys = heap.Data() + out;
  Parallel(n, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) ys[i] = 0.5f * xs[i] * std::erfc(-xs[i] * float(M_SQRT1_2));
  });
  return info.Env().Undefined();
}

// geluGrad(heap, x, dy, out, n)
Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  Args a(info, "geluGrad(heap, x, dy, out, n)");
  auto heap = a.Floats(0);
  const size_t x = a.Index(1), dy = a.Index(2), out = a.Index(3), n = a.Index(4);
  a.InHeap(heap, x, n, "x");
  a.InHeap(heap, dy, n, "dy");
  a.InHeap(heap, out, n, "out");
  if (!a.Ok()) return info.Env().Undefined();
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
inline uint32_t Hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  return x ^ (x >> 16);
}

// dropout(heap, x, out, n, rate, seed)
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Args a(info, "dropout(heap, x, out, n, rate, seed)");
  auto heap = a.Floats(0);
  const size_t x = a.Index(1), out = a.Index(2), n = a.Index(3);
  const double rate = a.Real(4);
  const size_t seed = a.Index(5);
  a.Require(rate >= 0 && rate < 1, "rate must be in [0, 1)");
  a.Require(seed <= UINT32_MAX, "seed must be a 32-bit unsigned integer");
  a.InHeap(heap, x, n, "x");
  a.InHeap(heap, out, n, "out");
  if (!a.Ok()) return info.Env().Undefined();
  const float* xs = heap.Data() + x;
  float* ys = heap.Data() + out;
  const uint32_t s = Hash32(uint32_t(seed) ^ 0x5bd1e995u);
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

// sumAxes(heap, x, out, outer, mid, inner): x is [outer, mid, inner], out [outer, inner]. Split over
// `outer`, or over the columns `inner` when there is a single outer slice.
Napi::Value SumAxes(const Napi::CallbackInfo& info) {
  Args a(info, "sumAxes(heap, x, out, outer, mid, inner)");
  auto heap = a.Floats(0);
  const size_t x = a.Index(1), out = a.Index(2), outer = a.Index(3), mid = a.Index(4), inner = a.Index(5);
  a.InHeap(heap, x, outer * mid * inner, "x");
  a.InHeap(heap, out, outer * inner, "out");
  if (!a.Ok()) return info.Env().Undefined();
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

// Adam's hyper-parameters, in the order of the Float32Array JS passes (src/engine/native-kernels.ts,
// ADAM_HYPER): float, as the step computes in float.
struct AdamHyper {
  float lr, beta1, beta2, eps, weightDecay, bc1, bc2;
};
constexpr size_t kAdamHyper = sizeof(AdamHyper) / sizeof(float);

// The seven operands of one Adam step, in the order of the Uint32Array of offsets JS passes.
enum AdamSlot { kW, kG, kM, kV, kWOut, kMOut, kVOut, kAdamSlots };

// adam(heap, slots, n, hyper): slots = offsets of [w, g, m, v, wOut, mOut, vOut], n floats each;
// hyper = [lr, beta1, beta2, eps, weightDecay, bc1, bc2].
Napi::Value Adam(const Napi::CallbackInfo& info) {
  Args a(info, "adam(heap, slots, n, hyper)");
  auto heap = a.Floats(0);
  auto slots = a.Uints(1);
  const size_t n = a.Index(2);
  auto hyper = a.Floats(3);
  a.Require(slots.ElementLength() == kAdamSlots, "slots must hold 7 offsets (w, g, m, v, wOut, mOut, vOut)");
  a.Require(hyper.ElementLength() == kAdamHyper, "hyper must hold 7 values (lr, beta1, beta2, eps, weightDecay, bc1, bc2)");
  static const char* names[kAdamSlots] = {"w", "g", "m", "v", "wOut", "mOut", "vOut"};
  for (size_t s = 0; s < slots.ElementLength() && s < kAdamSlots; s++) a.InHeap(heap, slots[s], n, names[s]);
  if (!a.Ok()) return info.Env().Undefined();
  const float* d = hyper.Data();
  const AdamHyper h{d[0], d[1], d[2], d[3], d[4], d[5], d[6]};
  float* H = heap.Data();
  const float *w = H + slots[kW], *g = H + slots[kG], *m = H + slots[kM], *v = H + slots[kV];
  float *wo = H + slots[kWOut], *mo = H + slots[kMOut], *vo = H + slots[kVOut];
  const float step = h.lr / h.bc1;
  Parallel(n, 4, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) {
      const float gi = h.weightDecay > 0.f ? g[i] + w[i] * h.weightDecay : g[i];
      const float mi = m[i] * h.beta1 + gi * (1.f - h.beta1);
      const float vi = v[i] * h.beta2 + gi * gi * (1.f - h.beta2);
      mo[i] = mi;
      vo[i] = vi;
      wo[i] = w[i] - (mi / (std::sqrt(vi / h.bc2) + h.eps)) * step;
    }
  });
  return info.Env().Undefined();
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("gelu", Napi::Function::New(env, Gelu));
  exports.Set("geluGrad", Napi::Function::New(env, GeluGrad));
  exports.Set("dropout", Napi::Function::New(env, Dropout));
  exports.Set("sumAxes", Napi::Function::New(env, SumAxes));
  exports.Set("adam", Napi::Function::New(env, Adam));
}

}  // namespace hardy
