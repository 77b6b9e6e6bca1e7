// SPDX-License-Identifier: GPL-2.0
/*
 * socktop.bpf.c: the kernel side of socktop. One CO-RE object, three backends:
 *
 *   cg_*      cgroup backend (the default where it loads): cgroup/sock_create, cgroup/post_bind4/6,
 *             cgroup/sock_release at the cgroup v2 root, and as tp_btf programs (raw arguments, no
 *             tracefs, not skipped for another BPF program) sock:inet_sock_set_state,
 *             sock:sock_{send,recv}_length, tcp:*, sched:sched_process_exit. No syscall
 *             tracepoint at all: enabling any syscalls:* tracepoint puts every syscall of every
 *             process on the slow path. These hooks also see io_uring and in-kernel callers.
 *   kp_*      kprobe backend: inet_create, inet_bind, tcp_v{4,6}_connect, inet_release,
 *             tcp_sendmsg, tcp_cleanup_rbuf, udp send/recv (where kprobes exist)
 *   tp_*      tracepoint backend: syscalls:sys_{enter,exit}_{socket,bind,connect,close},
 *             sys_enter_{sendto,sendmsg} and sys_{enter,exit}_{recvfrom,recvmsg} (the addresses
 *             of UDP and unix datagrams), sock:sock_{send,recv}_length (works everywhere, taxes
 *             every syscall)
 *   kt_*      kprobe and tracepoint backends, classic tracepoints: sock:inet_sock_set_state,
 *             tcp:tcp_{retransmit_skb,receive_reset,send_reset,destroy_sock},
 *             syscalls:sys_exit_accept{,4}, sched:sched_process_exit
 *   ct_*      cgroup and tracepoint backends, tp_btf: sock:sk_data_ready (unix connects),
 *             sock:inet_sk_error_report (UDP errors)
 *   common_*  every backend (none today; the test fixtures use it)
 *
 *   run_*     run by the reader itself (BPF_PROG_TEST_RUN), never attached: run_flush_bytes
 *   walk_*    every backend: iterators the reader reads once a second (walk_unix_opt, iter/unix)
 *
 * The loader (native/src/reader.cc) picks programs by these name prefixes and turns autoload off
 * for the backend not chosen; a name ending in _opt marks a program whose target may be missing on
 * older kernels (it is then skipped, and `socktop check` says so).
 *
 * Attribution: TCP state changes of passive sockets, retransmits and resets fire in softirq, where
 * "current" is whichever task was interrupted (on loopback, often the peer!). So the owner of a
 * socket is taken only in process context (socket(), connect, listen, accept, send, recv) and kept
 * in the `socks` map keyed by the struct sock address; every later event of the socket reports that
 * owner. Events for sockets with no known owner carry pid 0 and SKF_OWNER_UNKNOWN; events made in
 * interrupt context carry no tid (SKF_NO_TASK). When another process acts on the socket (a forked
 * child, an SCM_RIGHTS receiver), it becomes the owner from then on (hand_over).
 *
 * Accepted sockets are born in softirq (SYN_RECV -> ESTABLISHED): they get an entry with no owner
 * and `accept_pending`. The accept syscall (kprobe and tracepoint backends) claims it; where no hook
 * runs in accept() (the cgroup backend, io_uring accepts), the first process to use the socket
 * (send, receive, close) claims it, and the ACCEPT record carries SKF_FIRST_TOUCH.
 *
 * The end of a socket is caught once, whichever comes first: the state change to TCP_CLOSE, the
 * tcp_destroy_sock tracepoint (sockets the kernel frees without a final state change), or close()
 * / inet_release of a socket that never left CLOSE (never connected; UDP). Its entry stays, marked
 * ended, until the socket is destroyed or released, so that nothing after the end starts it again.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "socktop.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115
#define ECONNABORTED 103
#define EPIPE 32
#define EAGAIN 11
#define ENETDOWN 100
#define ENETUNREACH 101
#define ECONNRESET 104
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTDOWN 112
#define EHOSTUNREACH 113

#define BACKEND_KPROBE SK_BACKEND_KPROBE
#define BACKEND_TRACEPOINT SK_BACKEND_TRACEPOINT
#define BACKEND_CGROUP SK_BACKEND_CGROUP
#define BACKEND_COMMON SK_BACKEND_COMMON

/* Wake the reader only when this much is waiting; it also polls on a short (50 ms) timeout, so a
 * quiet machine's events still arrive promptly. Waking per event would cost a context switch per
 * event at storm rates; at 2048 records a 10k connections/s storm wakes it about 80 times a second. */
#define WAKEUP_BYTES (2048 * SOCKTOP_RECORD_SIZE)
/* SEND/RECV deltas are reported at most this often per socket (CLOSE carries the totals). */
#define BYTES_REPORT_NS 1000000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* the loader may resize it */
} events SEC(".maps");

/* Events lost because the ring buffer was full (per CPU; the reader sums them). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drop_counts SEC(".maps");

struct sock_info {
	__u64 start_ns;       /* first seen in process context (0: adopted mid-life) */
	__u64 syn_ns;         /* connect start, for the latency                       */
	__u64 sent;           /* bytes seen by send hooks                             */
	__u64 received;       /* bytes seen by receive hooks                          */
	__u64 reported_sent;  /* part of `sent` already reported in SEND events       */
	__u64 reported_received;
	__u64 last_report_ns;
	__u32 pid;
	__u32 uid;
	char comm[SOCKTOP_COMM_LEN];
	__u16 lport;          /* last ports seen: the kernel zeroes them on the way to CLOSE */
	__u16 rport;
	__u64 serial;         /* this socket's number, unique while socktop runs (struct sock
			       * addresses are reused as soon as a socket is freed)          */
	__u64 accept_pending; /* born by a passive open, no process has claimed it yet
			       * (64 bits: the compare-and-swap that claims it)             */
	__u64 owner_sent;     /* bytes the owner's own calls sent / received since the last */
	__u64 owner_received; /* report: its share when another process takes the socket over */
	__u64 ended;          /* its CLOSE record is out: the entry stays, as the socket's
			       * history, until the kernel destroys the socket (a reset its
			       * owner's close sends still names the owner), and nothing the
			       * process does with it afterwards (read what is left, close)
			       * starts it again or ends it twice                            */
	/* It listens (entered LISTEN, not left it): the flush samples its accept queue. */
	__u32 listening;
	/* A listener's accept queue as its last QUEUE record told it (queue_told: one was sent). */
	__u32 queue_len_told;
	__u32 syn_queue_told;
	__u32 drops_told;
	__u32 queue_told;
};

/* Owner and counters of every socket we have seen in process context. LRU: a socket whose end we
 * somehow miss cannot fill the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, struct sock_info);
} socks SEC(".maps");

/* A syscall in flight on a thread: between sys_enter and sys_exit (or kprobe and kretprobe). */
struct pending {
	__u64 ptr;            /* struct sock * or struct socket *, by call */
	__u64 ts;
	__u32 fd;
	__u32 syn_seen;       /* connect: the SYN went out inside this call */
	/* connect: the destination the program asked for (the socket has none yet when the call
	 * fails before a SYN, e.g. no route), network byte order port, family AF_INET/AF_INET6 */
	__u8 daddr[16];
	__u16 dport;
	__u16 dfamily;
	__s32 route_err;      /* cgroup backend: the last route lookup error in this connect */
	__u64 route_err_ns;   /* ... and when it came                                         */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* tid << 8 | call */
	__type(value, struct pending);
} pendings SEC(".maps");

enum call { CALL_CONNECT = 1, CALL_BIND, CALL_SOCKET, CALL_CG_CONNECT, CALL_UDP_CONNECT };

/* Listening sockets by netns, family and port (listener_key), for the accept queue of the listener
 * a passive connection joins or leaves (the child socket does not point to its listener). With
 * SO_REUSEPORT the last listener of a port is the one read. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} listeners SEC(".maps");

/* cgroup backend: the thread with a connect() in flight on each CPU, so the route-lookup program
 * (which runs for every route lookup on the host) costs one array read when it is not ours. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} connect_on_cpu SEC(".maps");

/* ------------------------------------------------------------------ small helpers */

static __always_inline __u64 pending_key(enum call c)
{
	return (bpf_get_current_pid_tgid() << 8) | c;
}

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drop_counts, &zero);
	if (n)
		*n += 1; /* per-CPU slot: no atomic needed */
}

