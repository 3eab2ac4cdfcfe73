// Exact k-nearest-neighbour search (src/engine/knn.ts, for src/curriculum/retrieval-index.ts): the
// top-kk scores of each of nq queries against the n rows of db [n, dim], row-major,
//
//   score_j = 2 q.x_j - ||x_j||^2   when dbSq = ||x_j||^2 is given (the L2 ranking: ||q - x||^2
//                                    without its constant ||q||^2, negated)
//   score_j = q.x_j                 otherwise (inner product; cosine on normalised rows)
//
// One product (Sgemm, common.h) per chunk of queries into a reused score buffer (chunks bound it to ~64 MB), then a
// selection over the rows split across threads that subtracts ||x||^2 on the fly (no extra pass).
// Measured against faiss's exact flat indexes on the same OpenBLAS: 0.80-0.97 of its time, same
// neighbours (bench/RESULTS.md, "Exact kNN").
#include <algorithm>

#include "common.h"

namespace hardy {
namespace {

// Top-kk of every row of scores [rows, n] minus sub[j] when given (larger first; equal scores keep
// the lower column first), written to vals/idx [rows, kk]. Insertion into a sorted run of kk: kk is
// small (the curriculum's k + 1), and after the first columns almost every candidate fails the first
// comparison.
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

// knn(db, dbSq|null, queries, n, nq, dim, kk, outVals, outIdx)
Napi::Value Knn(const Napi::CallbackInfo& info) {
  Args a(info, "knn(db, dbSq, queries, n, nq, dim, kk, outVals, outIdx)");
  auto db = a.Floats(0);
  const bool l2 = !a.IsNull(1);
  auto dbSqArray = l2 ? a.Floats(1) : Napi::Float32Array::New(info.Env(), 0);
  auto q = a.Floats(2);
  const size_t n = a.Index(3), nq = a.Index(4), dim = a.Index(5);
  const int kk = a.Int(6, 1, INT32_MAX);
  auto outVals = a.Floats(7);
  auto outIdx = a.Ints(8);
  a.Require(size_t(kk) <= n, "kk is larger than n");
  a.Require(n <= size_t(INT32_MAX) && dim <= size_t(INT32_MAX), "n and dim must fit a 32-bit int");
  a.Require(db.ElementLength() >= n * dim, "db holds fewer than n * dim floats");
  a.Require(!l2 || dbSqArray.ElementLength() >= n, "dbSq holds fewer than n floats");
  a.Require(q.ElementLength() >= nq * dim, "queries holds fewer than nq * dim floats");
  a.Require(outVals.ElementLength() >= nq * kk && outIdx.ElementLength() >= nq * kk, "outVals or outIdx holds fewer than nq * kk values");
  if (!a.Ok()) return info.Env().Undefined();
  const float* dbSq = l2 ? dbSqArray.Data() : nullptr;
  const size_t chunk = std::max<size_t>(1, std::min(nq, size_t(16) * 1024 * 1024 / n));
  std::vector<float> scores(chunk * n);
  for (size_t start = 0; start < nq; start += chunk) {
    const size_t rows = std::min(chunk, nq - start);
    float* sc = scores.data();
    // scores = (2 when L2) Q X^T; the selection subtracts ||x||^2
    Sgemm({false, true, int(rows), int(n), int(dim), l2 ? 2.0f : 1.0f, q.Data() + start * dim, int(dim), db.Data(), int(dim), sc});
    float* v = outVals.Data() + start * kk;
    int32_t* ix = outIdx.Data() + start * kk;
    Parallel(rows, n, [&](size_t b, size_t e) { TopRows(sc + b * n, dbSq, e - b, n, kk, v + b * kk, ix + b * kk); });
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterKnn(Napi::Env env, Napi::Object exports) {
  exports.Set("knn", Napi::Function::New(env, Knn));
}

}  // namespace hardy
