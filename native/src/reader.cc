// reader.cc: the libbpf session behind the capture worker. See reader.h for the contract.
#include "reader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "../../bpf/socktop.h"
#include "cgroup.h"
#include "libbpf_log.h"
#include "open_error.h"
#include "privileges.h"
#include "targets.h"

namespace socktop {

namespace {

const char* const kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Which backends load a program is part of its name (see the top of bpf/socktop.bpf.c). The one
// list of prefixes; run_* programs are loaded by every backend and run by the reader, never attached.
struct ProgramPrefix {
  const char* prefix;
  std::vector<std::string> backends;
};
const ProgramPrefix kPrefixes[] = {
    {"cg_", {"cgroup"}},
    {"kp_", {"kprobe"}},
    {"tp_", {"tracepoint"}},
    {"kt_", {"kprobe", "tracepoint"}},
    {"ct_", {"cgroup", "tracepoint"}},
    {"common_", {"cgroup", "kprobe", "tracepoint"}},
    {"walk_", {"cgroup", "kprobe", "tracepoint"}},
    {"run_", {"run"}},
};

// The prefix entry of a program, or nullptr for a name that follows no convention.
const ProgramPrefix* PrefixOf(const std::string& program) {
  for (const auto& p : kPrefixes) {
    if (StartsWith(program, p.prefix)) return &p;
  }
  return nullptr;
}

bool IsRunProgram(const std::string& program) { return StartsWith(program, "run_"); }

bool LoadedBy(const ProgramPrefix& p, const std::string& backend) {
  return std::find(p.backends.begin(), p.backends.end(), backend) != p.backends.end();
}

// cgroup programs attach to a cgroup (bpf_link, multi-attach), not to a kernel event.
bool IsCgroupSection(const std::string& section) {
  return StartsWith(section, "cgroup/") || StartsWith(section, "sockops");
}

// Iterators (iter/*): attached, then read by the reader once a second (ReadWalks).
bool IsIterSection(const std::string& section) { return StartsWith(section, "iter/"); }

// Unix-socket address hooks (6.7+): libbpf 1.1 does not know their section names, so the programs
// are written as their inet twins (cgroup/connect4, ...) with a name holding "_unix", and get their
// real attach type here. The kernel's BTF says whether it has the attach type.
struct UnixSockAddrHook {
  const char* section;
  int attach_type;  // enum bpf_attach_type (the installed headers may predate it)
  const char* enum_name;
};
const UnixSockAddrHook kUnixHooks[] = {
    {"cgroup/connect4", 49, "BPF_CGROUP_UNIX_CONNECT"},
    {"cgroup/sendmsg4", 50, "BPF_CGROUP_UNIX_SENDMSG"},
    {"cgroup/recvmsg4", 51, "BPF_CGROUP_UNIX_RECVMSG"},
};

const UnixSockAddrHook* UnixHookOf(const std::string& program, const std::string& section) {
  if (program.find("_unix") == std::string::npos) return nullptr;
  for (const auto& h : kUnixHooks) {
    if (section == h.section) return &h;
  }
  return nullptr;
}

std::string Errno(int err) { return strerror(err < 0 ? -err : err); }

// Blocks every blockable signal in this thread while it lives. The verifier gives up with EAGAIN
// when a signal is pending for the loading thread, and libbpf retries only a few times: a profiler's
// SIGPROF (node --cpu-prof), a SIGWINCH or a SIGCHLD at the wrong moment would fail the load.
// Process-directed signals go to another thread meanwhile; this thread's own wait till the end.
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t saved_;
};

[[noreturn]] void Fail(const std::string& message, const std::string& details = "") {
  throw OpenError("ELOAD", message, details);
}

void CheckPreconditions(const ReaderOptions& options) {
  if (!Exists(options.object_path)) {
    throw OpenError("ENOENT", "BPF object " + options.object_path +
                                  " not found (build it with: make -C bpf)");
  }
  if (!Exists(kVmlinuxBtf)) {
    throw OpenError("ENOBTF", std::string("kernel BTF is missing (") + kVmlinuxBtf +
                                  "): socktop needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
  }
  if (!HasBpfPrivileges()) {
    throw OpenError("EPERM", std::string("loading BPF programs ") + kPrivilegeHint);
  }
  if (options.backend == "cgroup" && !HasCgroupSockPrivileges()) {
    throw OpenError("EPERM", std::string("the cgroup backend ") + kCgroupPrivilegeHint);
  }
}

// Sum of a PERCPU_ARRAY's slot 0 over all CPUs (per-CPU values are 8-byte aligned).
uint64_t SumPerCpu(const bpf_map* map) {
  int cpus = libbpf_num_possible_cpus();
  if (map == nullptr || cpus <= 0) return 0;
  size_t size = bpf_map__value_size(map);
  size_t stride = (size + 7) & ~size_t(7);
  std::vector<uint8_t> values(stride * cpus);
  uint32_t key = 0;
  if (bpf_map__lookup_elem(map, &key, sizeof key, values.data(), values.size(), 0) != 0) return 0;
  uint64_t sum = 0;
  for (int cpu = 0; cpu < cpus; cpu++) {
    const uint8_t* value = values.data() + stride * cpu;
    if (size >= 8) {
      uint64_t v;
      memcpy(&v, value, 8);
      sum += v;
    } else if (size >= 4) {
      uint32_t v;
      memcpy(&v, value, 4);
      sum += v;
    }
  }
  return sum;
}

// The kernel's view of a loaded program (id, run-time stats); zeros when it cannot be read.
bpf_prog_info ProgramInfo(const bpf_program* program) {
  bpf_prog_info info;
  memset(&info, 0, sizeof info);
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &len) != 0) memset(&info, 0, sizeof info);
  return info;
}

}  // namespace

