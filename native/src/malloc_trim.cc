// malloc_trim.cc: see malloc_trim.h.
#include "malloc_trim.h"

#include <malloc.h>

#include <mutex>

namespace socktop {

HeapFigures ReadHeapFigures() {
  HeapFigures f{0, 0, 0, 0};
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  f.arena_bytes = m.arena;
  f.mmap_bytes = m.hblkhd;
  f.in_use_bytes = m.uordblks;
  f.free_bytes = m.fordblks;
#endif
  return f;
}

namespace {
// Blocks from 256 KiB are mmap'd on their own (and unmapped when freed); a heap's free top above
// 256 KiB goes back to the kernel at the free() that makes it.
constexpr int kMmapThresholdBytes = 256 * 1024;
constexpr int kTrimThresholdBytes = 256 * 1024;
}  // namespace

void FixHeapThresholds() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
    mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
  });
#endif
}

bool TrimHeap() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace socktop
