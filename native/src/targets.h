// targets.h: what a BPF program attaches to (from its ELF section name), whether that exists on the
// running kernel, and tracefs, which classic tracepoints need for their ids.
#pragma once

#include <string>
#include <unordered_set>

struct btf;  // libbpf's vmlinux BTF handle

namespace socktop {

struct AttachTarget {
  enum Kind { kTracepoint, kRawTracepoint, kBtfTracepoint, kKprobe, kSyscallKprobe, kOther } kind = kOther;
  std::string name;  // "sock/inet_sock_set_state", "tcp_v4_connect", "connect", ...

  // For messages: "tracepoint sock/inet_sock_set_state", "kprobe tcp_v4_connect".
  std::string Describe() const;
  bool NeedsTracefs() const { return kind == kTracepoint; }
};

AttachTarget ParseSection(const std::string& section);

// The events/ directory of a mounted tracefs, or "" when tracefs is not mounted anywhere.
std::string TracefsEventsDir();

// Mounts tracefs at /sys/kernel/tracing when no events/ directory is visible. Returns true when it
// mounted. Throws OpenError (open_error.h) with code EPERM when tracefs is mounted but this process
// may not read it (as a non-root user: no CAP_DAC_READ_SEARCH), or is not mounted and mounting it
// needs CAP_SYS_ADMIN; std::runtime_error when a mount it was entitled to try failed.
bool EnsureTracefs();

// Answers "does this attach target exist here?", reading /proc/kallsyms at most once.
class TargetChecker {
 public:
  TargetChecker() = default;
  ~TargetChecker();
  TargetChecker(const TargetChecker&) = delete;
  TargetChecker& operator=(const TargetChecker&) = delete;
  bool Exists(const AttachTarget& target);
  // Whether the kernel knows this enum bpf_attach_type value (e.g. BPF_CGROUP_UNIX_CONNECT, 6.7).
  bool AttachType(const std::string& enum_name);

 private:
  bool BtfTracepoint(const std::string& name);
  bool LoadVmlinux();
  struct btf* vmlinux_ = nullptr;
  bool KernelSymbol(const std::string& name);
  bool TracefsEventNamed(const std::string& name);

  std::unordered_set<std::string> symbols_;
  bool symbols_loaded_ = false;
};

}  // namespace socktop
