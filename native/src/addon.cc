// addon.cc: the module's entry points (see src/capture/addon.ts for the typed interface):
//   open(opts) -> session, layout(), monotonicNs(), dropCapabilities(), trimHeap(), heapFigures().
// Checks arguments and converts errors; the work is in reader.cc and friends.
// Context-aware (Napi::Addon): every worker thread that loads it gets its own instance data.
#include <napi.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <string>

#include "layout.h"
#include "malloc_trim.h"
#include "open_error.h"
#include "privileges.h"
#include "reader.h"
#include "session_wrap.h"

namespace socktop {

namespace {

constexpr uint32_t kMinRingBytes = 4096;
constexpr uint32_t kMaxRingBytes = 1u << 30;

// An expected failure: one line, with `code` (and libbpf's log as `details` when there is one).
Napi::Error CodedError(Napi::Env env, const OpenError& e) {
  Napi::Error error = Napi::Error::New(env, e.what());
  error.Set("code", e.code());
  if (!e.details().empty()) error.Set("details", e.details());
  return error;
}

ReaderOptions ParseOpenOptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "open({backend, objectPath, bpfRingBytes?})");
  }
  Napi::Object opts = info[0].As<Napi::Object>();
  ReaderOptions options;
  Napi::Value backend = opts.Get("backend");
  options.backend = backend.IsString() ? backend.As<Napi::String>().Utf8Value() : "";
  if (options.backend != "cgroup" && options.backend != "kprobe" && options.backend != "tracepoint") {
    throw Napi::TypeError::New(env, "open(): backend must be 'cgroup', 'kprobe' or 'tracepoint'");
  }
  Napi::Value path = opts.Get("objectPath");
  if (!path.IsString()) throw Napi::TypeError::New(env, "open(): objectPath must be a string");
  options.object_path = path.As<Napi::String>().Utf8Value();
  Napi::Value ring = opts.Get("bpfRingBytes");
  if (!ring.IsUndefined()) {
    double bytes = ring.IsNumber() ? ring.As<Napi::Number>().DoubleValue() : -1;
    if (!(bytes >= kMinRingBytes && bytes <= kMaxRingBytes) || bytes != uint32_t(bytes)) {
      throw Napi::RangeError::New(env, "open(): bpfRingBytes must be an integer from 4096 to 2^30");
    }
    options.ring_bytes = uint32_t(bytes);  // libbpf rounds it up to a power-of-two page multiple
  }
  return options;
}

}  // namespace

class SocktopAddon : public Napi::Addon<SocktopAddon> {
 public:
  SocktopAddon(Napi::Env env, Napi::Object exports) {
    FixHeapThresholds();  // before libbpf runs in this process (malloc_trim.h says why)
    session_ctor_ = Napi::Persistent(SessionWrap::Define(env));
    DefineAddon(exports, {InstanceMethod("open", &SocktopAddon::Open),
                          InstanceMethod("layout", &SocktopAddon::Layout),
                          InstanceMethod("monotonicNs", &SocktopAddon::MonotonicNs),
                          InstanceMethod("dropCapabilities", &SocktopAddon::DropCapabilities),
                          InstanceMethod("trimHeap", &SocktopAddon::TrimHeap),
                          InstanceMethod("heapFigures", &SocktopAddon::HeapFigures)});
  }

 private:
  Napi::Value Open(const Napi::CallbackInfo& info) {
    ReaderOptions options = ParseOpenOptions(info);
    std::unique_ptr<Reader> reader;
    try {
      reader = Reader::Open(options);
    } catch (const OpenError& e) {
      throw CodedError(info.Env(), e);
    }
    return SessionWrap::New(info.Env(), session_ctor_, std::move(reader));
  }

  Napi::Value Layout(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    for (const auto& field : EventLayout()) o.Set(field.first, double(field.second));
    return o;
  }

  // CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(): for records made in JS (DROPS markers).
  Napi::Value MonotonicNs(const Napi::CallbackInfo& info) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
    return Napi::BigInt::New(info.Env(), ns);
  }

  // Every capability out of every thread of the process: {threads, holding: [tid...], error}.
  Napi::Value DropCapabilities(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CapabilityDrop drop = DropAllCapabilities();
    Napi::Object o = Napi::Object::New(env);
    o.Set("threads", double(drop.threads));
    Napi::Array holding = Napi::Array::New(env, drop.holding.size());
    for (size_t i = 0; i < drop.holding.size(); i++) holding.Set(i, double(drop.holding[i]));
    o.Set("holding", holding);
    o.Set("error", drop.error);
    return o;
  }

  // malloc_trim(0) (process-wide: every thread's arena): true when memory went back to the kernel.
  Napi::Value TrimHeap(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), socktop::TrimHeap());
  }

  // mallinfo2() over every arena: {arenaBytes, mmapBytes, inUseBytes, freeBytes}.
  Napi::Value HeapFigures(const Napi::CallbackInfo& info) {
    socktop::HeapFigures f = ReadHeapFigures();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("arenaBytes", double(f.arena_bytes));
    o.Set("mmapBytes", double(f.mmap_bytes));
    o.Set("inUseBytes", double(f.in_use_bytes));
    o.Set("freeBytes", double(f.free_bytes));
    return o;
  }

  Napi::FunctionReference session_ctor_;
};

}  // namespace socktop

using socktop::SocktopAddon;  // the macro pastes the name into an identifier: no "::"
NODE_API_ADDON(SocktopAddon)