std::unique_ptr<Reader> Reader::Open(const ReaderOptions& options) {
  auto started = std::chrono::steady_clock::now();
  CheckPreconditions(options);
  std::unique_ptr<Reader> reader(new Reader());  // its destructor undoes a half-done open
  reader->info_.backend = options.backend;
  reader->OpenObject(options);
  reader->SelectPrograms(options.backend);
  reader->Load();
  reader->AttachAll();
  reader->OpenRing();
  std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
  reader->info_.attach_ms = took.count();
  return reader;
}

Reader::~Reader() { Close(); }

void Reader::OpenObject(const ReaderOptions& options) {
  LogCapture log;
  object_ = bpf_object__open_file(options.object_path.c_str(), nullptr);
  if (object_ == nullptr) {
    int err = errno;
    object_ = nullptr;
    Fail("cannot open BPF object " + options.object_path + ": " + Errno(err), log.text());
  }
  events_ = bpf_object__find_map_by_name(object_, "events");
  if (events_ == nullptr || bpf_map__type(events_) != BPF_MAP_TYPE_RINGBUF) {
    Fail("BPF object " + options.object_path + " has no ring buffer map named 'events'");
  }
  if (bpf_map__set_max_entries(events_, options.ring_bytes) != 0) {
    Fail("cannot size the BPF ring buffer to " + std::to_string(options.ring_bytes) + " bytes");
  }
  drop_counts_ = bpf_object__find_map_by_name(object_, "drop_counts");  // optional
}

