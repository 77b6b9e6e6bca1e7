// malloc_trim.h: give the C heap's free pages back to the kernel, and how much the heap holds.
//
// Why: glibc keeps memory freed in the middle of its heaps (and in the per-thread arenas V8's
// platform threads and the capture worker use) resident; only the top of a heap is returned
// automatically. socktop frees a lot of small blocks at once when thousands of exited processes
// age out (each row's typed-array buffers are malloc'd by Node's ArrayBuffer allocator), and
// libbpf frees the parsed kernel BTF after the programs load. malloc_trim(0) walks every arena and
// madvise(MADV_DONTNEED)s each whole free page, so RSS follows what is actually in use.
#pragma once

#include <cstddef>

namespace socktop {

struct HeapFigures {
  size_t arena_bytes;   // bytes obtained with sbrk/arena heaps (mallinfo2.arena), every arena
  size_t mmap_bytes;    // bytes in chunks mmap'd on their own (mallinfo2.hblkhd)
  size_t in_use_bytes;  // bytes handed out (mallinfo2.uordblks)
  size_t free_bytes;    // bytes in free chunks, resident or not (mallinfo2.fordblks)
};

// mallinfo2() over every arena (glibc 2.33+; figures are 0 elsewhere).
HeapFigures ReadHeapFigures();

// malloc_trim(0): true when some memory was given back.
bool TrimHeap();

// Fixed thresholds instead of glibc's sliding ones (mallopt; once per process, at addon load).
// Why: glibc raises its mmap threshold to the size of the largest mmap'd block freed so far (up
// to 32 MiB) and its trim threshold to twice that. libbpf frees multi-megabyte blocks (the kernel's
// BTF) right after loading, so from then on large blocks came from the heaps, and the per-thread
// arenas kept up to 64 MiB of free top chunk resident, which malloc_trim does not touch in a
// thread arena. Measured at idle: thread arenas 15.9 MB resident vs 3.6 MB for bare Node.
void FixHeapThresholds();

}  // namespace socktop