/* A record. `task`: the program runs in the context of the process acting on the socket (a syscall,
 * io_uring's worker, the backlog a process handles as it releases the socket), so "current" made
 * this event; else it runs in interrupt context (softirq, a timer), "current" is whichever task was
 * interrupted, and the record gets no tid and SKF_NO_TASK (its owner can only come from the socket's
 * history, sock_info). */
static __always_inline struct socktop_event *reserve_in(__u8 kind, __u16 backend, bool task)
{
	struct socktop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->backend = (__u8)backend;
	if (task)
		e->tid = (__u32)bpf_get_current_pid_tgid();
	else
		e->flags |= SKF_NO_TASK;
	return e;
}

/* A record made in process context (every hook but the TCP state machine and the tcp: events). */
static __always_inline struct socktop_event *reserve(__u8 kind, __u16 backend)
{
	return reserve_in(kind, backend, true);
}

static __always_inline void submit(struct socktop_event *e)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline bool is_inet(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

/* Where a socket lives: its cgroup (set when it was created, from the creator's cgroup: the same
 * in softirq as in process context) and its network namespace. Both are ids users can look up
 * (the cgroup directory's inode, /proc/PID/ns/net's inode), not kernel addresses. */
static __always_inline void fill_place(struct socktop_event *e, struct sock *sk)
{
	e->cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

#include "unix_path.bpf.h"

/* fill_tuple()'s work, for the socket in e->sock. A global function: fill_tuple() is inlined at up
 * to a dozen places in a program, and the verifier checked all of this at each of them (on every
 * path through the TCP state machine); now once per program. Returns 0 (6.1 wants a scalar). */
__noinline int fill_tuple_of(struct socktop_event *e)
{
	if (!e)
		return 0;
	struct sock *sk = (struct sock *)e->sock; /* a number to the verifier, read with CO-RE */
	if (is_unix(sk)) {
		fill_unix(e, sk);
		return 0;
	}
	fill_place(e, sk);
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->proto = (__u8)BPF_CORE_READ(sk, sk_protocol);
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	/* Released ports (the way to CLOSE unhashes the socket and zeroes skc_num) stay in inet_sport,
	 * where the classic tracepoint reads them too. */
	if (!e->lport)
		e->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* explicit sizes: BPF_CORE_READ_INTO would copy sizeof(*dst), one byte of an array */
	if (e->family == AF_INET) {
		bpf_core_read(e->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->raddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	return 0;
}

/* Addresses, ports, family and protocol straight from the socket (unix sockets: fill_unix). */
static __always_inline void fill_tuple(struct socktop_event *e, struct sock *sk)
{
	e->sock = (__u64)sk;
	fill_tuple_of(e);
}

static __always_inline void set_owner_current(struct socktop_event *e)
{
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* Owner from the socket's entry; also keeps the last nonzero ports so the final events of a socket
 * (whose ports the kernel has already released) still say which connection it was. */
static __always_inline void set_owner(struct socktop_event *e, struct sock_info *info)
{
	if (!info) {
		e->flags |= SKF_OWNER_UNKNOWN;
		return;
	}
	if (!info->pid)
		e->flags |= SKF_OWNER_UNKNOWN; /* an accepted socket nobody has claimed yet */
	e->pid = info->pid;
	e->uid = info->uid;
	e->serial = info->serial;
	__builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
	if (e->lport)
		info->lport = e->lport;
	else
		e->lport = info->lport;
	if (e->rport)
		info->rport = e->rport;
	else
		e->rport = info->rport;
}

/* Numbers the sockets socktop tracks (sock_info.serial, reported in the record's `serial`); 0: unknown. */
__u64 next_serial = 0;

static __always_inline void set_info_owner_current(struct sock_info *info)
{
	info->pid = bpf_get_current_pid_tgid() >> 32;
	info->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(info->comm, sizeof(info->comm));
}

static __always_inline struct sock_info *new_entry(struct sock *sk, __u64 now, bool adopted, bool owned)
{
	__u64 key = (__u64)sk;
	struct sock_info info = {};
	info.start_ns = adopted ? 0 : now;
	info.last_report_ns = now; /* a socket's first second of bytes goes with the flush or CLOSE */
	if (owned)
		set_info_owner_current(&info);
	else
		info.accept_pending = 1;
	info.serial = __sync_fetch_and_add(&next_serial, 1) + 1;
	bpf_map_update_elem(&socks, &key, &info, BPF_ANY);
	return bpf_map_lookup_elem(&socks, &key);
}

/* Record the current task as the owner of sk (process context only). */
static __always_inline struct sock_info *track(struct sock *sk, __u64 now, bool adopted)
{
	return new_entry(sk, now, adopted, true);
}

static __always_inline struct sock_info *lookup(struct sock *sk)
{
	__u64 key = (__u64)sk;
	return bpf_map_lookup_elem(&socks, &key);
}

/* Whether "current" is the process acting on sk, for the hooks that run in either context (the TCP
 * state machine, tcp:* events): a process holds the socket's lock (lock_sock: connect, listen,
 * send, receive, shutdown, close, and the backlog and deferred timer work it runs as it releases
 * the lock). Interrupt context (softirq, timers) acts on a socket only while no process owns it,
 * and defers to the owner otherwise; request and timewait sockets have no such lock. Read from
 * the socket, not the CPU's preempt count: that lives in a per-CPU variable, which a kernel without
 * CONFIG_KALLSYMS_ALL does not let BPF find. */
static __always_inline bool by_lock_owner(struct sock *sk)
{
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV)
		return false;
	return BPF_CORE_READ(sk, sk_lock.owned) != 0;
}

/* The socket is gone (destroyed, or released after its end): its history goes with it. */
static __always_inline void forget(struct sock *sk)
{
	__u64 key = (__u64)sk;
	bpf_map_delete_elem(&socks, &key);
}

/* An ended socket's history when it had none (one that existed before socktop started): what its
 * process still does with it (read what is left, close) must not start it again. */
static __always_inline void remember_ended(struct sock *sk, __u64 now)
{
	__u64 key = (__u64)sk;
	struct sock_info info = { .last_report_ns = now, .ended = 1 };
	bpf_map_update_elem(&socks, &key, &info, BPF_NOEXIST);
}

static __always_inline struct sock *sk_of_socket(struct socket *so)
{
	return BPF_CORE_READ(so, sk);
}

/* The struct socket behind a file descriptor of the current task, or NULL if it is not a socket. */
static __always_inline struct socket *socket_from_fd(__u32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;
	struct socket *so;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(file, private_data);
	if (!so || BPF_CORE_READ(so, file) != file)
		return NULL;
	return so;
}

static __always_inline struct sock *sk_from_fd(__u32 fd)
{
	struct socket *so = socket_from_fd(fd);
	return so ? BPF_CORE_READ(so, sk) : NULL;
}

static __always_inline bool is_tcp_or_udp(struct sock *sk)
{
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static __always_inline bool is_inet_sock(struct sock *sk)
{
	return sk && is_inet(BPF_CORE_READ(sk, __sk_common.skc_family)) && is_tcp_or_udp(sk);
}


/* ------------------------------------------------------------------ failure reasons, accept queues */

/* The reason an errno names, for a connect's or a connection's end (0: none of these). */
static __always_inline __u8 reason_of_error(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return SK_REASON_REFUSED;
	case ETIMEDOUT:
		return SK_REASON_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return SK_REASON_UNREACHABLE;
	case ECONNRESET:
	case EPIPE:
		return SK_REASON_RESET;
	default:
		return SK_REASON_NONE;
	}
}

/* Retransmits of a socket so far: in SYN_SENT every one is a SYN's. */
static __always_inline __u8 syn_retries(struct sock *sk)
{
	__u32 n = BPF_CORE_READ((struct tcp_sock *)sk, total_retrans);
	return n > 255 ? 255 : n;
}

/* netns << 32 | family << 16 | port: an IPv6 and an IPv4 listener may share a port (the children
 * of an IPv6 listener are IPv6 sockets, v4-mapped ones included). */
static __always_inline __u64 listener_key(struct sock *sk)
{
	__u32 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return ((__u64)netns << 32) | ((__u64)family << 16) | BPF_CORE_READ(sk, __sk_common.skc_num);
}

/* The listener a passive connection came through (same netns and local port), or NULL. */
static __always_inline struct sock *listener_of(struct sock *sk)
{
	__u64 key = listener_key(sk);
	__u64 *l = bpf_map_lookup_elem(&listeners, &key);
	return l ? (struct sock *)*l : NULL;
}

/* The listener's accept queue: established connections waiting for accept(), and the backlog. */
static __always_inline void fill_queue(struct socktop_event *e, struct sock *listener)
{
	if (!listener)
		return;
	e->queue_len = BPF_CORE_READ(listener, sk_ack_backlog);
	e->queue_max = BPF_CORE_READ(listener, sk_max_ack_backlog);
}

/* Connections a listener dropped (tcp_listendrop: the accept queue was full, or the SYN queue
 * without syncookies): the socket's drop counter, split per NUMA node on kernels that have
 * sk_drop_counters (6.18) where a socket uses them. */
static __always_inline __u32 listen_drops(struct sock *sk)
{
	__u32 n = BPF_CORE_READ(sk, sk_drops.counter);
	if (bpf_core_field_exists(sk->sk_drop_counters)) {
		struct numa_drop_counters *c = BPF_CORE_READ(sk, sk_drop_counters);
		if (c)
			n += BPF_CORE_READ(c, drops0.counter) + BPF_CORE_READ(c, drops1.counter);
	}
	return n;
}

/* The destination a connect() asked for, from its sockaddr (user memory from the syscall, kernel
 * memory in tcp_v4_connect): sockaddr_in and sockaddr_in6 both start family, port. */
static __always_inline void read_dest(struct pending *p, const void *uaddr, bool user)
{
	__u8 head[8] = {};
	if (!uaddr)
		return;
	if ((user ? bpf_probe_read_user(head, sizeof(head), uaddr) : bpf_probe_read_kernel(head, sizeof(head), uaddr)))
		return;
	__u16 family = head[0] | (head[1] << 8);
	p->dport = (head[2] << 8) | head[3];
	if (family == AF_INET) {
		__builtin_memcpy(p->daddr, head + 4, 4);
	} else if (family == AF_INET6) {
		const void *a6 = (const __u8 *)uaddr + 8;
		if (user ? bpf_probe_read_user(p->daddr, 16, a6) : bpf_probe_read_kernel(p->daddr, 16, a6))
			return;
	} else {
		return;
	}
	p->dfamily = family;
}

/* A connect that failed before any SYN has no remote address on the socket (the kernel sets it
 * only once the route is found): the record gets the one the program asked for. */
static __always_inline void apply_dest(struct socktop_event *e, struct pending *p)
{
	if (!p->dfamily || e->rport)
		return;
	e->rport = p->dport;
	if (p->dfamily == AF_INET && e->family == AF_INET) {
		__builtin_memcpy(e->raddr, p->daddr, 4);
	} else if (p->dfamily == AF_INET6 && e->family == AF_INET6) {
		__builtin_memcpy(e->raddr, p->daddr, 16);
	} else if (p->dfamily == AF_INET && e->family == AF_INET6) { /* v4-mapped */
		__builtin_memset(e->raddr, 0, 10);
		e->raddr[10] = 0xff;
		e->raddr[11] = 0xff;
		__builtin_memcpy(e->raddr + 12, p->daddr, 4);
	}
}

/* Why a connect failed in the call itself: a routing error is "unreachable", anything else local. */
static __always_inline __u8 local_failure_reason(int err)
{
	__u8 r = reason_of_error(err);
	return r == SK_REASON_UNREACHABLE ? r : SK_REASON_LOCAL;
}

/* ------------------------------------------------------------------ shared event logic */

/* A record of a transition; `listener`: the accept queue it reports (NULL: none). */
static __always_inline void emit_transition_q(__u8 kind, struct sock *sk, struct sock_info *info,
					      __s32 error, __u16 backend, __u8 oldstate, __u8 newstate, bool task,
					      struct sock *listener)
{
	struct socktop_event *e = reserve_in(kind, backend, task);
	if (!e)
		return;
	fill_tuple(e, sk);
	set_owner(e, info);
	e->error = error;
	e->old_state = oldstate;
	e->new_state = newstate;
	fill_queue(e, listener);
	submit(e);
}

static __always_inline void emit_transition(__u8 kind, struct sock *sk, struct sock_info *info,
					    __s32 error, __u16 backend, __u8 oldstate, __u8 newstate, bool task)
{
	emit_transition_q(kind, sk, info, error, backend, oldstate, newstate, task, NULL);
}

static __always_inline void emit_simple(__u8 kind, struct sock *sk, struct sock_info *info,
					__s32 error, __u16 backend, bool task)
{
	emit_transition(kind, sk, info, error, backend, 0, 0, task);
}

static __always_inline void on_socket_created(struct sock *sk, __u16 backend)
{
	if (!is_inet_sock(sk))
		return;
	struct sock_info *info = track(sk, bpf_ktime_get_ns(), false);
	emit_simple(SK_SOCKET, sk, info, 0, backend, true);
}

static __always_inline void on_bind_done(struct sock *sk, int ret, __u16 backend)
{
	if (!is_inet_sock(sk))
		return;
	struct sock_info *info = lookup(sk);
	if (!info)
		info = track(sk, bpf_ktime_get_ns(), true);
	emit_simple(SK_BIND, sk, info, ret < 0 ? -ret : 0, backend, true);
}

/* The current task claims an accepted socket whose owner is not known yet: it becomes the owner,
 * and the ACCEPT record is sent now. Only one of racing claimers wins. */
static __always_inline void claim_accept(struct sock *sk, struct sock_info *info, __u16 backend, __u8 flags)
{
	if (!info || !info->accept_pending || !__sync_val_compare_and_swap(&info->accept_pending, 1, 0))
		return;
	set_info_owner_current(info);
	struct socktop_event *e = reserve(SK_ACCEPT, backend);
	if (!e)
		return;
	fill_tuple(e, sk);
	set_owner(e, info);
	e->flags |= flags;
	/* The wait in the accept queue: from the passive open's ESTABLISHED (start_ns) to now. */
	if (info->start_ns)
		e->duration_ns = e->ts_ns - info->start_ns;
	else
		e->flags2 |= SKF2_START_UNKNOWN;
	fill_queue(e, listener_of(sk));
	submit(e);
}

/* accept() returned sk (process context): claim the entry its passive open made, or make one. */
static __always_inline void on_accepted(struct sock *sk, __u16 backend)
{
	if (!is_inet_sock(sk))
		return;
	struct sock_info *info = lookup(sk);
	if (info && info->accept_pending) {
		claim_accept(sk, info, backend, 0);
		return;
	}
	if (info && !info->ended)
		return; /* claimed already: its first use came before this */
	info = track(sk, bpf_ktime_get_ns(), false);
	struct socktop_event *e = reserve(SK_ACCEPT, backend);
	if (!e)
		return;
	fill_tuple(e, sk);
	set_owner(e, info);
	e->flags2 |= SKF2_START_UNKNOWN; /* its passive open was not seen: the wait is not known */
	fill_queue(e, listener_of(sk));
	submit(e);
}

/* Any use of a socket in process context claims it if it was accepted and not yet claimed. */
static __always_inline void touch(struct sock *sk, struct sock_info *info, __u16 backend)
{
	if (info && info->accept_pending)
		claim_accept(sk, info, backend, SKF_FIRST_TOUCH);
}

static __always_inline void connect_enter(struct sock *sk, const void *uaddr, bool user)
{
	if (!is_inet_sock(sk) || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return;
	__u64 key = pending_key(CALL_CONNECT);
	struct pending p = { .ptr = (__u64)sk, .ts = bpf_ktime_get_ns() };
	read_dest(&p, uaddr, user);
	bpf_map_update_elem(&pendings, &key, &p, BPF_ANY);
}

/* A connect that failed before any SYN went out (EADDRNOTAVAIL, ENETUNREACH, EACCES...): the state
 * machine never saw it, so this is the only place that can report it. */
static __always_inline void connect_exit(long ret, __u16 backend)
{
	__u64 key = pending_key(CALL_CONNECT);
	struct pending *p = bpf_map_lookup_elem(&pendings, &key);
	if (!p)
		return;
	struct sock *sk = (struct sock *)p->ptr;
	if (ret < 0 && ret != -EINPROGRESS && !p->syn_seen) {
		struct socktop_event *e = reserve(SK_CONNECT, backend);
		if (e) {
			fill_tuple(e, sk);
			set_owner_current(e);
			e->error = -ret;
			e->flags |= SKF_LOCAL_ERROR;
			e->duration_ns = e->ts_ns - p->ts;
			e->reason = local_failure_reason(-ret);
			apply_dest(e, p);
			submit(e);
		}
	}
	bpf_map_delete_elem(&pendings, &key);
}

/* TCP byte counts come from the kernel's own counters, the same on every backend and kernel:
 * bytes_sent is data put on the wire (SYN and FIN carry none), minus retransmissions;
 * bytes_received is sequence space, which includes the peer's FIN once tcp_fin() ran (tcp_fin()
 * also sets SOCK_DONE, so that one byte is taken off). */
static __always_inline void tcp_byte_counters(struct sock *sk, __u64 *sent, __u64 *received)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 out = BPF_CORE_READ(tp, bytes_sent);
	__u64 retrans = BPF_CORE_READ(tp, bytes_retrans);
	__u64 in = BPF_CORE_READ(tp, bytes_received);
	unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);

	if (in && (flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))))
		in -= 1;
	*sent = out > retrans ? out - retrans : 0;
	*received = in;
}

/* TCP: the kernel counters; UDP: the datagram bytes our send/recv programs added up. */
static __always_inline void socket_totals(struct sock *sk, __u8 proto, struct sock_info *info,
					  __u64 *sent, __u64 *received)
{
	if (proto == IPPROTO_TCP) {
		tcp_byte_counters(sk, sent, received);
	} else if (info) {
		*sent = info->sent;
		*received = info->received;
	}
}

/* The one end of a socket: a CLOSE record, once. The entry stays, marked ended (see sock_info). */
static __always_inline void emit_close(struct sock *sk, struct sock_info *info, __u8 flags,
				       __u16 backend, __u16 lport, __u16 rport, bool task)
{
	if (info && info->ended)
		return; /* told already: the state change, then the close() that follows it */
	struct socktop_event *e = reserve_in(SK_CLOSE, backend, task);
	if (e) {
		fill_tuple(e, sk);
		if (!e->lport)
			e->lport = lport;
		if (!e->rport)
			e->rport = rport;
		set_owner(e, info);
		e->flags |= flags;
		e->old_state = BPF_CORE_READ(sk, __sk_common.skc_state); /* the state it ended from */
		e->new_state = TCP_CLOSE;
		/* An established connection ended by an error (a received RST: tcp_reset() set sk_err
		 * just before it closed the socket; a retransmission timeout): a connect's failure is
		 * its CONNECT record's, not told twice. */
		if (e->proto == IPPROTO_TCP && e->old_state != TCP_SYN_SENT && e->old_state != TCP_LISTEN) {
			__u8 r = reason_of_error(BPF_CORE_READ(sk, sk_err));
			if (r != SK_REASON_REFUSED)
				e->reason = r;
		}
		socket_totals(sk, e->proto, info, &e->bytes_sent, &e->bytes_received);
		if (info && info->start_ns)
			e->duration_ns = e->ts_ns - info->start_ns;
		else
			e->flags2 |= SKF2_START_UNKNOWN; /* it began before we saw it: not 0 */
		submit(e);
	}
	if (info)
		info->ended = 1;
	else
		remember_ended(sk, bpf_ktime_get_ns());
}

/* Claim the right to report this socket's bytes now: at most once per BYTES_REPORT_NS, and only
 * one of the racing reporters (a send on one CPU, a receive on another, the flush) wins. */
static __always_inline bool claim_bytes_report(struct sock_info *info, __u64 now)
{
	__u64 last = info->last_report_ns;
	if (now - last < BYTES_REPORT_NS)
		return false;
	return __sync_val_compare_and_swap(&info->last_report_ns, last, now) == last;
}

static __always_inline void emit_bytes(__u8 kind, struct sock *sk, struct sock_info *info, __u64 delta,
				       __u16 backend, bool task)
{
	struct socktop_event *e = reserve_in(kind, backend, task);
	if (!e)
		return;
	fill_tuple(e, sk);
	set_owner(e, info);
	if (kind == SK_SEND)
		e->bytes_sent = delta;
	else
		e->bytes_received = delta;
	submit(e);
}

/* The bytes each way since the last report: a SEND record for what was sent, a RECV record for
 * what was received (each only when nonzero). */
static __always_inline void report_bytes(struct sock *sk, struct sock_info *info, __u8 proto,
					 __u16 backend, bool task)
{
	__u64 sent = 0, received = 0;
	socket_totals(sk, proto, info, &sent, &received);
	if (sent > info->reported_sent) {
		emit_bytes(SK_SEND, sk, info, sent - info->reported_sent, backend, task);
		info->reported_sent = sent;
	}
	if (received > info->reported_received) {
		emit_bytes(SK_RECV, sk, info, received - info->reported_received, backend, task);
		info->reported_received = received;
	}
	info->owner_sent = 0;
	info->owner_received = 0;
}

/* The unreported bytes the owner's own calls moved, as its last SEND/RECV records before another
 * process takes the socket over (TCP's counters also hold bytes that arrived but nobody read yet:
 * those go to whoever reads them). No tid: the running thread is the new owner's. */
static __always_inline void report_owner_share(struct sock *sk, struct sock_info *info, __u16 backend)
{
	__u64 sent = 0, received = 0;
	socket_totals(sk, BPF_CORE_READ(sk, sk_protocol), info, &sent, &received);
	__u64 share = sent > info->reported_sent ? sent - info->reported_sent : 0;
	if (share > info->owner_sent)
		share = info->owner_sent;
	if (share) {
		emit_bytes(SK_SEND, sk, info, share, backend, false);
		info->reported_sent += share;
	}
	share = received > info->reported_received ? received - info->reported_received : 0;
	if (share > info->owner_received)
		share = info->owner_received;
	if (share) {
		emit_bytes(SK_RECV, sk, info, share, backend, false);
		info->reported_received += share;
	}
}

/* Another process acts on the socket in process context: a forked child that inherited it, the
 * receiver of a descriptor passed with SCM_RIGHTS. Each record names the process that did it, so
 * from now on that process is the socket's owner (the one its interrupt-context records name);
 * the earlier records keep theirs, and the bytes the previous owner's own calls moved are reported
 * for it first. An unclaimed accepted socket is claimed by touch() instead; an ended one belongs
 * to its history. */
static __always_inline void hand_over(struct sock *sk, struct sock_info *info, __u16 backend)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!info->pid || info->pid == pid || info->accept_pending || info->ended)
		return;
	__u64 last = info->last_report_ns;
	if (__sync_val_compare_and_swap(&info->last_report_ns, last, bpf_ktime_get_ns()) == last)
		report_owner_share(sk, info, backend);
	set_info_owner_current(info);
	info->owner_sent = 0;
	info->owner_received = 0;
}