// Keeps the chosen backend's programs and the common ones (libbpf autoload), then drops the
// optional ones whose attach target this kernel lacks.
void Reader::SelectPrograms(const std::string& backend) {
  std::vector<bpf_program*> chosen;
  bpf_program* program;
  bpf_object__for_each_program(program, object_) {
    std::string name = bpf_program__name(program);
    const ProgramPrefix* prefix = PrefixOf(name);
    if (prefix == nullptr) Fail("BPF program " + name + " does not start with a known prefix (cg_, kp_, tp_, kt_, ct_, common_, walk_, run_)");
    if (IsRunProgram(name)) {
      SelectRunProgram(program);
      continue;
    }
    bool wanted = LoadedBy(*prefix, backend);
    bpf_program__set_autoload(program, wanted);
    if (wanted) chosen.push_back(program);
  }
  MountTracefsIfNeeded(chosen);  // before the checks: tracepoints are looked up in tracefs
  SkipMissingTargets(chosen);
  if (backend == "cgroup") OpenCgroupRoot();
}

// The cgroup v2 root: programs attached there see every socket operation on the host.
void Reader::OpenCgroupRoot() {
  CgroupRoot root;
  try {
    root = EnsureCgroup2();
  } catch (const OpenError&) {
    throw;  // a missing capability, already named (code EPERM)
  } catch (const std::runtime_error& e) {
    Fail(e.what());
  }
  cgroup_fd_ = open(root.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd_ < 0) Fail("cannot open the cgroup v2 root " + root.path + ": " + Errno(errno));
  info_.cgroup = root.path;
  info_.mounted_cgroup2 = root.mounted;
}

// run_* programs are loaded, never attached; the reader runs them. They need
// bpf_for_each_map_elem (5.13): a kernel without it skips them (and socktop check says so).
void Reader::SelectRunProgram(bpf_program* program) {
  bool supported = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_for_each_map_elem, nullptr) > 0;
  bpf_program__set_autoload(program, supported);
  if (!supported) info_.skipped.push_back(bpf_program__name(program));
}

// Classic tracepoints need tracefs for their ids, and it is not always mounted at boot.
void Reader::MountTracefsIfNeeded(const std::vector<bpf_program*>& chosen) {
  for (bpf_program* p : chosen) {
    if (!ParseSection(bpf_program__section_name(p)).NeedsTracefs()) continue;
    try {
      info_.mounted_tracefs = EnsureTracefs();
    } catch (const OpenError&) {
      throw;  // tracefs unreadable, or a mount it may not make: the message says why
    } catch (const std::runtime_error& e) {
      Fail(e.what());
    }
    return;
  }
}

// `*_opt` programs whose target is missing are skipped; any other missing target is an error.
void Reader::SkipMissingTargets(const std::vector<bpf_program*>& chosen) {
  TargetChecker checker;
  for (bpf_program* p : chosen) {
    std::string name = bpf_program__name(p);
    AttachTarget target = ParseSection(bpf_program__section_name(p));
    bool optional = EndsWith(name, "_opt");
    if (optional) optional_.push_back(name);
    const UnixSockAddrHook* unix_hook = UnixHookOf(name, bpf_program__section_name(p));
    if (unix_hook != nullptr && checker.AttachType(unix_hook->enum_name)) {
      bpf_program__set_expected_attach_type(p, static_cast<bpf_attach_type>(unix_hook->attach_type));
      continue;
    }
    if (unix_hook != nullptr) target = {AttachTarget::kOther, unix_hook->enum_name};
    else if (checker.Exists(target)) continue;
    if (!optional) {
      Fail("cannot load BPF program " + name + ": its " + target.Describe() +
           " does not exist on this kernel");
    }
    bpf_program__set_autoload(p, false);
    info_.skipped.push_back(name);
  }
}

void Reader::Load() {
  // Run-time stats (run_cnt, run_time_ns) are counted only while someone holds this fd.
  stats_fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
  LogCapture log;
  int err;
  {
    SignalsHeld held;
    err = bpf_object__load(object_);
  }
  if (err == 0) return;
  if ((err == -EPERM || err == -EACCES) && !HasBpfPrivileges()) {
    throw OpenError("EPERM", std::string("loading BPF programs ") + kPrivilegeHint, log.text());
  }
  if ((err == -EPERM || err == -EACCES) && info_.backend == "cgroup" && !HasCgroupSockPrivileges()) {
    throw OpenError("EPERM", std::string("the cgroup backend ") + kCgroupPrivilegeHint, log.text());
  }
  LoadFailure failure = DescribeLoadFailure(log.text());
  std::string reason = failure.reason.empty() ? Errno(err) : failure.reason;
  Fail("cannot load " + failure.subject + ": " + reason, log.text());
}

