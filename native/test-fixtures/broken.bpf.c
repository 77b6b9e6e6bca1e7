/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken.bpf.c: a BPF object the verifier rejects (a map value used without a NULL check), to
 * test that a load failure becomes one line naming the program and the verifier's complaint.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_unchecked(void *ctx)
{
	__u32 zero = 0;
	__u64 *value = bpf_map_lookup_elem(&counter, &zero);
	return *value; /* no NULL check: rejected */
}