/* close()/release of a socket: the end of it only if TCP never left CLOSE, or UDP (a connected
 * TCP socket ends through its state machine, caught by the state tracepoint). */
static __always_inline void on_user_close(struct sock *sk, __u16 backend)
{
	if (!sk)
		return;
	struct sock_info *info = lookup(sk);
	if (!info)
		return;
	touch(sk, info, backend);
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP &&
	    BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_CLOSE)
		return;
	hand_over(sk, info, backend); /* its closer ends it */
	emit_close(sk, info, SKF_BY_CLOSE, backend, 0, 0, true); /* nothing if it ended already */
	forget(sk); /* released in CLOSE: nothing more can happen to it (no reset, no bytes) */
}

/* A send or receive on a socket: UDP adds the datagram's n bytes; TCP reads the kernel counters
 * (so n, which an entry probe may only know as "requested", does not matter). The bytes moved
 * since the last report are reported at most once a second per socket; what a burst leaves
 * unreported is reported by the reader's flush (run_flush_bytes) a second later, or by CLOSE. */
static __always_inline void on_bytes(struct sock *sk, long n, bool sending, __u16 backend)
{
	if (n <= 0 || !(is_inet_sock(sk) || is_unix(sk)))
		return;
	__u64 now = bpf_ktime_get_ns();
	struct sock_info *info = lookup(sk);
	if (!info)
		info = track(sk, now, true); /* process context: the caller is the owner */
	if (!info || info->ended) /* an ended socket's CLOSE carried its totals */
		return;
	touch(sk, info, backend);
	hand_over(sk, info, backend);
	__sync_fetch_and_add(sending ? &info->owner_sent : &info->owner_received, n);
	__u8 proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto != IPPROTO_TCP) {
		if (sending)
			__sync_fetch_and_add(&info->sent, n);
		else
			__sync_fetch_and_add(&info->received, n);
	}
	if (claim_bytes_report(info, now))
		report_bytes(sk, info, proto, backend, true);
}

