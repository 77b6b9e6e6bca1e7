/* SPDX-License-Identifier: GPL-2.0 */
/*
 * udp_flow.bpf.h: UDP as flows (cgroup and tracepoint backends). A flow is one socket's traffic with one peer:
 * datagrams and bytes each way, first and last seen, aggregated here in the kernel so that a
 * DNS-heavy host does not put a record per datagram in the ring. The reader's once-a-second run
 * of run_flush_bytes drains it (drain_udp_flows): one SK_UDP_FLOW record per flow that moved
 * datagrams since the previous drain, with its totals since it was first seen.
 *
 * The peer of each datagram:
 *   sendto()/sendmsg() with an address   cgroup/sendmsg4/6: the destination (user_ip4/6:port);
 *                                        tracepoint backend: the sockaddr the syscall was given
 *                                        (sys_enter_sendto/sendmsg); stashed per thread for the
 *                                        sock_send_length that follows
 *   recvfrom()/recvmsg() asking for one  cgroup/recvmsg4/6: the source, likewise for
 *                                        sock_recv_length; tracepoint backend: the sockaddr the
 *                                        kernel wrote back, read at the syscall's exit (the
 *                                        datagram is counted there, not at sock_recv_length,
 *                                        which runs before the address is copied out)
 *   a connected socket                   its skc_daddr:skc_dport
 *   recv() on an unconnected socket      not known: the flow "peer unknown" (SKF2_PEER_UNKNOWN,
 *   (and sendmmsg/recvmmsg on the        address and port 0), counted like any other
 *   tracepoint backend, whose syscall
 *   tracepoints are not read per message)
 * Included by socktop.bpf.c after on_bytes() (it uses the socket history: socks, serial, owner).
 */
#ifndef SOCKTOP_UDP_FLOW_BPF_H
#define SOCKTOP_UDP_FLOW_BPF_H

/* A flow is forgotten once drained and idle this long (its next datagram starts a new flow). */
#define UDP_FLOW_IDLE_NS (30ULL * 1000000000ULL)

struct udp_flow_key {
	__u64 serial;      /* the socket's serial (sock_info): unique, unlike its address */
	__u8 peer[16];     /* IPv4 in the first 4 bytes; all 0: not known */
	__u16 peer_port;   /* host byte order */
	__u8 family;
	__u8 pad[5];
};

struct udp_flow {
	__u64 sock;        /* the struct sock address, for the record's sock (made opaque by the reader) */
	__u64 first_ns;
	__u64 last_ns;
	__u64 bytes_sent;
	__u64 bytes_received;
	__u64 cgroup_id;
	__u32 sent;        /* datagrams */
	__u32 received;
	__u32 drained_sent;     /* datagram counts at the last drain: new traffic since? */
	__u32 drained_received;
	__u32 pid;
	__u32 uid;
	__u32 netns;
	__u16 lport;
	__u8 laddr[16];
	char comm[SOCKTOP_COMM_LEN];
};

/* Not LRU: a flow is never evicted before it is drained. When the table is full a datagram's
 * flow cannot be made: it is counted (udp_flows_lost) and the drain reports the count as a DROPS
 * record (stage SK_STAGE_UDP_FLOWS). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct udp_flow_key);
	__type(value, struct udp_flow);
} udp_flows SEC(".maps");

__u64 udp_flows_lost = 0;
__u64 udp_flows_lost_told = 0;

/* The peer a sendmsg/recvmsg hook saw, for the length tracepoint of the same call (same thread). */
struct udp_peer {
	__u64 sk;          /* the socket it was stashed for: a stash left by a call that failed
			    * before sending is not taken for another socket's datagram */
	__u8 addr[16];
	__u16 port;
	__u8 family;
	__u8 sending;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct udp_peer);
} udp_peers SEC(".maps");

/* v4 and v6 programs may read only their own family's address fields (the verifier refuses the
 * other's): the address is read by the caller, one of two inlined copies. */
static __always_inline void stash_udp_peer(struct bpf_sock_addr *ctx, bool v6, bool sending)
{
	if (ctx->protocol != IPPROTO_UDP)
		return;
	struct udp_peer p = { .sk = (__u64)ctx->sk, .sending = sending };
	p.port = bpf_ntohs((__u16)ctx->user_port);
	if (v6) {
		p.family = AF_INET6;
		__u32 ip6[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };
		__builtin_memcpy(p.addr, ip6, 16);
	} else {
		p.family = AF_INET;
		__u32 ip = ctx->user_ip4;
		__builtin_memcpy(p.addr, &ip, 4);
	}
	__u64 tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&udp_peers, &tid, &p, BPF_ANY);
}

