// Args (common.h): checked reading of a native function's arguments; the thread budget.
#include "common.h"

#include <cmath>
#include <condition_variable>
#include <mutex>

namespace hardy {

std::atomic<int> g_threads{kThreads};

namespace {

// kThreads - 1 threads started on first use and kept, each woken per call: starting a thread per
// call cost ~20-50 us on an idle machine and more beside other work, and a training step makes
// ~440 such calls (strace, bench:step shape). One caller at a time: a call that finds them busy
// (the server's prediction threads share the addon) starts threads of its own, as before.
class Helpers {
 public:
  bool TryRun(const std::function<void(int)>& part) {
    {
      std::lock_guard<std::mutex> l(m_);
      if (busy_) return false;
      busy_ = true;
      if (started_ == 0) {
        for (int t = 1; t < kThreads; t++) std::thread([this, t] { Loop(t); }).detach();
        started_ = kThreads - 1;
      }
      part_ = &part;
      pending_ = kThreads - 1;
      generation_++;
    }
    wake_.notify_all();
    part(0);
    std::unique_lock<std::mutex> l(m_);
    done_.wait(l, [&] { return pending_ == 0; });
    part_ = nullptr;
    busy_ = false;
    return true;
  }

 private:
  void Loop(int t) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> l(m_);
    for (;;) {
      wake_.wait(l, [&] { return generation_ != seen; });
      seen = generation_;
      const std::function<void(int)>* part = part_;
      l.unlock();
      (*part)(t);
      l.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }
  std::mutex m_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* part_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0, started_ = 0;
  bool busy_ = false;
};

}  // namespace

void OnHelpers(const std::function<void(int)>& part) {
  // Never destroyed: its threads wait on it until the process ends.
  static Helpers* helpers = new Helpers();
  if (helpers->TryRun(part)) return;
  std::vector<std::thread> others;
  for (int t = 1; t < kThreads; t++) others.emplace_back(part, t);
  part(0);
  for (auto& t : others) t.join();
}

Args::Args(const Napi::CallbackInfo& info, const char* signature) : info_(info) {
  const std::string s(signature);
  const size_t open = s.find('(');
  name_ = s.substr(0, open);
  std::string cur;
  for (size_t i = open + 1; i < s.size(); i++) {
    if (s[i] == ',' || s[i] == ')') {
      if (!cur.empty()) argNames_.push_back(cur);
      cur.clear();
    } else if (s[i] != ' ') {
      cur += s[i];
    }
  }
  if (info.Length() != argNames_.size()) {
    Fail(false, std::string(signature) + ": expected " + std::to_string(argNames_.size()) + " arguments, got " +
                    std::to_string(info.Length()));
  }
}

void Args::Fail(bool range, const std::string& message) {
  if (!error_.empty()) return;
  error_ = message;
  rangeError_ = range;
}

void Args::TypeFail(size_t i, const char* expected) {
  Fail(false, name_ + ": argument " + std::to_string(i + 1) + " (" + (i < argNames_.size() ? argNames_[i] : "?") +
                  ") must be " + expected);
}

Napi::Float32Array Args::Floats(size_t i) {
  if (error_.empty() && info_[i].IsTypedArray() && info_[i].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    return info_[i].As<Napi::Float32Array>();
  }
  TypeFail(i, "a Float32Array");
  return Napi::Float32Array::New(Env(), 0);
}

Napi::Int32Array Args::Ints(size_t i) {
  if (error_.empty() && info_[i].IsTypedArray() && info_[i].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    return info_[i].As<Napi::Int32Array>();
  }
  TypeFail(i, "an Int32Array");
  return Napi::Int32Array::New(Env(), 0);
}

Napi::Uint32Array Args::Uints(size_t i) {
  if (error_.empty() && info_[i].IsTypedArray() && info_[i].As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array) {
    return info_[i].As<Napi::Uint32Array>();
  }
  TypeFail(i, "a Uint32Array");
  return Napi::Uint32Array::New(Env(), 0);
}

size_t Args::Index(size_t i) {
  if (error_.empty() && info_[i].IsNumber()) {
    const double x = info_[i].As<Napi::Number>().DoubleValue();
    if (x >= 0 && x <= 9007199254740992.0 && std::floor(x) == x) return size_t(x);
  }
  TypeFail(i, "a non-negative integer");
  return 0;
}

int Args::Int(size_t i, int lo, int hi) {
  if (error_.empty() && info_[i].IsNumber()) {
    const double x = info_[i].As<Napi::Number>().DoubleValue();
    if (x >= lo && x <= hi && std::floor(x) == x) return int(x);
  }
  TypeFail(i, ("an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]").c_str());
  return lo;
}

double Args::Real(size_t i) {
  if (error_.empty() && info_[i].IsNumber()) {
    const double x = info_[i].As<Napi::Number>().DoubleValue();
    if (std::isfinite(x)) return x;
  }
  TypeFail(i, "a finite number");
  return 0;
}

bool Args::Bool(size_t i) {
  if (error_.empty() && info_[i].IsBoolean()) return info_[i].As<Napi::Boolean>().Value();
  TypeFail(i, "a boolean");
  return false;
}

void Args::Require(bool ok, const std::string& what) {
  if (!ok) Fail(true, name_ + ": " + what);
}

void Args::InHeap(const Napi::Float32Array& heap, size_t offset, size_t n, const char* what) {
  const size_t len = heap.ElementLength();
  if (error_.empty() && (offset > len || n > len - offset)) {
    Fail(true, name_ + ": " + what + " [" + std::to_string(offset) + ", +" + std::to_string(n) +
                   ") lies outside the heap of " + std::to_string(len) + " floats");
  }
}

bool Args::Ok() {
  if (error_.empty()) return true;
  if (thrown_) return false;
  thrown_ = true;
  if (rangeError_) {
    Napi::RangeError::New(Env(), error_).ThrowAsJavaScriptException();
  } else {
    Napi::TypeError::New(Env(), error_).ThrowAsJavaScriptException();
  }
  return false;
}

}  // namespace hardy