#include "udp_flow.bpf.h"

/* ------------------------------------------------------------------ common: TCP state machine */

static __always_inline void mark_syn_seen(void)
{
	__u64 key = pending_key(CALL_CONNECT);
	struct pending *p = bpf_map_lookup_elem(&pendings, &key);
	if (p)
		p->syn_seen = 1;
}

static __always_inline void emit_connect_result(struct sock *sk, struct sock_info *info, int newstate,
					       bool task)
{
	struct socktop_event *e = reserve_in(SK_CONNECT, BACKEND_COMMON, task);
	if (!e)
		return;
	fill_tuple(e, sk);
	set_owner(e, info);
	e->old_state = TCP_SYN_SENT;
	e->new_state = newstate;
	e->retries = syn_retries(sk);
	if (newstate != TCP_ESTABLISHED) {
		int err = BPF_CORE_READ(sk, sk_err);
		if (!err)
			err = BPF_CORE_READ(sk, sk_err_soft);
		e->error = err ? err : ECONNABORTED; /* closed by its owner before completing */
		/* Closed by its own program: after an unanswered SYN retransmit, that is the program's
		 * connect timeout; before any, an abort. */
		if (!err)
			e->reason = e->retries ? SK_REASON_TIMEOUT : SK_REASON_ABORTED;
		else if ((e->reason = reason_of_error(err)) == SK_REASON_RESET)
			e->reason = SK_REASON_REFUSED;
	}
	if (info && info->syn_ns)
		e->duration_ns = e->ts_ns - info->syn_ns;
	else
		e->flags2 |= SKF2_START_UNKNOWN;
	submit(e);
}