SEC("cgroup/sendmsg4")
int cg_udp_sendmsg4(struct bpf_sock_addr *ctx)
{
	stash_udp_peer(ctx, false, true);
	return 1;
}

SEC("cgroup/sendmsg6")
int cg_udp_sendmsg6(struct bpf_sock_addr *ctx)
{
	stash_udp_peer(ctx, true, true);
	return 1;
}

SEC("cgroup/recvmsg4")
int cg_udp_recvmsg4(struct bpf_sock_addr *ctx)
{
	stash_udp_peer(ctx, false, false);
	return 1;
}

SEC("cgroup/recvmsg6")
int cg_udp_recvmsg6(struct bpf_sock_addr *ctx)
{
	stash_udp_peer(ctx, true, false);
	return 1;
}

/* connect() on a UDP socket (cgroup connect4/6: before the kernel sets the peer; UDP sends nothing
 * to connect, and fails only locally, e.g. no route, which this backend does not see): a CONNECT
 * record naming the peer asked for. The socket's address, as the context gives it, is its id.
 * A connect to AF_UNSPEC (dissolving the association) never reaches the hook. */
static __always_inline void on_udp_connect(struct bpf_sock_addr *ctx, bool v6)
{
	if (ctx->protocol != IPPROTO_UDP)
		return;
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return;
	__u64 key = (__u64)sk; /* socktop runs with CAP_PERFMON: the verifier lets an address be read */
	struct sock_info *info = bpf_map_lookup_elem(&socks, &key);
	struct socktop_event *e = reserve(SK_CONNECT, BACKEND_CGROUP);
	if (!e)
		return;
	e->sock = key;
	e->family = v6 ? AF_INET6 : AF_INET;
	e->proto = IPPROTO_UDP;
	e->lport = (__u16)sk->src_port;
	e->rport = bpf_ntohs((__u16)ctx->user_port);
	if (v6) {
		__u32 ip6[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };
		__builtin_memcpy(e->raddr, ip6, 16);
		__u32 src6[4] = { sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2], sk->src_ip6[3] };
		__builtin_memcpy(e->laddr, src6, 16);
	} else {
		__u32 ip = ctx->user_ip4;
		__builtin_memcpy(e->raddr, &ip, 4);
		__u32 src = sk->src_ip4;
		__builtin_memcpy(e->laddr, &src, 4);
	}
	set_owner_current(e);
	if (info)
		e->serial = info->serial;
	e->new_state = TCP_ESTABLISHED;
	e->flags2 |= SKF2_START_UNKNOWN; /* no latency: nothing goes on the wire */
	submit(e);
}

SEC("cgroup/connect4")
int cg_udp_connect4(struct bpf_sock_addr *ctx)
{
	on_udp_connect(ctx, false);
	return 1;
}

SEC("cgroup/connect6")
int cg_udp_connect6(struct bpf_sock_addr *ctx)
{
	on_udp_connect(ctx, true);
	return 1;
}

/* A socket error the kernel reported to a UDP socket (an ICMP error: port unreachable ->
 * ECONNREFUSED, ...), in softirq: a SOCK_ERROR record with the owner from the socket's history.
 * A connected socket names its peer; an unconnected one (IP_RECVERR) does not know it here. */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(ct_inet_sk_error_report_opt, struct sock *sk)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP)
		return 0;
	/* With IP_RECVERR the kernel reports twice: as it queues the ICMP on the error queue (sk_err
	 * still 0), then with sk_err set. The second says what happened: only it is told. */
	int err = BPF_CORE_READ(sk, sk_err);
	if (!err)
		return 0;
	struct socktop_event *e = reserve_in(SK_SOCK_ERROR, SK_BACKEND_COMMON, false);
	if (!e)
		return 0;
	fill_tuple(e, sk);
	set_owner(e, lookup(sk));
	e->error = err;
	if (!e->rport)
		e->flags2 |= SKF2_PEER_UNKNOWN;
	submit(e);
	return 0;
}

/* The peer of this datagram: the hook's (same thread, same direction), else a connected socket's. */
static __always_inline void udp_peer_of(struct sock *sk, bool sending, struct udp_flow_key *key)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct udp_peer *p = bpf_map_lookup_elem(&udp_peers, &tid);
	if (p && p->sending == sending && p->sk == (__u64)sk) {
		__builtin_memcpy(key->peer, p->addr, 16);
		key->peer_port = p->port;
		key->family = p->family;
		bpf_map_delete_elem(&udp_peers, &tid);
		return;
	}
	if (p)
		bpf_map_delete_elem(&udp_peers, &tid);
	key->family = (__u8)BPF_CORE_READ(sk, __sk_common.skc_family);
	key->peer_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (!key->peer_port)
		return; /* not connected: not known */
	if (key->family == AF_INET)
		bpf_core_read(key->peer, 4, &sk->__sk_common.skc_daddr);
	else
		bpf_core_read(key->peer, 16, &sk->__sk_common.skc_v6_daddr);
}

