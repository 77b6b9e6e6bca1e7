/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fixture.bpf.c: a tiny BPF object with the same shape as bpf/socktop.bpf.o (ring buffer map
 * `events`, PERCPU_ARRAY `drop_counts`, programs named by backend prefix) so the addon and the
 * worker can be tested without the real probes.
 *
 *   tp_getppid       getppid() (process.ppid in Node) emits one full 128-byte record (kind SK_NONE)
 *   common_getegid   getegid() (process.getegid()) emits a short 64-byte sample (counted as
 *                    badSize by the reader) and adds 1 to drop_counts, to test drop reporting
 *   tp_missing_opt   optional program on a tracepoint that does not exist: must be skipped
 *   kp_connect       kprobe program: must not load with the tracepoint backend
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../../bpf/socktop.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drop_counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_getppid(void *ctx)
{
	struct socktop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	__u64 id = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->kind = SK_NONE;
	e->backend = 2;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getegid")
int common_getegid(void *ctx)
{
	__u8 junk[64] = {};
	__u32 zero = 0;
	__u64 *drops = bpf_map_lookup_elem(&drop_counts, &zero);
	if (drops)
		__sync_fetch_and_add(drops, 1);
	bpf_ringbuf_output(&events, junk, sizeof(junk), 0);
	return 0;
}

SEC("tracepoint/nosuchcategory/nosuchevent")
int tp_missing_opt(void *ctx)
{
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int kp_connect(void *ctx)
{
	return 0;
}