/* A STATE record, its tuple from the tracepoint's own fields (no reads from the socket). */
static __always_inline void emit_state(struct trace_event_raw_inet_sock_set_state *ctx, struct sock *sk,
				       struct sock_info *info, bool task, struct sock *listener)
{
	struct socktop_event *e = reserve_in(SK_STATE, BACKEND_COMMON, task);
	if (!e)
		return;
	e->sock = (__u64)sk;
	fill_place(e, sk);
	e->family = ctx->family;
	e->proto = IPPROTO_TCP;
	e->lport = ctx->sport;
	e->rport = ctx->dport;
	/* The verifier allows only fixed-offset loads from ctx: copy the address arrays by helper. */
	if (ctx->family == AF_INET) {
		bpf_probe_read_kernel(e->laddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e->raddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->laddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->raddr, 16, ctx->daddr_v6);
	}
	set_owner(e, info);
	e->old_state = ctx->oldstate;
	e->new_state = ctx->newstate;
	fill_queue(e, listener);
	submit(e);
}

/* A STATE record, its tuple read from the socket (tp_btf: the tracepoint's raw arguments). */
static __always_inline void emit_state_sk(struct sock *sk, struct sock_info *info, int oldstate, int newstate,
					  bool task, struct sock *listener)
{
	emit_transition_q(SK_STATE, sk, info, 0, BACKEND_COMMON, oldstate, newstate, task, listener);
}

/* Listeners by netns and port: the accept queue of a passive connection's listener (listener_of). */
static __always_inline void remember_listener(struct sock *sk)
{
	__u64 key = listener_key(sk);
	__u64 value = (__u64)sk;
	bpf_map_update_elem(&listeners, &key, &value, BPF_ANY);
}

static __always_inline void forget_listener(struct sock *sk)
{
	__u64 key = listener_key(sk);
	__u64 *l = bpf_map_lookup_elem(&listeners, &key);
	if (l && *l == (__u64)sk)
		bpf_map_delete_elem(&listeners, &key);
}

/* One TCP state change of sk. `ctx` is the classic tracepoint's record (kprobe and tracepoint
 * backends), or NULL where the program is a tp_btf one (cgroup backend) and reads the socket. */
static __always_inline void on_state_change(struct trace_event_raw_inet_sock_set_state *ctx, struct sock *sk,
					    int oldstate, int newstate)
{
	__u64 now = bpf_ktime_get_ns();
	struct sock_info *info = lookup(sk);
	bool task = by_lock_owner(sk);

	/* SYN_SENT and LISTEN are entered inside connect()/listen(): process context, so "current"
	 * is the owner. */
	if (newstate == TCP_SYN_SENT || newstate == TCP_LISTEN) {
		if (!info || info->ended) /* a socket's first life, or a new one after its end */
			info = track(sk, now, false);
		if (info && newstate == TCP_SYN_SENT) {
			info->syn_ns = now;
			mark_syn_seen();
		}
		if (newstate == TCP_LISTEN) {
			remember_listener(sk);
			if (info)
				info->listening = 1;
		}
	}
	if (oldstate == TCP_LISTEN) {
		forget_listener(sk);
		if (info)
			info->listening = 0;
	}
	/* The SYN went out: the cgroup backend's connect in flight did not fail in the call. */
	if (newstate == TCP_SYN_SENT) {
		__u64 key = pending_key(CALL_CG_CONNECT);
		bpf_map_delete_elem(&pendings, &key);
	}
	/* A passive connection joined its listener's accept queue. */
	struct sock *listener = oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED ? listener_of(sk) : NULL;

	/* A passive open completed (softirq: "current" is not the owner). The acceptor claims it. */
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED && (!info || info->ended))
		info = new_entry(sk, now, false, false);
	/* FIN_WAIT1 and LAST_ACK are entered only by close() or shutdown() (tcp_close_state), in the
	 * context of the process ending the connection: a use of the socket, where no send/receive
	 * tracepoint claimed it first (kernels before 6.3 lack them). */
	if ((newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK) && info && info->accept_pending)
		claim_accept(sk, info, BACKEND_COMMON, SKF_FIRST_TOUCH);
	/* Connect, listen, shutdown, close: whoever does them now acts on the socket. */
	if (task && info)
		hand_over(sk, info, BACKEND_COMMON);

	/* A transition that another record tells (connect start, connect result, listen, the end) is
	 * not sent twice: those records carry old_state and new_state. At storm rates this is about
	 * half of all state changes, and the most frequent record kind. A passive child's birth
	 * (LISTEN -> SYN_RECV, as the kernel clones the listener) is not sent either: the record of its
	 * next change carries old_state SYN_RECV, which only that birth leads to. */
	bool told = newstate == TCP_SYN_SENT || newstate == TCP_LISTEN || oldstate == TCP_SYN_SENT ||
		    newstate == TCP_CLOSE || (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV);
	if (!told) {
		if (ctx)
			emit_state(ctx, sk, info, task, listener);
		else
			emit_state_sk(sk, info, oldstate, newstate, task, listener);
	}

	if (newstate == TCP_SYN_SENT)
		emit_transition(SK_CONNECT_START, sk, info, 0, BACKEND_COMMON, oldstate, newstate, task);
	else if (newstate == TCP_LISTEN)
		emit_transition_q(SK_LISTEN, sk, info, 0, BACKEND_COMMON, oldstate, newstate, task, sk);
	if (oldstate == TCP_SYN_SENT)
		emit_connect_result(sk, info, newstate, task);
	if (newstate == TCP_CLOSE)
		emit_close(sk, info, 0, BACKEND_COMMON, ctx ? ctx->sport : 0, ctx ? ctx->dport : 0, task);
}

SEC("tracepoint/sock/inet_sock_set_state")
int kt_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol == IPPROTO_TCP)
		on_state_change(ctx, (struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate);
	return 0;
}

/* Sockets the kernel frees without a final change to TCP_CLOSE still end here. */
SEC("tracepoint/tcp/tcp_destroy_sock")
int kt_tcp_destroy_sock_opt(struct trace_event_raw_tcp_event_sk *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	struct sock_info *info = lookup(sk);
	if (info) {
		emit_close(sk, info, SKF_BY_DESTROY, BACKEND_COMMON, ctx->sport, ctx->dport, by_lock_owner(sk));
		forget(sk);
	}
	return 0;
}

/* tcp_retransmit_skb and tcp_send_reset changed their context types across kernels (6.1 has no
 * trace_event_raw_tcp_send_reset), but both have always begun with skbaddr, skaddr: read them at
 * those fixed offsets instead of through a CO-RE type that may not exist. */
struct skb_sk_tp_ctx {
	__u64 common;
	const void *skbaddr;
	const void *skaddr;
};

static __always_inline void on_retransmit(struct sock *sk)
{
	if (sk)
		emit_simple(SK_RETRANSMIT, sk, lookup(sk), 0, BACKEND_COMMON, by_lock_owner(sk));
}

static __always_inline void on_receive_reset(struct sock *sk)
{
	if (sk)
		emit_simple(SK_RESET, sk, lookup(sk), 0, BACKEND_COMMON, by_lock_owner(sk));
}

