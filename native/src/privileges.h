// privileges.h: which capabilities this thread holds (so a failure for lack of one gets a message
// that names it, before libbpf reports a bare EPERM), and dropping every capability from every
// thread of the process once the BPF programs are attached.
#pragma once

#include <string>
#include <vector>

namespace socktop {

// Capability numbers (linux/capability.h) socktop's messages name.
constexpr int kCapDacOverride = 1;
constexpr int kCapDacReadSearch = 2;
constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

// In this thread's effective set.
bool HasCapability(int cap);

// True with CAP_SYS_ADMIN, or with both CAP_BPF and CAP_PERFMON (kernel >= 5.8), in CapEff.
bool HasBpfPrivileges();

// cgroup socket programs (BPF_PROG_TYPE_CGROUP_SOCK) load only with CAP_NET_ADMIN or CAP_SYS_ADMIN.
bool HasCgroupSockPrivileges();

// Either capability that bypasses the read/search checks of tracefs (a root-owned 0700 directory).
bool HasDacReadPrivileges();

extern const char* const kPrivilegeHint;        // "needs root or CAP_BPF+CAP_PERFMON"
extern const char* const kCgroupPrivilegeHint;  // names CAP_NET_ADMIN

// "/sys/kernel/tracing is mode 0700, owner root" (from stat), for messages about reading it.
std::string DescribeMode(const std::string& path);

struct CapabilityDrop {
  int threads = 0;            // threads of the process seen
  std::vector<int> holding;   // ids of threads that still hold a capability afterwards (none, normally)
  std::string error;          // why nothing could be done ("" when it ran)
};

// Empties the effective, permitted, inheritable and ambient sets of every thread of the process.
// Capabilities belong to threads, and Node's threads (V8 platform, libuv pool, the capture worker,
// the inspector's SIGUSR1 watchdog, which blocks every signal it can) all inherited them at birth.
CapabilityDrop DropAllCapabilities();

}  // namespace socktop