static __always_inline void new_udp_flow(struct sock *sk, struct udp_flow *f, __u64 now)
{
	f->sock = (__u64)sk;
	f->first_ns = now;
	f->cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
	f->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	f->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
		bpf_core_read(f->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
	else
		bpf_core_read(f->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
}

/* One datagram of n bytes on a UDP socket, in the context of the process that sent or received it. */
static __always_inline void on_udp_datagram(struct sock *sk, long n, bool sending)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP)
		return;
	struct udp_flow_key key = {};
	udp_peer_of(sk, sending, &key); /* consumes this call's stash, even when the call failed */
	if (n < 0)
		return;
	struct sock_info *info = lookup(sk);
	if (!info)
		return; /* on_bytes made the entry for any datagram with bytes; an empty one may have none */
	key.serial = info->serial;
	__u64 now = bpf_ktime_get_ns();
	struct udp_flow *f = bpf_map_lookup_elem(&udp_flows, &key);
	if (!f) {
		struct udp_flow fresh = {};
		new_udp_flow(sk, &fresh, now);
		bpf_map_update_elem(&udp_flows, &key, &fresh, BPF_NOEXIST); /* or another CPU's won */
		f = bpf_map_lookup_elem(&udp_flows, &key);
		if (!f) { /* the table is full */
			__sync_fetch_and_add(&udp_flows_lost, 1);
			return;
		}
	}
	f->last_ns = now;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (f->pid != pid) { /* the process that moves its datagrams owns the flow (the last one) */
		f->pid = pid;
		f->uid = (__u32)bpf_get_current_uid_gid();
		bpf_get_current_comm(f->comm, sizeof(f->comm));
	}
	if (!f->lport)
		f->lport = BPF_CORE_READ(sk, __sk_common.skc_num); /* an autobound sender: bound by now */
	if (sending) {
		__sync_fetch_and_add(&f->sent, 1);
		__sync_fetch_and_add(&f->bytes_sent, n);
	} else {
		__sync_fetch_and_add(&f->received, 1);
		__sync_fetch_and_add(&f->bytes_received, n);
	}
}

/* ------------------------------------------------------------------ tracepoint backend: syscall addresses */

/* A UDP datagram's peer from a sockaddr in user memory (sendto()/sendmsg()'s destination, or
 * recvfrom()/recvmsg()'s source once the kernel wrote it there), stashed as the cgroup hooks do. */
static __always_inline void stash_udp_peer_user(struct sock *sk, const void *uaddr, bool sending)
{
	struct pending d = {};
	read_dest(&d, uaddr, true);
	if (!d.dfamily)
		return;
	struct udp_peer p = { .sk = (__u64)sk, .port = d.dport, .family = (__u8)d.dfamily, .sending = sending };
	__builtin_memcpy(p.addr, d.daddr, 16);
	__u64 tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&udp_peers, &tid, &p, BPF_ANY);
}

/* recvfrom()/recvmsg() on a UDP socket asking for the source, per thread: where the kernel will
 * write it, and (set by sock_recv_length) the datagram that waits for the syscall's exit. */
struct udp_recv {
	__u64 uaddr;
	__u64 sk;
	__s64 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct udp_recv);
} udp_receiving SEC(".maps");

static __always_inline bool is_udp(struct sock *sk)
{
	return sk && is_inet(BPF_CORE_READ(sk, __sk_common.skc_family)) &&
	       BPF_CORE_READ(sk, sk_protocol) == IPPROTO_UDP;
}

/* Syscall entry: a UDP socket's receive that asks for the source address. */
static __always_inline void udp_recv_begin(struct sock *sk, __u64 uaddr)
{
	if (!uaddr || !is_udp(sk))
		return;
	struct udp_recv r = { .uaddr = uaddr };
	__u64 tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&udp_receiving, &tid, &r, BPF_ANY);
}

/* sock_recv_length on the tracepoint backend: true when this thread's receive asked for the
 * source, which is not written yet: the datagram is counted at the syscall's exit. */
static __always_inline bool udp_recv_defer(struct sock *sk, long n)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct udp_recv *r = bpf_map_lookup_elem(&udp_receiving, &tid);
	if (!r || r->sk)
		return false;
	r->sk = (__u64)sk;
	r->n = n;
	return true;
}