static __always_inline void on_send_reset(struct sock *sk)
{
	if (!sk) /* an RST for no socket (e.g. a refused SYN): nobody owns it */
		return;
	struct socktop_event *e = reserve_in(SK_RESET, BACKEND_COMMON, by_lock_owner(sk));
	if (e) {
		fill_tuple(e, sk);
		set_owner(e, lookup(sk));
		e->flags |= SKF_RESET_SENT;
		submit(e);
	}
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int kt_tcp_retransmit_skb(struct skb_sk_tp_ctx *ctx)
{
	on_retransmit((struct sock *)ctx->skaddr);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int kt_tcp_receive_reset_opt(struct trace_event_raw_tcp_event_sk *ctx)
{
	on_receive_reset((struct sock *)ctx->skaddr);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int kt_tcp_send_reset_opt(struct skb_sk_tp_ctx *ctx)
{
	on_send_reset((struct sock *)ctx->skaddr);
	return 0;
}

/* Accepts come from the accept syscalls on the kprobe and tracepoint backends: a kretprobe on
 * inet_csk_accept would miss accepts once more than maxactive (10 on a 2-CPU 6.1 kernel) threads
 * sleep in accept() at once, the classic tcpaccept fault. Accepts made through io_uring are claimed
 * at first touch instead (see claim_accept). */
SEC("tracepoint/syscalls/sys_exit_accept4")
int kt_sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		on_accepted(sk_from_fd(ctx->ret), BACKEND_COMMON);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int kt_sys_exit_accept_opt(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		on_accepted(sk_from_fd(ctx->ret), BACKEND_COMMON);
	return 0;
}

/* io_uring's accept and socket operations make no syscall. Their completion is where the new
 * descriptor is seen, in the submitting process (its thread, or an io-wq worker thread of it: they
 * share its descriptor table): the accept claims the connection right there (an accepted socket
 * that never does I/O is still its acceptor's), and a socket no other hook saw created (the
 * tracepoint backend has only the socket() syscall) gets its SOCKET record. A "direct" descriptor
 * (IORING_FILE_INDEX_ALLOC, a fixed-file slot) is in no descriptor table: those are left to the
 * first use, as before. io_accept and io_socket both overlay the request's first bytes. */
#define IORING_OP_ACCEPT_ 13
#define IORING_OP_SOCKET_ 45

static __always_inline void on_uring_complete(struct io_kiocb *req, int res)
{
	/* CO-RE: a kernel whose io_uring lacks these (older, or built without it) skips the rest. */
	if (!bpf_core_field_exists(req->opcode) || !bpf_core_type_exists(struct io_accept) ||
	    !bpf_core_type_exists(struct io_socket) || res < 0)
		return;
	__u8 op = BPF_CORE_READ(req, opcode);
	if (op != IORING_OP_ACCEPT_ && op != IORING_OP_SOCKET_)
		return;
	__u32 slot = op == IORING_OP_ACCEPT_ ? BPF_CORE_READ((struct io_accept *)req, file_slot)
					     : BPF_CORE_READ((struct io_socket *)req, file_slot);
	if (slot)
		return;
	struct sock *sk = sk_from_fd(res);
	if (!is_inet_sock(sk))
		return;
	struct sock_info *info = lookup(sk);
	if (op == IORING_OP_ACCEPT_)
		on_accepted(sk, BACKEND_COMMON);
	else if (!info || info->ended) /* else a socket hook of this backend told it already */
		on_socket_created(sk, BACKEND_COMMON);
}

SEC("tracepoint/io_uring/io_uring_complete")
int kt_io_uring_complete_opt(struct trace_event_raw_io_uring_complete *ctx)
{
	if (bpf_core_field_exists(ctx->req)) /* 5.19+ */
		on_uring_complete((struct io_kiocb *)ctx->req, ctx->res);
	return 0;
}

static __always_inline void on_process_exit(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)id != (__u32)(id >> 32))
		return; /* a thread, not the process */
	struct socktop_event *e = reserve(SK_EXIT, BACKEND_COMMON);
	if (!e)
		return;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	set_owner_current(e);
	e->count = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	submit(e);
}

SEC("tracepoint/sched/sched_process_exit")
int kt_sched_process_exit(void *ctx)
{
	on_process_exit();
	return 0;
}

/* ------------------------------------------------------------------ run by the reader */

/* Bytes a socket moved in its last burst wait for its next send or receive, or its end: for a
 * kept-alive connection that goes quiet, that may be never. The reader runs this program once a
 * second (BPF_PROG_TEST_RUN; it is never attached): every socket whose bytes were last reported
 * over a second ago and that moved bytes since gets its SEND/RECV records now. */
/* A listener's accept queue, SYN queue and drops, as a QUEUE record when they changed since its
 * last one (the first: always). Run by the reader's flush, about once a second. */
static __always_inline void report_queue(struct sock *sk, struct sock_info *info)
{
	__u32 len = BPF_CORE_READ(sk, sk_ack_backlog);
	__u32 syn = BPF_CORE_READ((struct inet_connection_sock *)sk, icsk_accept_queue.qlen.counter);
	__u32 drops = listen_drops(sk);
	if (info->queue_told && len == info->queue_len_told && syn == info->syn_queue_told &&
	    drops == info->drops_told)
		return;
	struct socktop_event *e = reserve_in(SK_QUEUE, BACKEND_COMMON, false);
	if (!e)
		return;
	fill_tuple(e, sk);
	set_owner(e, info);
	fill_queue(e, sk);
	e->bytes_received = syn;
	/* Drops before its first report count only if socktop saw it start listening. */
	if (info->queue_told || info->start_ns)
		e->count = drops - info->drops_told;
	submit(e);
	info->queue_len_told = len;
	info->syn_queue_told = syn;
	info->drops_told = drops;
	info->queue_told = 1;
}

static long flush_one(struct bpf_map *map, __u64 *key, struct sock_info *info, void *ctx)
{
	struct sock *sk = (struct sock *)*key;
	__u64 now = bpf_ktime_get_ns();
	/* A listener (its entry still names this socket: same port, still listening). The flag
	 * first: most entries are not listeners, and reading the socket costs. */
	if (info->listening) {
		if (!info->ended && info->lport && BPF_CORE_READ(sk, __sk_common.skc_num) == info->lport &&
		    BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN)
			report_queue(sk, info);
		return 0;
	}
	if (info->ended || now - info->last_report_ns < BYTES_REPORT_NS)
		return 0;
	__u8 proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto == IPPROTO_TCP) {
		/* The entry of a socket whose end was missed may name freed memory: read the counters
		 * only while the socket there still has the port this entry saw. */
		if (!info->lport || BPF_CORE_READ(sk, __sk_common.skc_num) != info->lport)
			return 0;
		__u64 sent = 0, received = 0;
		tcp_byte_counters(sk, &sent, &received);
		if (sent <= info->reported_sent && received <= info->reported_received)
			return 0;
	} else if (info->sent <= info->reported_sent && info->received <= info->reported_received) {
		return 0;
	}
	if (claim_bytes_report(info, now)) /* run by socktop's reader: no process made these */
		report_bytes(sk, info, proto, BACKEND_COMMON, false);
	return 0;
}

SEC("raw_tp")
int run_flush_bytes(void *ctx)
{
	bpf_for_each_map_elem(&socks, flush_one, NULL, 0);
	drain_udp_flows(); /* the UDP flows that moved (udp_flow.bpf.h) */
	return 0;
}

/* ------------------------------------------------------------------ unix-domain sockets (cgroup, tracepoint) */
#include "unix.bpf.h"

/* ------------------------------------------------------------------ tracepoint backend */

