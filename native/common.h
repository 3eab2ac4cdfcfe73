// What every kernel file of the addon shares: the BLAS declarations, the checked reading of a
// function's arguments, and the one way work is split across threads.
//
// Memory model: the tfjs wasm backend keeps every tensor in one wasm heap. JS passes a Float32Array
// over the whole heap and element offsets into it, so no kernel copies its operands; each checks
// that every range it touches lies inside the heap before it runs. Outside the heap (kNN) the
// operands are ordinary typed arrays.
#pragma once

#include <napi.h>
#include <cblas.h>
#include <cstddef>
#include <cstdint>
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

extern "C" {
// Declared by OpenBLAS (openblas_config.h is not always on the include path of other BLASes).
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
char* openblas_get_config(void);
}

namespace hardy {

// ---------------------------------------------------------------------------------------------
// Threads. Every kernel splits its work over kThreads threads, the calling one included, through
// OnThreads (elementwise ranges and kNN rows through Parallel, attention's (dialogue, head) pairs
// round-robin, products' row blocks through Sgemm). Two: every kernel was written and profiled on
// 2-core machines (bench/LOG.md, 2026-11-27 14:52-15:30, where Sum, GELU and the kNN selection moved
// to two threads), and more threads than cores only queue. A larger machine would want
// std::thread::hardware_concurrency(); that is not measured.
constexpr int kThreads = 2;

// The threads this process may use: kThreads, or 1 once setThreads(1) gave it a budget of one core
// (the local pool's and the queue workers' job processes, src/run/pool.ts). Nothing computed depends
// on it: every split is fixed by the shapes alone (Parallel over output elements, Sgemm's row blocks
// by M), and under a budget of one the same parts run one after another on the calling thread. So a
// run gives the same bits with --threads 1 as with 2 (issue 14; test/engine/thread-count.test.ts).
// Atomic: the server's prediction threads read it while another thread may set it.
extern std::atomic<int> g_threads;

// OpenBLAS always runs single-threaded (addon.cc sets it once, at load; native-addon.ts also sets
// OPENBLAS_NUM_THREADS=1 so that its idle pool is never started). Its threaded sgemm partitions a
// product by its thread count, and an element's rounding depends on where the partition puts it in
// the kernel's register tile: on 0.3.21 (kernel Zen) the 2-thread product differs from the 1-thread
// one in 13,008 of 204,800 elements of an 800x256x256 product, in rows 0-5 of every 12, and 1 vs
// 2 threads cannot be made to agree from outside. A single-threaded call is a function of its
// shape, and concurrent single-threaded calls from several threads are independent. (Attention
// used to lower the process-wide count for its small products, which took a lock against the
// server's other threads, issue 18; nothing changes the count now.)

// C = alpha op(A) op(B) (row-major; op(A) M x K, op(B) K x N, ldc = N), split into row blocks of C
// that depend on (M, N, K) alone and run on up to kThreads threads (matmul.cc).
struct Gemm {
  bool transA, transB;
  int M, N, K;
  float alpha;
  const float* a;
  int lda;
  const float* b;
  int ldb;
  float* c;
};
void Sgemm(const Gemm& g);

// Runs part(t) for t = 1 .. kThreads - 1 on the addon's helper threads while the caller runs
// part(0) (common.cc).
void OnHelpers(const std::function<void(int)>& part);

// Runs part(t) for t = 0 .. kThreads - 1, part 0 on the calling thread (all on it, in order, under
// g_threads 1).
template <typename F>
void OnThreads(F part) {
  if (g_threads.load(std::memory_order_relaxed) < 2) {
    for (int t = 0; t < kThreads; t++) part(t);
    return;
  }
  OnHelpers(std::function<void(int)>(std::ref(part)));
}

// Runs f(begin, end) over contiguous parts of [0, n), on one thread when the work (n items of
// workPerItem elements) is too small to pay for a thread start (~20-50 us: below ~64k elements one
// core is as fast).
template <typename F>
void Parallel(size_t n, size_t workPerItem, F f) {
  if (n < 2 || n * workPerItem < 65536) {
    f(size_t(0), n);
    return;
  }
  OnThreads([&](int t) { f(n * t / kThreads, n * (t + 1) / kThreads); });
}

// ---------------------------------------------------------------------------------------------
// Arguments. A kernel reads every argument through Args, then returns if !args.Ok(): the first
// problem (count, type, value or range) is thrown as a JS TypeError or RangeError that names the
// function, the argument and what was expected; nothing is computed on bad input. Reads after a
// problem return harmless empty values, so the checks can be written straight through.
class Args {
 public:
  // signature: "name(arg0, arg1, ...)", used for the count check and to name arguments in errors.
  Args(const Napi::CallbackInfo& info, const char* signature);

  Napi::Float32Array Floats(size_t i);
  Napi::Int32Array Ints(size_t i);
  Napi::Uint32Array Uints(size_t i);
  bool IsNull(size_t i) const { return i < info_.Length() && info_[i].IsNull(); }
  // A non-negative integer (an offset or a size) up to 2^53.
  size_t Index(size_t i);
  // An integer in [lo, hi].
  int Int(size_t i, int lo, int hi);
  // A finite number.
  double Real(size_t i);
  bool Bool(size_t i);

  // A RangeError "name: what" unless ok.
  void Require(bool ok, const std::string& what);
  // Requires [offset, offset + n) inside heap (what names the operand).
  void InHeap(const Napi::Float32Array& heap, size_t offset, size_t n, const char* what);

  // Whether no problem was found so far (throws nothing).
  bool Good() const { return error_.empty(); }
  // Throws the first problem, if any (once), and says whether there was none.
  bool Ok();
  Napi::Env Env() const { return info_.Env(); }

 private:
  void Fail(bool range, const std::string& message);
  void TypeFail(size_t i, const char* expected);
  const Napi::CallbackInfo& info_;
  std::string name_;
  std::vector<std::string> argNames_;
  std::string error_;
  bool rangeError_ = false;
  bool thrown_ = false;
};

// Each kernel file adds its functions to the addon's exports.
void RegisterMatmul(Napi::Env env, Napi::Object exports);       // matmul.cc
void RegisterElementwise(Napi::Env env, Napi::Object exports);  // elementwise.cc
void RegisterKnn(Napi::Env env, Napi::Object exports);          // knn.cc
void RegisterAttention(Napi::Env env, Napi::Object exports);    // attention.cc

}  // namespace hardy
