// session_wrap.h: the JS face of one Reader: an object with poll(), stats(), close() and `info`.
// Everything is detached when JS calls close(), when the object is garbage collected, or when its
// environment (a worker thread or the main thread) is torn down, whichever comes first.
#pragma once

#include <napi.h>

#include <memory>

#include "reader.h"

namespace socktop {

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  // The class is not exported: open() creates instances through this constructor.
  static Napi::Function Define(Napi::Env env);
  static Napi::Object New(Napi::Env env, Napi::FunctionReference& ctor, std::unique_ptr<Reader> reader);

  explicit SessionWrap(const Napi::CallbackInfo& info);
  ~SessionWrap() override;

 private:
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Reader& Live(Napi::Env env);
  void Release();
  static void OnEnvCleanup(void* self);

  napi_env env_;
  std::unique_ptr<Reader> reader_;
  bool cleanup_hook_ = false;
};

}  // namespace socktop