/* Syscall exit: the source is in user memory now; the datagram goes to its flow. */
static __always_inline void udp_recv_end(void)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct udp_recv *r = bpf_map_lookup_elem(&udp_receiving, &tid);
	if (!r)
		return;
	struct udp_recv got = *r;
	bpf_map_delete_elem(&udp_receiving, &tid);
	if (!got.sk)
		return; /* the call failed before receiving */
	struct sock *sk = (struct sock *)got.sk;
	if (got.n >= 0)
		stash_udp_peer_user(sk, (const void *)got.uaddr, false);
	on_udp_datagram(sk, got.n, false);
}

/* connect() on a UDP socket, tracepoint backend: told at the syscall's exit, with its result (a
 * local failure such as no route is seen here, unlike on the cgroup backend) and the socket's own
 * address (the call binds an unbound socket). */
static __always_inline void udp_connect_begin(struct sock *sk, const void *uaddr)
{
	__u64 key = pending_key(CALL_UDP_CONNECT);
	struct pending p = { .ptr = (__u64)sk, .ts = bpf_ktime_get_ns() };
	read_dest(&p, uaddr, true);
	if (p.dfamily) /* AF_UNSPEC dissolves the association: not a connect (nor on the cgroup backend) */
		bpf_map_update_elem(&pendings, &key, &p, BPF_ANY);
}

static __always_inline void udp_connect_end(long ret)
{
	__u64 key = pending_key(CALL_UDP_CONNECT);
	struct pending *p = bpf_map_lookup_elem(&pendings, &key);
	if (!p)
		return;
	struct sock *sk = (struct sock *)p->ptr;
	struct socktop_event *e = reserve(SK_CONNECT, BACKEND_TRACEPOINT);
	if (e) {
		fill_tuple(e, sk);
		set_owner_current(e);
		struct sock_info *info = lookup(sk);
		if (info)
			e->serial = info->serial;
		if (ret < 0) {
			e->error = -ret;
			e->flags |= SKF_LOCAL_ERROR;
			e->reason = local_failure_reason(-ret);
			apply_dest(e, p);
		} else {
			e->new_state = TCP_ESTABLISHED;
		}
		e->flags2 |= SKF2_START_UNKNOWN; /* no latency: nothing goes on the wire */
		submit(e);
	}
	bpf_map_delete_elem(&pendings, &key);
}

/* ------------------------------------------------------------------ the drain (run by the reader) */

static long drain_one(struct bpf_map *map, struct udp_flow_key *key, struct udp_flow *f, void *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	if (f->sent == f->drained_sent && f->received == f->drained_received) {
		if (now - f->last_ns > UDP_FLOW_IDLE_NS)
			bpf_map_delete_elem(map, key);
		return 0;
	}
	struct socktop_event *e = reserve_in(SK_UDP_FLOW, SK_BACKEND_COMMON, false);
	if (!e)
		return 0; /* counted as a ring drop; the flow is tried again at the next drain */
	f->drained_sent = f->sent;
	f->drained_received = f->received;
	e->ts_ns = f->last_ns;
	e->duration_ns = f->last_ns - f->first_ns;
	e->sock = f->sock;
	e->serial = key->serial;
	e->family = key->family;
	e->proto = IPPROTO_UDP;
	e->pid = f->pid;
	e->uid = f->uid;
	__builtin_memcpy(e->comm, f->comm, sizeof(e->comm));
	e->cgroup_id = f->cgroup_id;
	e->netns = f->netns;
	e->lport = f->lport;
	__builtin_memcpy(e->laddr, f->laddr, 16);
	e->rport = key->peer_port;
	__builtin_memcpy(e->raddr, key->peer, 16);
	if (!key->peer_port)
		e->flags2 |= SKF2_PEER_UNKNOWN;
	e->bytes_sent = f->bytes_sent;
	e->bytes_received = f->bytes_received;
	e->count = f->sent;
	e->path_id = f->received; /* UDP_FLOW: datagrams received (socktop.h) */
	submit(e);
	return 0;
}

/* Every flow with new datagrams, then the count of datagrams whose flow could not be made. */
static __always_inline void drain_udp_flows(void)
{
	bpf_for_each_map_elem(&udp_flows, drain_one, NULL, 0);
	__u64 lost = udp_flows_lost;
	if (lost == udp_flows_lost_told)
		return;
	struct socktop_event *e = reserve_in(SK_DROPS, BACKEND_COMMON, false);
	if (!e)
		return;
	e->new_state = SK_STAGE_UDP_FLOWS;
	e->count = (__u32)(lost - udp_flows_lost_told);
	udp_flows_lost_told = lost;
	submit(e);
}

#endif /* SOCKTOP_UDP_FLOW_BPF_H */
