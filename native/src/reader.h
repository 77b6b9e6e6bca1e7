// reader.h: one libbpf session: open the BPF object, keep the chosen backend's programs, load,
// attach, copy ring buffer records out, report stats, detach. No N-API here (see session_wrap.h).
// Not thread-safe: one thread opens, polls and closes it (the capture worker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "opaque_id.h"

struct bpf_object;
struct bpf_program;
struct bpf_link;
struct bpf_map;
struct ring_buffer;

namespace socktop {

struct ReaderOptions {
  std::string backend;      // "cgroup", "kprobe" or "tracepoint"
  std::string object_path;  // bpf/socktop.bpf.o
  uint32_t ring_bytes = 16u << 20;
};

struct ReaderInfo {
  std::string backend;
  double attach_ms = 0;
  std::vector<std::string> programs;  // attached
  std::vector<uint32_t> program_ids;  // their kernel ids, same order
  std::vector<std::string> skipped;   // optional programs whose target this kernel lacks
  bool mounted_tracefs = false;
  std::string cgroup;       // cgroup v2 root the cgroup programs attach to ("" when none do)
  bool mounted_cgroup2 = false;
};

struct ProgramStat {
  std::string name;
  uint32_t id = 0;  // kernel program id: lets tests check the program is gone after close
  uint64_t run_count = 0;
  uint64_t run_time_ns = 0;
  uint64_t misses = 0;  // runs the kernel skipped (bpf_prog_info.recursion_misses)
  uint32_t verified_insns = 0;  // instructions the verifier processed to load it (5.16+): the
                                // load time's measure (test/live/load-budget.test.ts)
};

struct ReaderStats {
  uint64_t bpf_ring_drops = 0;
  uint64_t polled = 0;
  uint64_t bad_size = 0;
  uint64_t flush_failures = 0;  // run_flush_bytes runs that failed (bytes then wait for close)
  uint64_t kernel_misses = 0;   // sum of `misses` over socktop's programs: events never produced
  std::vector<ProgramStat> programs;
};

class Reader {
 public:
  // Throws OpenError (open_error.h) with code EPERM, ENOENT, ENOBTF or ELOAD.
  static std::unique_ptr<Reader> Open(const ReaderOptions& options);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Copies up to `capacity` whole records into `out`, waiting up to timeout_ms when none are ready.
  // Returns the number copied. Throws std::runtime_error when the ring buffer fails.
  size_t Poll(uint8_t* out, size_t capacity, int timeout_ms);
  ReaderStats Stats() const;
  const ReaderInfo& info() const { return info_; }
  // Detaches and frees everything. Idempotent.
  void Close();
  bool closed() const { return object_ == nullptr; }
  // Poll() returns at once with fewer records than this only when its wait timed out.
  static constexpr size_t kWaitBelowRecords = 256;

 private:
  struct Attached {
    std::string name;
    bpf_program* program;
    bpf_link* link;
  };
  // Where the ring buffer callback copies records during one Poll().
  struct PollTarget {
    uint8_t* out = nullptr;
    size_t capacity = 0;
    size_t count = 0;
  };

  Reader() = default;
  void OpenObject(const ReaderOptions& options);
  void SelectPrograms(const std::string& backend);
  void SelectRunProgram(bpf_program* program);
  void OpenCgroupRoot();
  void FlushBytesIfDue();
  void ReadWalks();
  void MountTracefsIfNeeded(const std::vector<bpf_program*>& chosen);
  void SkipMissingTargets(const std::vector<bpf_program*>& chosen);
  void Load();
  void AttachAll();
  bpf_link* AttachOne(bpf_program* program);
  void OpenRing();
  bool Consume(bool wait, int timeout_ms);
  static int OnSample(void* ctx, void* data, size_t size);

  bpf_object* object_ = nullptr;
  bpf_map* events_ = nullptr;
  bpf_map* drop_counts_ = nullptr;
  ring_buffer* ring_ = nullptr;
  int stats_fd_ = -1;
  std::vector<Attached> attached_;
  std::vector<bpf_link*> walks_;  // walk_* iterators' links (owned by attached_)
  std::vector<std::string> optional_;  // names of selected programs that may be skipped
  ReaderInfo info_;
  PollTarget target_;
  uint64_t polled_ = 0;
  uint64_t bad_size_ = 0;
  int flush_fd_ = -1;  // run_flush_bytes, when this kernel could load it
  std::chrono::steady_clock::time_point next_flush_{};
  uint64_t flush_failures_ = 0;
  int cgroup_fd_ = -1;  // open while attaching only: the links keep their own reference
  OpaqueIds ids_;
};

}  // namespace socktop
