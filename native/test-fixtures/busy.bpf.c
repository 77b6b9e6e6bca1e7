/* SPDX-License-Identifier: GPL-2.0 */
/*
 * busy.bpf.c: keeps a CPU inside a BPF tracing program, so that the kernel skips socktop's
 * programs that fire meanwhile on that CPU (from interrupts: timers, softirqs) and counts a miss
 * (bpf_prog_info.recursion_misses). Shaped like socktop's object (an `events` ring buffer, a
 * tp_* program) so the addon can load it with the tracepoint backend.
 *
 *   tp_busy_getpgid   each getpgid() spins about a millisecond inside the program
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

static long spin(__u64 index, void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int tp_busy_getpgid(void *ctx)
{
	bpf_loop(1 << 20, spin, NULL, 0);
	return 0;
}
