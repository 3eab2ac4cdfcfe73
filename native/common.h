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
#include <shared_mutex>
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
// round-robin). Two: every kernel was written and profiled on 2-core machines (bench/LOG.md,
// 2026-11-27 14:52-15:30, where Sum, GELU and the kNN selection moved to two threads), and more
// threads than cores only queue. A larger machine would want std::thread::hardware_concurrency();
// that is not measured.
constexpr int kThreads = 2;

// The threads this process may use: kThreads, or 1 once setThreads(1) gave it a budget of one core
// (the local pool's and the queue workers' job processes, src/run/pool.ts). Every split below is
// over output elements, so the results do not depend on it.
extern int g_threads;

// OpenBLAS's own thread count is one setting for the whole process (openblas_set_num_threads), and
// a product's last bits depend on it: on OpenBLAS 0.3.21 a 50x128x64 sgemm differs in 442 of its
// 3200 elements (up to 8e-7) between 1 and 2 threads. Attention (ForPairs) lowers the count to 1 for
// its small per-head products and restores it. With one caller per process that is invisible; the
// server's prediction worker threads share the process and the addon, and another thread's product
// then ran under the lowered count whenever the calls overlapped (its result depended on timing),
// and two overlapping save/restore pairs could leave the process at one thread for good (issue 18:
// served answers differed from a direct call). So every entry point that runs OpenBLAS holds this
// lock: shared for products under the process's count (OpenBLAS serves concurrent callers),
// exclusive while the count is changed. Uncontended it costs nanoseconds; contended, an attention
// call waits for the products already running, which use every BLAS thread anyway.
std::shared_mutex& BlasThreadsLock();

// Runs part(t) for t = 0 .. kThreads - 1, part 0 on the calling thread (all on it under g_threads 1).
template <typename F>
void OnThreads(F part) {
  if (g_threads < 2) {
    for (int t = 0; t < kThreads; t++) part(t);
    return;
  }
  std::vector<std::thread> others;
  for (int t = 1; t < kThreads; t++) others.emplace_back(part, t);
  part(0);
  for (auto& t : others) t.join();
}

// Runs f(begin, end) over contiguous parts of [0, n), on one thread when the work (n items of
// workPerItem elements) is too small to pay for a thread start (~20-50 us: below ~64k elements one
// core is as fast).
template <typename F>
void Parallel(size_t n, size_t workPerItem, F f) {
  if (n < 2 || n * workPerItem < 65536 || g_threads < 2) {
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
