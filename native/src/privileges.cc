// privileges.cc: reads the effective capability set from /proc/thread-self/status, so a failure for
// lack of privileges gets its own error code and names the capability before libbpf reports it as
// a confusing EPERM; and drops every capability from every thread once the programs are attached.
#include "privileges.h"

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>

namespace socktop {

const char* const kPrivilegeHint = "needs root or CAP_BPF+CAP_PERFMON";
const char* const kCgroupPrivilegeHint =
    "needs CAP_NET_ADMIN as well (the kernel loads cgroup socket programs only with CAP_NET_ADMIN or "
    "CAP_SYS_ADMIN); add it, or use --probe tracepoint";

namespace {

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

// ---- dropping capabilities in every thread ----------------------------------------------------
//
// capset() and prctl(PR_CAP_AMBIENT) change the calling thread only. glibc makes set*id() reach
// every thread by signalling each one (SIGSETXID, one of the two signals no thread can block
// through glibc); there is no such call for capabilities. So we do the same: with our handler
// briefly in front of glibc's (which it calls for glibc's own signals), each thread gets a queued
// signal marked as ours and empties its own sets. Node's inspector watchdog thread blocks every
// other signal, so an ordinary signal would miss it.

// The kernel's struct sigaction on x86_64 and arm64 (rt_sigaction(2) with an 8-byte sigset).
struct KernelSigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  uint64_t mask;
};

#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
constexpr int kBroadcastSignal = 33;  // glibc's SIGSETXID (nptl), installed in every process
#define SOCKTOP_CAN_BROADCAST 1
#else
#define SOCKTOP_CAN_BROADCAST 0
#endif
constexpr unsigned long kSaRestorer = 0x04000000;  // SA_RESTORER (kernel ABI; not in glibc headers)

std::atomic<int> g_acks{0};
KernelSigaction g_previous;

void ClearThisThread() {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  syscall(SYS_capset, &header, data);
}

[[maybe_unused]] void OnBroadcastSignal(int sig, siginfo_t* info, void* context) {
  if (info != nullptr && info->si_code == SI_QUEUE && info->si_value.sival_ptr == &g_acks) {
    int saved = errno;
    ClearThisThread();
    g_acks.fetch_add(1, std::memory_order_release);
    errno = saved;
    return;
  }
  // Not ours: glibc's own set*id broadcast, which its handler serves.
  void* previous = g_previous.handler;
  if (previous == reinterpret_cast<void*>(SIG_DFL) || previous == reinterpret_cast<void*>(SIG_IGN)) return;
  if (g_previous.flags & SA_SIGINFO) {
    reinterpret_cast<void (*)(int, siginfo_t*, void*)>(previous)(sig, info, context);
  } else {
    reinterpret_cast<void (*)(int)>(previous)(sig);
  }
}

// Puts our handler in front of glibc's; "" on success, else why not.
std::string InstallBroadcastHandler() {
#if SOCKTOP_CAN_BROADCAST
  if (syscall(SYS_rt_sigaction, kBroadcastSignal, nullptr, &g_previous, sizeof(uint64_t)) != 0) {
    return std::string("rt_sigaction: ") + strerror(errno);
  }
  if (g_previous.handler == reinterpret_cast<void*>(SIG_DFL) || g_previous.handler == reinterpret_cast<void*>(SIG_IGN)) {
    return "glibc's SIGSETXID handler is not installed";
  }
#if defined(__x86_64__)
  if (!(g_previous.flags & kSaRestorer)) return "glibc's SIGSETXID handler has no restorer";
#endif
  KernelSigaction ours = g_previous;  // glibc's flags, mask and restorer
  ours.handler = reinterpret_cast<void*>(&OnBroadcastSignal);
  ours.flags |= SA_SIGINFO;
  if (syscall(SYS_rt_sigaction, kBroadcastSignal, &ours, nullptr, sizeof(uint64_t)) != 0) {
    return std::string("rt_sigaction: ") + strerror(errno);
  }
  return "";
#else
  (void)kSaRestorer;
  return "dropping capabilities in every thread is implemented for glibc on x86_64 and arm64 only";
#endif
}

void RestoreBroadcastHandler() {
#if SOCKTOP_CAN_BROADCAST
  syscall(SYS_rt_sigaction, kBroadcastSignal, &g_previous, nullptr, sizeof(uint64_t));
#endif
}

bool SignalThread(pid_t tgid, pid_t tid) {
#if SOCKTOP_CAN_BROADCAST
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = kBroadcastSignal;
  info.si_code = SI_QUEUE;  // marks it as ours: glibc's are SI_TKILL
  info.si_pid = tgid;
  info.si_uid = getuid();
  info.si_value.sival_ptr = &g_acks;
  return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, kBroadcastSignal, &info) == 0;
#else
  (void)tgid;
  (void)tid;
  return false;
#endif
}