SEC("tracepoint/syscalls/sys_exit_socket")
int tp_sys_exit_socket(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		on_socket_created(sk_from_fd(ctx->ret), BACKEND_TRACEPOINT);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_bind")
int tp_sys_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	__u64 key = pending_key(CALL_BIND);
	struct pending p = { .fd = ctx->args[0] };
	bpf_map_update_elem(&pendings, &key, &p, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int tp_sys_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	__u64 key = pending_key(CALL_BIND);
	struct pending *p = bpf_map_lookup_elem(&pendings, &key);
	if (!p)
		return 0;
	on_bind_done(sk_from_fd(p->fd), ctx->ret, BACKEND_TRACEPOINT);
	bpf_map_delete_elem(&pendings, &key);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tp_sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	struct socket *so = socket_from_fd(ctx->args[0]);
	if (!so)
		return 0;
	struct sock *sk = BPF_CORE_READ(so, sk);
	if (sk && BPF_CORE_READ(sk, __sk_common.skc_family) == AF_UNIX) {
		unix_connect_begin((__u64)sk); /* told by sk_data_ready on the listener (unix.bpf.h) */
		return 0;
	}
	if (is_udp(sk)) {
		udp_connect_begin(sk, (const void *)ctx->args[1]);
		return 0;
	}
	/* Only a socket that is not connecting starts an attempt. Called again on a socket that is
	 * (a non-blocking connect retried: python connect_ex twice, redis-cli), connect() returns the
	 * earlier attempt's result (EALREADY, EISCONN, or its error once it failed), which the state
	 * machine has already told: reporting it here would count one failed connect twice. */
	if (BPF_CORE_READ(so, state) == SS_UNCONNECTED)
		connect_enter(sk, (const void *)ctx->args[1], true);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tp_sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	connect_exit(ctx->ret, BACKEND_TRACEPOINT);
	udp_connect_end(ctx->ret);
	return 0;
}


SEC("tracepoint/syscalls/sys_enter_close")
int tp_sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct sock *sk = sk_from_fd(ctx->args[0]);
	/* a unix socket's end is found by the walk, as on the cgroup backend (close() of one of its
	 * descriptors need not end it) */
	if (sk && BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
		on_user_close(sk, BACKEND_TRACEPOINT);
	return 0;
}

/* sendto()/sendmsg() with an address: the destination of the datagram that sock_send_length
 * counts next in this thread (a UDP flow's peer; a unix datagram's receiver). */
static __always_inline void tp_send_to(__u32 fd, __u64 uaddr, __u32 len)
{
	if (!uaddr)
		return;
	struct sock *sk = sk_from_fd(fd);
	if (!sk)
		return;
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_UNIX)
		unix_send_to(uaddr, len, true);
	else if (is_udp(sk))
		stash_udp_peer_user(sk, (const void *)uaddr, true);
}

/* The head of a struct user_msghdr: where the address is, and its length. */
struct msg_name_head {
	__u64 name;
	int namelen;
};

static __always_inline struct msg_name_head read_msg_name(__u64 umsg)
{
	struct msg_name_head h = {};
	if (bpf_probe_read_user(&h, sizeof(h), (const void *)umsg))
		h.name = 0;
	return h;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tp_sys_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	tp_send_to(ctx->args[0], ctx->args[4], ctx->args[5]); /* fd, buf, len, flags, addr, addrlen */
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_sys_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct msg_name_head h = read_msg_name(ctx->args[1]);
	tp_send_to(ctx->args[0], h.name, h.namelen);
	return 0;
}

/* recvfrom()/recvmsg() asking for the source: a UDP datagram is counted at the exit, with the
 * source the kernel wrote back (udp_flow.bpf.h). */
SEC("tracepoint/syscalls/sys_enter_recvfrom")
int tp_sys_enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[4]) /* fd, buf, len, flags, addr, addrlen */
		udp_recv_begin(sk_from_fd(ctx->args[0]), ctx->args[4]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int tp_sys_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	udp_recv_end();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int tp_sys_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct msg_name_head h = read_msg_name(ctx->args[1]);
	if (h.name)
		udp_recv_begin(sk_from_fd(ctx->args[0]), h.name);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int tp_sys_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	udp_recv_end();
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int tp_sock_send_length_opt(struct trace_event_raw_sock_msg_length *ctx)
{
	struct sock *sk = (struct sock *)ctx->sk;
	if (is_inet(ctx->family)) {
		on_bytes(sk, ctx->ret, true, BACKEND_TRACEPOINT);
		if (ctx->protocol == IPPROTO_UDP)
			on_udp_datagram(sk, ctx->ret, true);
	} else if (ctx->family == AF_UNIX) {
		on_unix_bytes(sk, ctx->ret, true, BACKEND_TRACEPOINT);
	}
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int tp_sock_recv_length_opt(struct trace_event_raw_sock_msg_length *ctx)
{
	struct sock *sk = (struct sock *)ctx->sk;
	if (is_inet(ctx->family)) {
		on_bytes(sk, ctx->ret, false, BACKEND_TRACEPOINT);
		if (ctx->protocol == IPPROTO_UDP && !udp_recv_defer(sk, ctx->ret))
			on_udp_datagram(sk, ctx->ret, false);
	} else if (ctx->family == AF_UNIX) {
		on_unix_bytes(sk, ctx->ret, false, BACKEND_TRACEPOINT);
	}
	return 0;
}

/* ------------------------------------------------------------------ kprobe backend */

static __always_inline void stash(enum call c, __u64 ptr)
{
	__u64 key = pending_key(c);
	struct pending p = { .ptr = ptr };
	bpf_map_update_elem(&pendings, &key, &p, BPF_ANY);
}

static __always_inline __u64 unstash(enum call c)
{
	__u64 key = pending_key(c);
	struct pending *p = bpf_map_lookup_elem(&pendings, &key);
	__u64 ptr = p ? p->ptr : 0;
	if (p)
		bpf_map_delete_elem(&pendings, &key);
	return ptr;
}

SEC("kprobe/inet_create")
int BPF_KPROBE(kp_inet_create, struct net *net, struct socket *sock, int protocol, int kern)
{
	if (!kern)
		stash(CALL_SOCKET, (__u64)sock);
	return 0;
}

SEC("kretprobe/inet_create")
int BPF_KRETPROBE(kp_inet_create_ret, int ret)
{
	struct socket *sock = (struct socket *)unstash(CALL_SOCKET);
	if (sock && ret == 0)
		on_socket_created(sk_of_socket(sock), BACKEND_KPROBE);
	return 0;
}

SEC("kprobe/inet6_create")
int BPF_KPROBE(kp_inet6_create_opt, struct net *net, struct socket *sock, int protocol, int kern)
{
	if (!kern)
		stash(CALL_SOCKET, (__u64)sock);
	return 0;
}

SEC("kretprobe/inet6_create")
int BPF_KRETPROBE(kp_inet6_create_ret_opt, int ret)
{
	struct socket *sock = (struct socket *)unstash(CALL_SOCKET);
	if (sock && ret == 0)
		on_socket_created(sk_of_socket(sock), BACKEND_KPROBE);
	return 0;
}

SEC("kprobe/inet_bind")
int BPF_KPROBE(kp_inet_bind, struct socket *sock)
{
	stash(CALL_BIND, (__u64)sock);
	return 0;
}

SEC("kretprobe/inet_bind")
int BPF_KRETPROBE(kp_inet_bind_ret, int ret)
{
	struct socket *sock = (struct socket *)unstash(CALL_BIND);
	if (sock)
		on_bind_done(sk_of_socket(sock), ret, BACKEND_KPROBE);
	return 0;
}

SEC("kprobe/inet6_bind")
int BPF_KPROBE(kp_inet6_bind_opt, struct socket *sock)
{
	stash(CALL_BIND, (__u64)sock);
	return 0;
}

SEC("kretprobe/inet6_bind")
int BPF_KRETPROBE(kp_inet6_bind_ret_opt, int ret)
{
	struct socket *sock = (struct socket *)unstash(CALL_BIND);
	if (sock)
		on_bind_done(sk_of_socket(sock), ret, BACKEND_KPROBE);
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kp_tcp_v4_connect, struct sock *sk, struct sockaddr *uaddr)
{
	connect_enter(sk, uaddr, false);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(kp_tcp_v4_connect_ret, int ret)
{
	connect_exit(ret, BACKEND_KPROBE);
	return 0;
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kp_tcp_v6_connect_opt, struct sock *sk, struct sockaddr *uaddr)
{
	connect_enter(sk, uaddr, false);
	return 0;
}

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(kp_tcp_v6_connect_ret_opt, int ret)
{
	connect_exit(ret, BACKEND_KPROBE);
	return 0;
}

SEC("kprobe/inet_release")
int BPF_KPROBE(kp_inet_release, struct socket *sock)
{
	on_user_close(sk_of_socket(sock), BACKEND_KPROBE);
	return 0;
}

/* Sends are seen at entry only: a kretprobe on a call that can sleep (a blocking write) loses
 * calls beyond maxactive. TCP reads the kernel counters anyway; a UDP datagram is sent whole. */
SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(kp_tcp_sendmsg, struct sock *sk, struct msghdr *msg, size_t size)
{
	on_bytes(sk, size, true, BACKEND_KPROBE);
	return 0;
}

SEC("kprobe/udp_sendmsg")
int BPF_KPROBE(kp_udp_sendmsg, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_bytes(sk, len, true, BACKEND_KPROBE);
	return 0;
}

SEC("kprobe/udpv6_sendmsg")
int BPF_KPROBE(kp_udpv6_sendmsg_opt, struct sock *sk, struct msghdr *msg, size_t len)
{
	on_bytes(sk, len, true, BACKEND_KPROBE);
	return 0;
}

/* tcp_cleanup_rbuf(sk, copied) runs after every TCP read with the bytes handed to the reader. */
SEC("kprobe/tcp_cleanup_rbuf")
int BPF_KPROBE(kp_tcp_cleanup_rbuf, struct sock *sk, int copied)
{
	on_bytes(sk, copied, false, BACKEND_KPROBE);
	return 0;
}

/* skb_consume_udp(sk, skb, len): a datagram of len bytes was read (IPv4 and IPv6). */
SEC("kprobe/skb_consume_udp")
int BPF_KPROBE(kp_skb_consume_udp_opt, struct sock *sk, struct sk_buff *skb, int len)
{
	on_bytes(sk, len, false, BACKEND_KPROBE);
	return 0;
}

/* ------------------------------------------------------------------ cgroup backend */

/* The cgroup socket programs run in the context of the task acting on the socket (socket(), bind(),
 * close(), from any syscall or io_uring), and their context is the struct sock itself: the verifier
 * rewrites bpf_sock field loads into struct sock loads, so the context pointer is the socket's
 * address, as a tracepoint's skaddr is. Every program returns 1: socktop observes, never refuses. */
#define CG_SOCK(ctx) ((struct sock *)(ctx))

SEC("cgroup/sock_create")
int cg_sock_create(struct bpf_sock *ctx)
{
	on_socket_created(CG_SOCK(ctx), BACKEND_CGROUP);
	return 1;
}

/* post_bind runs only after a successful bind: a failed bind is not seen on this backend. */
SEC("cgroup/post_bind4")
int cg_post_bind4(struct bpf_sock *ctx)
{
	on_bind_done(CG_SOCK(ctx), 0, BACKEND_CGROUP);
	return 1;
}

SEC("cgroup/post_bind6")
int cg_post_bind6(struct bpf_sock *ctx)
{
	on_bind_done(CG_SOCK(ctx), 0, BACKEND_CGROUP);
	return 1;
}

/* connect() on this backend: cgroup/connect4/6 runs in the call, before the protocol's connect, and
 * nothing runs at its return. A connect that sends its SYN goes on through the state machine (which
 * drops this pending entry); one that fails in the call (no route, no local port) leaves the socket
 * in CLOSE, and is told when its thread next connects, or when the socket is released. Its errno
 * comes from the route lookup the call made (cg_fib_table_lookup_opt, IPv4); else it is not known
 * (error 0, reason "local"). */
static __always_inline void cg_connect_failed(struct pending *p)
{
	struct sock *sk = (struct sock *)p->ptr;
	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_CLOSE)
		return;
	struct socktop_event *e = reserve(SK_CONNECT, BACKEND_CGROUP);
	if (!e)
		return;
	fill_tuple(e, sk);
	set_owner_current(e);
	int err = p->route_err == EAGAIN ? ENETUNREACH : p->route_err; /* no table had a route */
	e->error = err;
	e->flags |= SKF_LOCAL_ERROR;
	e->reason = local_failure_reason(err);
	if (p->route_err_ns)
		e->duration_ns = p->route_err_ns - p->ts;
	else
		e->flags2 |= SKF2_START_UNKNOWN; /* when it failed is not known */
	apply_dest(e, p);
	submit(e);
}

/* The current thread's connect in flight, ended without a SYN: report it, forget it. `sk`: only
 * if it is this socket's (NULL: any). */
static __always_inline void cg_connect_settle(struct sock *sk)
{
	__u64 key = pending_key(CALL_CG_CONNECT);
	struct pending *p = bpf_map_lookup_elem(&pendings, &key);
	if (!p || (sk && p->ptr != (__u64)sk))
		return;
	cg_connect_failed(p);
	bpf_map_delete_elem(&pendings, &key);
}

static __always_inline void cg_connect_begin(struct bpf_sock_addr *ctx, bool v6)
{
	struct bpf_sock *bsk = ctx->sk;
	if (!bsk || ctx->protocol != IPPROTO_TCP)
		return;
	cg_connect_settle(NULL); /* this thread's previous connect, if it never sent a SYN */
	struct pending p = { .ptr = (__u64)bsk, .ts = bpf_ktime_get_ns() };
	p.dport = bpf_ntohs((__u16)ctx->user_port);
	if (v6) {
		p.dfamily = AF_INET6;
		__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };
		__builtin_memcpy(p.daddr, a, 16);
	} else {
		p.dfamily = AF_INET;
		__u32 a = ctx->user_ip4;
		__builtin_memcpy(p.daddr, &a, 4);
	}
	__u64 key = pending_key(CALL_CG_CONNECT);
	bpf_map_update_elem(&pendings, &key, &p, BPF_ANY);
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&connect_on_cpu, &zero);
	if (slot)
		*slot = bpf_get_current_pid_tgid();
}

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	cg_connect_begin(ctx, false);
	return 1;
}

