// privileges.cc: reads the effective capability set from /proc/thread-self/status, so a failure for
// lack of privileges gets its own error code before libbpf reports it as a confusing EPERM.
#include "privileges.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace socktop {

const char* const kPrivilegeHint = "needs root or CAP_BPF+CAP_PERFMON";

namespace {

constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

// Capabilities are per thread; a worker thread shares them with the process in practice, but
// thread-self is what the kernel checks for the bpf() call made on this thread.
uint64_t EffectiveCaps() {
  std::ifstream in("/proc/thread-self/status");
  if (!in) in.open("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::strtoull(line.c_str() + 7, nullptr, 16);
  }
  return 0;
}

bool Has(uint64_t caps, int cap) { return (caps >> cap) & 1; }

}  // namespace

bool HasBpfPrivileges() {
  uint64_t caps = EffectiveCaps();
  return Has(caps, kCapSysAdmin) || (Has(caps, kCapBpf) && Has(caps, kCapPerfmon));
}

}  // namespace socktop