void Reader::AttachAll() {
  bpf_program* program;
  bpf_object__for_each_program(program, object_) {
    if (!bpf_program__autoload(program)) continue;
    std::string name = bpf_program__name(program);
    if (IsRunProgram(name)) {  // loaded, not attached; ours all the same (stats, ids)
      flush_fd_ = bpf_program__fd(program);
      attached_.push_back({name, program, nullptr});
      info_.programs.push_back(name);
      info_.program_ids.push_back(ProgramInfo(program).id);
      continue;
    }
    LogCapture log;
    bpf_link* link = AttachOne(program);
    if (link == nullptr) {
      int err = errno;
      bool optional = std::find(optional_.begin(), optional_.end(), name) != optional_.end();
      if (optional) {  // its target exists but refuses us: same outcome as a missing target
        info_.skipped.push_back(name);
        continue;
      }
      LoadFailure failure = DescribeLoadFailure(log.text());
      std::string target = ParseSection(bpf_program__section_name(program)).Describe();
      std::string reason = failure.reason.empty() ? Errno(err) : failure.reason;
      Fail("cannot attach BPF program " + name + " to " + target + ": " + reason, log.text());
    }
    attached_.push_back({name, program, link});
    if (IsIterSection(bpf_program__section_name(program))) walks_.push_back(link);
    info_.programs.push_back(name);
    info_.program_ids.push_back(ProgramInfo(program).id);
  }
  if (cgroup_fd_ >= 0) close(cgroup_fd_);
  cgroup_fd_ = -1;
}

// A cgroup program gets a bpf_link on the cgroup root: links always allow several programs per
// hook, so the host's own programs there keep running, and a link dies with its last fd (socktop
// killed with SIGKILL leaves nothing attached). Everything else attaches to its kernel event.
bpf_link* Reader::AttachOne(bpf_program* program) {
  if (!IsCgroupSection(bpf_program__section_name(program))) return bpf_program__attach(program);
  if (cgroup_fd_ < 0) {
    errno = EBADF;
    return nullptr;
  }
  return bpf_program__attach_cgroup(program, cgroup_fd_);
}

void Reader::OpenRing() {
  LogCapture log;
  ring_ = ring_buffer__new(bpf_map__fd(events_), &Reader::OnSample, this, nullptr);
  if (ring_ == nullptr) {
    int err = errno;
    ring_ = nullptr;
    Fail("cannot open the BPF ring buffer: " + Errno(err), log.text());
  }
}

// Stores the record, then stops the ring walk once `out` is full. libbpf 1.1 has already consumed
// a sample whose callback returns < 0, so we must never refuse a record: we stop *after* the
// record that fills the last slot, and the next one stays in the ring for the next Poll().
int Reader::OnSample(void* ctx, void* data, size_t size) {
  Reader* self = static_cast<Reader*>(ctx);
  if (size != SOCKTOP_RECORD_SIZE) {
    self->bad_size_++;
    return 0;
  }
  PollTarget& t = self->target_;
  uint8_t* record = t.out + t.count * SOCKTOP_RECORD_SIZE;
  memcpy(record, data, SOCKTOP_RECORD_SIZE);
  // The one place kernel addresses are removed: nothing past this line sees one.
  uint64_t address;
  memcpy(&address, record + offsetof(socktop_event, sock), sizeof address);
  uint64_t id = self->ids_.Of(address);
  memcpy(record + offsetof(socktop_event, sock), &id, sizeof id);
  t.count++;
  return t.count == t.capacity ? -ENOSPC : 0;
}

