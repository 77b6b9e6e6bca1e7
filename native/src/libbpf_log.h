// libbpf_log.h: libbpf's messages, captured per thread instead of printed, so that failures can be
// reported as one line (the interesting part of the log) with the whole log kept as details.
#pragma once

#include <string>

namespace socktop {

// While alive, libbpf warnings and info lines printed on this thread are appended to text().
// Scopes nest (the innermost wins). Threads do not share a buffer: each worker has its own.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  const std::string& text() const { return buffer_; }

 private:
  std::string buffer_;
  std::string* previous_;
};

// What failed during bpf_object__load, read back from libbpf's log.
struct LoadFailure {
  std::string subject;  // "BPF program tp_foo", "BPF map events", or "BPF object" when unknown
  std::string reason;   // one line: the verifier's last complaint or libbpf's last warning
};

LoadFailure DescribeLoadFailure(const std::string& log);

}  // namespace socktop