// Whether a /proc/<pid>/task/<tid>/status text shows any capability in the four sets.
bool StatusHoldsCapabilities(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;  // the thread ended
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"CapInh:", "CapPrm:", "CapEff:", "CapAmb:"}) {
      if (line.rfind(key, 0) == 0 && std::strtoull(line.c_str() + strlen(key), nullptr, 16) != 0) return true;
    }
  }
  return false;
}

std::vector<pid_t> ThreadsHoldingCapabilities(int* threads) {
  std::vector<pid_t> holding;
  *threads = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return holding;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    (*threads)++;
    if (StatusHoldsCapabilities(std::string("/proc/self/task/") + entry->d_name + "/status")) {
      holding.push_back(pid_t(std::atoi(entry->d_name)));
    }
  }
  closedir(dir);
  return holding;
}

void SleepMs(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

}  // namespace

bool HasCapability(int cap) { return Has(EffectiveCaps(), cap); }

bool HasBpfPrivileges() {
  uint64_t caps = EffectiveCaps();
  return Has(caps, kCapSysAdmin) || (Has(caps, kCapBpf) && Has(caps, kCapPerfmon));
}

bool HasCgroupSockPrivileges() {
  uint64_t caps = EffectiveCaps();
  return Has(caps, kCapSysAdmin) || Has(caps, kCapNetAdmin);
}

bool HasDacReadPrivileges() {
  uint64_t caps = EffectiveCaps();
  return Has(caps, kCapDacReadSearch) || Has(caps, kCapDacOverride);
}

std::string DescribeMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return path + " cannot be examined: " + strerror(errno);
  char mode[8];
  snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
  std::string owner = st.st_uid == 0 ? "root" : "uid " + std::to_string(st.st_uid);
  return path + " is mode " + mode + ", owner " + owner;
}

CapabilityDrop DropAllCapabilities() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  CapabilityDrop result;
  ClearThisThread();
  const pid_t self = pid_t(syscall(SYS_gettid));
  const pid_t tgid = getpid();
  std::vector<pid_t> pending = ThreadsHoldingCapabilities(&result.threads);
  if (pending.empty()) return result;
  result.error = InstallBroadcastHandler();
  if (!result.error.empty()) {
    result.holding = pending;
    return result;
  }
  bool answered = true;
  // A thread started meanwhile by one not yet done inherits its capabilities: look again.
  for (int round = 0; round < 5 && !pending.empty() && answered; round++) {
    g_acks.store(0);
    int sent = 0;
    for (pid_t tid : pending) {
      if (tid != self && SignalThread(tgid, tid)) sent++;
    }
    answered = false;
    for (int waited = 0; waited < 2000; waited++) {  // ~2 s: every thread runs a handler at once
      if (g_acks.load(std::memory_order_acquire) >= sent) {
        answered = true;
        break;
      }
      SleepMs(1);
    }
    pending = ThreadsHoldingCapabilities(&result.threads);
  }
  // With a signal of ours still pending somewhere, glibc's handler must not get it: ours stays in
  // front (it serves glibc's own signals by calling glibc's handler).
  if (answered) RestoreBroadcastHandler();
  result.holding = pending;
  return result;
}

}  // namespace socktop