// One pass over the ring: ring_buffer__poll (epoll, then read) when `wait`, else
// ring_buffer__consume (read what is there without epoll). Returns false once `out` is full.
bool Reader::Consume(bool wait, int timeout_ms) {
  int err = wait ? ring_buffer__poll(ring_, timeout_ms) : ring_buffer__consume(ring_);
  if (err == -ENOSPC) return false;
  if (err < 0 && err != -EINTR) {
    throw std::runtime_error("reading the BPF ring buffer failed: " + Errno(err));
  }
  return target_.count < target_.capacity;
}

// The BPF side suppresses wakeups to batch them (it wakes us when 2048 records wait), so epoll
// may time out while records wait: read what is already there first. When that is only a trickle,
// sleep in epoll (until the BPF side's wakeup or the timeout) and read again: under a storm, a
// reader that came back at once would carry a few records per call, each call with its fixed cost
// (the N-API call, the JS hooks, publishing to the shared ring).
size_t Reader::Poll(uint8_t* out, size_t capacity, int timeout_ms) {
  if (ring_ == nullptr) throw std::runtime_error("the BPF session is closed");
  if (capacity == 0) return 0;
  target_ = {out, capacity, 0};
  FlushBytesIfDue();
  const size_t trickle = std::min<size_t>(kWaitBelowRecords, capacity);
  if (Consume(false, 0) && target_.count < trickle && Consume(true, timeout_ms)) Consume(false, 0);
  size_t n = target_.count;
  target_ = {};
  polled_ += n;
  return n;
}

// Once a second: the bytes of sockets that went quiet after a burst (see run_flush_bytes). Its
// records are in the ring before this Poll() reads it. A failed run is not fatal: the bytes still
// arrive with the socket's next send/recv or its close. Then the walks (ReadWalks).
void Reader::FlushBytesIfDue() {
  if (flush_fd_ < 0 && walks_.empty()) return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_flush_) return;
  next_flush_ = now + std::chrono::seconds(1);
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  if (flush_fd_ >= 0 && bpf_prog_test_run_opts(flush_fd_, &opts) != 0) flush_failures_++;
  ReadWalks();
}

// Each walk_* iterator, read to its end: its program reports what it finds through the ring (it
// writes nothing to the iterator itself). A failed walk is counted with the failed flushes.
void Reader::ReadWalks() {
  for (bpf_link* link : walks_) {
    int fd = bpf_iter_create(bpf_link__fd(link));
    if (fd < 0) {
      flush_failures_++;
      continue;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
    }
    if (n < 0) flush_failures_++;
    close(fd);
  }
}

ReaderStats Reader::Stats() const {
  ReaderStats stats;
  stats.bpf_ring_drops = closed() ? 0 : SumPerCpu(drop_counts_);
  stats.polled = polled_;
  stats.bad_size = bad_size_;
  stats.flush_failures = flush_failures_;
  for (const Attached& a : attached_) {
    bpf_prog_info info = ProgramInfo(a.program);
    stats.programs.push_back(
        {a.name, info.id, info.run_cnt, info.run_time_ns, info.recursion_misses, info.verified_insns});
    stats.kernel_misses += info.recursion_misses;
  }
  return stats;
}

void Reader::Close() {
  walks_.clear();
  for (Attached& a : attached_) bpf_link__destroy(a.link);
  attached_.clear();
  if (ring_ != nullptr) ring_buffer__free(ring_);
  ring_ = nullptr;
  if (object_ != nullptr) bpf_object__close(object_);
  object_ = nullptr;
  events_ = drop_counts_ = nullptr;
  flush_fd_ = -1;
  if (stats_fd_ >= 0) close(stats_fd_);
  stats_fd_ = -1;
  if (cgroup_fd_ >= 0) close(cgroup_fd_);
  cgroup_fd_ = -1;
}

}  // namespace socktop
