// malloc_trim.cc: see malloc_trim.h.
#include "malloc_trim.h"

#include <malloc.h>

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

bool TrimHeap() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace socktop
