// The hardy-mer native addon: CPU kernels for the tfjs wasm backend and for retrieval, built from
// source with node-gyp against Debian's OpenBLAS (binding.gyp), loaded by src/engine/native-addon.ts.
// One file per family, sharing common.h (BLAS declarations, argument checks, the thread split):
//
//   matmul.cc       batched sgemm on the wasm heap (BatchMatMul, _FusedMatMul); Sgemm's row blocks
//   elementwise.cc  GELU and its gradient, dropout, sums over axes, the fused Adam step
//   attention.cc    attention within dialogues on the row layout, and its gradient
//   knn.cc          exact k-nearest-neighbour search (sgemm + selection)
//
// Here: what BLAS the addon runs on (info), the process' thread budget (setThreads), OpenBLAS set to
// one thread, and the registration of every family.
#include "common.h"

namespace hardy {
namespace {

// info(): { blas: OpenBLAS's build configuration, threads: the kernels' thread budget (1 or 2) }
Napi::Value Info(const Napi::CallbackInfo& info) {
  Args a(info, "info()");
  if (!a.Ok()) return info.Env().Undefined();
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", Napi::String::New(env, openblas_get_config()));
  o.Set("threads", Napi::Number::New(env, g_threads.load()));
  return o;
}

// setThreads(n): this process' thread budget for the kernels (g_threads); the numbers do not change.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads(n)");
  const int n = a.Int(0, 1, 1024);
  if (!a.Ok()) return info.Env().Undefined();
  g_threads = n >= 2 ? kThreads : 1;
  return info.Env().Undefined();
}

}  // namespace
}  // namespace hardy

// Outside the namespace: NODE_API_MODULE pastes the function's name into an identifier.
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  openblas_set_num_threads(1);  // for good: common.h, "OpenBLAS always runs single-threaded"
  exports.Set("info", Napi::Function::New(env, hardy::Info));
  exports.Set("setThreads", Napi::Function::New(env, hardy::SetThreads));
  hardy::RegisterMatmul(env, exports);
  hardy::RegisterElementwise(env, exports);
  hardy::RegisterAttention(env, exports);
  hardy::RegisterKnn(env, exports);
  return exports;
}

NODE_API_MODULE(hardy_native, Init)
