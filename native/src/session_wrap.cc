// session_wrap.cc: argument checks and JS conversions for a Reader; no libbpf calls here.
#include "session_wrap.h"

#include <linux/types.h>

#include "../../bpf/socktop.h"

namespace socktop {

namespace {

Napi::Array Strings(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array array = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); i++) array.Set(i, items[i]);
  return array;
}

Napi::Object InfoObject(Napi::Env env, const ReaderInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", info.backend);
  o.Set("attachMs", info.attach_ms);
  o.Set("programs", Strings(env, info.programs));
  Napi::Array ids = Napi::Array::New(env, info.program_ids.size());
  for (size_t i = 0; i < info.program_ids.size(); i++) ids.Set(i, info.program_ids[i]);
  o.Set("programIds", ids);
  o.Set("skipped", Strings(env, info.skipped));
  o.Set("mountedTracefs", info.mounted_tracefs);
  o.Set("cgroup", info.cgroup);
  o.Set("mountedCgroup2", info.mounted_cgroup2);
  return o;
}

// Counters go out as JS numbers: exact up to 2^53, far beyond what a session counts.
Napi::Number Count(Napi::Env env, uint64_t value) { return Napi::Number::New(env, double(value)); }

}  // namespace

Napi::Function SessionWrap::Define(Napi::Env env) {
  return DefineClass(env, "BpfSession",
                     {InstanceMethod("poll", &SessionWrap::Poll),
                      InstanceMethod("stats", &SessionWrap::Stats),
                      InstanceMethod("close", &SessionWrap::Close)});
}

Napi::Object SessionWrap::New(Napi::Env env, Napi::FunctionReference& ctor,
                              std::unique_ptr<Reader> reader) {
  const ReaderInfo info = reader->info();
  // The External only carries the pointer into the constructor, which takes ownership at once.
  Napi::Object session = ctor.New({Napi::External<Reader>::New(env, reader.release())});
  session.Set("info", InfoObject(env, info));
  return session;
}

SessionWrap::SessionWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<SessionWrap>(info), env_(info.Env()) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "BPF sessions are created by open()");
  }
  reader_.reset(info[0].As<Napi::External<Reader>>().Data());
  // A worker that exits (or is terminated) without close() must not leave programs attached.
  cleanup_hook_ = napi_add_env_cleanup_hook(env_, &SessionWrap::OnEnvCleanup, this) == napi_ok;
}

SessionWrap::~SessionWrap() { Release(); }

void SessionWrap::OnEnvCleanup(void* self) {
  SessionWrap* session = static_cast<SessionWrap*>(self);
  session->cleanup_hook_ = false;  // the hook is being run: nothing left to remove
  if (session->reader_) session->reader_->Close();
}

void SessionWrap::Release() {
  if (cleanup_hook_) napi_remove_env_cleanup_hook(env_, &SessionWrap::OnEnvCleanup, this);
  cleanup_hook_ = false;
  if (reader_) reader_->Close();  // the Reader stays for stats() after close()
}

Reader& SessionWrap::Live(Napi::Env env) {
  if (!reader_ || reader_->closed()) throw Napi::Error::New(env, "the BPF session is closed");
  return *reader_;
}

Napi::Value SessionWrap::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "poll(out: Uint8Array, timeoutMs: number)");
  }
  Napi::Uint8Array out = info[0].As<Napi::Uint8Array>();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  Reader& reader = Live(env);
  try {
    // Data() already points at the view's byte offset, even when it views a SharedArrayBuffer.
    size_t n = reader.Poll(out.Data(), out.ByteLength() / SOCKTOP_RECORD_SIZE, timeout < 0 ? 0 : timeout);
    return Napi::Number::New(env, double(n));
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value SessionWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReaderStats stats = reader_ ? reader_->Stats() : ReaderStats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("bpfRingDrops", Count(env, stats.bpf_ring_drops));
  o.Set("polled", Count(env, stats.polled));
  o.Set("badSize", Count(env, stats.bad_size));
  o.Set("flushFailures", Count(env, stats.flush_failures));
  o.Set("kernelMisses", Count(env, stats.kernel_misses));
  Napi::Array programs = Napi::Array::New(env, stats.programs.size());
  for (size_t i = 0; i < stats.programs.size(); i++) {
    const ProgramStat& p = stats.programs[i];
    Napi::Object po = Napi::Object::New(env);
    po.Set("name", p.name);
    po.Set("id", p.id);
    po.Set("runCount", Count(env, p.run_count));
    po.Set("runTimeNs", Count(env, p.run_time_ns));
    po.Set("misses", Count(env, p.misses));
    po.Set("verifiedInsns", p.verified_insns);
    programs.Set(i, po);
  }
  o.Set("programs", programs);
  return o;
}

Napi::Value SessionWrap::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

}  // namespace socktop