SEC("cgroup/connect6")
int cg_connect6(struct bpf_sock_addr *ctx)
{
	cg_connect_begin(ctx, true);
	return 1;
}

/* Every IPv4 route lookup on the host: one per-CPU array read unless this thread is in a connect
 * the cgroup backend saw begin; then its result (the last one wins: a miss in one table followed by
 * a route in the next is a route). */
SEC("tp_btf/fib_table_lookup")
int BPF_PROG(cg_fib_table_lookup_opt, __u32 tb_id, const void *flp, const void *nhc, int err)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&connect_on_cpu, &zero);
	if (!slot || *slot != bpf_get_current_pid_tgid())
		return 0;
	__u64 key = pending_key(CALL_CG_CONNECT);
	struct pending *p = bpf_map_lookup_elem(&pendings, &key);
	if (!p) {
		*slot = 0; /* its connect is over */
		return 0;
	}
	p->route_err = err < 0 ? -err : 0;
	p->route_err_ns = bpf_ktime_get_ns();
	return 0;
}

/* inet_release, in the closer's context, before the protocol's close. */
SEC("cgroup/sock_release")
int cg_sock_release(struct bpf_sock *ctx)
{
	cg_connect_settle(CG_SOCK(ctx));
	on_user_close(CG_SOCK(ctx), BACKEND_CGROUP);
	return 1;
}

/* The tracepoints the cgroup backend shares with the others, as tp_btf programs: the kernel hands
 * them the tracepoint's raw arguments (no perf buffer filled with the event's fields first), they
 * need no tracefs, and they are skipped only if the same program is already running on that CPU
 * (a classic tracepoint program is skipped whenever any BPF tracing program is). Only the first
 * arguments, stable across kernels, are named. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(cg_inet_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP)
		on_state_change(NULL, sk, oldstate, newstate);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(cg_tcp_destroy_sock_opt, struct sock *sk)
{
	struct sock_info *info = lookup(sk);
	if (info) {
		emit_close(sk, info, SKF_BY_DESTROY, BACKEND_COMMON, 0, 0, by_lock_owner(sk));
		forget(sk);
	}
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(cg_tcp_retransmit_skb, struct sock *sk)
{
	on_retransmit(sk);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(cg_tcp_receive_reset_opt, struct sock *sk)
{
	on_receive_reset(sk);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(cg_tcp_send_reset_opt, struct sock *sk)
{
	on_send_reset(sk);
	return 0;
}

/* Only the first two arguments (ctx, req) are the same on every kernel since 5.19: the result is
 * read from the request. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(cg_io_uring_complete_opt, void *ring, struct io_kiocb *req)
{
	if (bpf_core_field_exists(req->cqe))
		on_uring_complete(req, BPF_CORE_READ(req, cqe.res));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(cg_sched_process_exit)
{
	/* A thread that exits with a connect that failed in the call still pending: told now (its
	 * descriptors, this socket's too, are closed after this tracepoint), not left in the map. */
	cg_connect_settle(NULL);
	on_process_exit();
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(cg_sock_send_length_opt, struct sock *sk, int ret)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (is_inet(family)) {
		on_bytes(sk, ret, true, BACKEND_CGROUP);
		on_udp_datagram(sk, ret, true);
	} else if (family == AF_UNIX)
		on_unix_bytes(sk, ret, true, BACKEND_CGROUP);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(cg_sock_recv_length_opt, struct sock *sk, int ret)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (is_inet(family)) {
		on_bytes(sk, ret, false, BACKEND_CGROUP);
		on_udp_datagram(sk, ret, false);
	} else if (family == AF_UNIX)
		on_unix_bytes(sk, ret, false, BACKEND_CGROUP);
	return 0;
}
