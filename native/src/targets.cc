// targets.cc: attach-target existence checks, so that optional (`*_opt`) programs whose target this
// kernel lacks can be skipped before load instead of failing the whole object at attach time.
#include "targets.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cgroup.h"
#include "open_error.h"
#include "privileges.h"

namespace socktop {

namespace {

const char* const kTracefs = "/sys/kernel/tracing";
const char* const kDebugfsTracing = "/sys/kernel/debug/tracing";

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Section "kprobe/tcp_sendmsg+0x10" attaches at an offset inside tcp_sendmsg.
std::string FunctionOf(const std::string& spec) { return spec.substr(0, spec.find('+')); }

}  // namespace

std::string AttachTarget::Describe() const {
  switch (kind) {
    case kTracepoint: return "tracepoint " + name;
    case kRawTracepoint: return "raw tracepoint " + name;
    case kBtfTracepoint: return "BTF tracepoint " + name;
    case kKprobe: return "kprobe " + name;
    case kSyscallKprobe: return "syscall kprobe " + name;
    default: return name;
  }
}

AttachTarget ParseSection(const std::string& section) {
  struct Prefix { const char* text; AttachTarget::Kind kind; };
  static const Prefix kPrefixes[] = {
      {"tracepoint/", AttachTarget::kTracepoint}, {"tp/", AttachTarget::kTracepoint},
      {"raw_tracepoint/", AttachTarget::kRawTracepoint}, {"raw_tp/", AttachTarget::kRawTracepoint},
      {"tp_btf/", AttachTarget::kBtfTracepoint},
      {"kprobe/", AttachTarget::kKprobe}, {"kretprobe/", AttachTarget::kKprobe},
      {"ksyscall/", AttachTarget::kSyscallKprobe}, {"kretsyscall/", AttachTarget::kSyscallKprobe},
  };
  for (const auto& p : kPrefixes) {
    if (!StartsWith(section, p.text)) continue;
    std::string rest = section.substr(strlen(p.text));
    if (p.kind == AttachTarget::kKprobe) rest = FunctionOf(rest);
    return {p.kind, rest};
  }
  return {AttachTarget::kOther, section};
}

std::string TracefsEventsDir() {
  for (const char* root : {kTracefs, kDebugfsTracing}) {
    std::string events = std::string(root) + "/events";
    if (IsDir(events)) return events;
  }
  return "";
}

bool EnsureTracefs() {
  if (!TracefsEventsDir().empty()) return false;
  // Mounted where libbpf looks, but its events/ cannot be seen: the usual mode 0700 of a root-owned
  // tracefs, for a process that is not root. Mounting again would not help (nor is it what failed).
  std::string mounted;
  for (const std::string& m : FindMounts("tracefs")) {
    if (m == kTracefs || m == kDebugfsTracing) mounted = m;
  }
  if (!mounted.empty()) {
    std::string events = mounted + "/events";
    struct stat st;
    int err = stat(events.c_str(), &st) == 0 ? ENOTDIR : errno;
    std::string why = "cannot read tracefs (" + DescribeMode(mounted) + ")";
    if ((err == EACCES || err == EPERM) && !HasDacReadPrivileges()) {
      throw OpenError("EPERM", why + ": needs CAP_DAC_READ_SEARCH (or CAP_DAC_OVERRIDE), or root");
    }
    throw OpenError("ELOAD", why + ": " + events + ": " + strerror(err));
  }
  if (!HasCapability(kCapSysAdmin)) {
    throw OpenError("EPERM", std::string("tracefs is not mounted, and mounting it at ") + kTracefs +
                                 " needs CAP_SYS_ADMIN (or mount it first: mount -t tracefs tracefs " + kTracefs + ")");
  }
  if (mount("tracefs", kTracefs, "tracefs", 0, nullptr) != 0) {
    throw std::runtime_error(std::string("cannot mount tracefs at ") + kTracefs + ": " +
                             strerror(errno));
  }
  return true;
}

bool TargetChecker::Exists(const AttachTarget& target) {
  switch (target.kind) {
    case AttachTarget::kTracepoint: {
      std::string events = TracefsEventsDir();
      // Without tracefs nothing can be checked; the load itself will then say what is wrong.
      return events.empty() || IsDir(events + "/" + target.name);
    }
    case AttachTarget::kRawTracepoint: return TracefsEventNamed(target.name);
    // The kernel's BTF names every tracepoint it has (btf_trace_<name>): no tracefs needed.
    case AttachTarget::kBtfTracepoint: return BtfTracepoint(target.name);
    case AttachTarget::kKprobe: return KernelSymbol(target.name);
    case AttachTarget::kSyscallKprobe:
      for (const char* arch : {"__x64_sys_", "__arm64_sys_", "__s390x_sys_", "__riscv_sys_", "sys_"}) {
        if (KernelSymbol(arch + target.name)) return true;
      }
      return false;
    default: return true;  // fentry, uprobes, ...: let libbpf decide at load
  }
}

bool TargetChecker::LoadVmlinux() {
  if (vmlinux_ == nullptr) vmlinux_ = btf__load_vmlinux_btf();  // parsed once, not per program
  if (libbpf_get_error(vmlinux_) != 0) {
    vmlinux_ = nullptr;
    return false;
  }
  return true;
}

bool TargetChecker::BtfTracepoint(const std::string& name) {
  if (!LoadVmlinux()) return true;  // cannot tell: let the load say what is wrong
  return btf__find_by_name_kind(vmlinux_, ("btf_trace_" + name).c_str(), BTF_KIND_TYPEDEF) > 0;
}

bool TargetChecker::AttachType(const std::string& enum_name) {
  if (!LoadVmlinux()) return false;  // cannot tell: an optional program is better skipped
  int id = btf__find_by_name_kind(vmlinux_, "bpf_attach_type", BTF_KIND_ENUM);
  if (id <= 0) return false;
  const struct btf_type* type = btf__type_by_id(vmlinux_, id);
  const struct btf_enum* values = btf_enum(type);
  for (int i = 0; i < btf_vlen(type); i++) {
    const char* name = btf__name_by_offset(vmlinux_, values[i].name_off);
    if (name != nullptr && enum_name == name) return true;
  }
  return false;
}

TargetChecker::~TargetChecker() {
  if (vmlinux_ != nullptr) btf__free(vmlinux_);
}

bool TargetChecker::KernelSymbol(const std::string& name) {
  if (!symbols_loaded_) {
    std::ifstream in("/proc/kallsyms");
    std::string line, addr, type, symbol;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      if (fields >> addr >> type >> symbol) symbols_.insert(symbol);
    }
    symbols_loaded_ = true;
  }
  return symbols_.count(name) > 0;
}

// Raw tracepoints are named without their category: look for events/*/<name>.
bool TargetChecker::TracefsEventNamed(const std::string& name) {
  std::string events = TracefsEventsDir();
  if (events.empty()) return true;
  DIR* dir = opendir(events.c_str());
  if (dir == nullptr) return true;
  bool found = false;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.' && IsDir(events + "/" + entry->d_name + "/" + name)) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace socktop
