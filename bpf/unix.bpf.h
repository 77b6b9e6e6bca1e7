/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unix.bpf.h: unix-domain sockets (stream, seqpacket, dgram), on the cgroup and tracepoint backends.
 * Included by socktop.bpf.c before the backends' programs (it uses the shared socket history:
 * socks, on_bytes, claim_accept).
 *
 * What this kernel lets us see (no kprobes, no fentry; see /work notes and README "Unix sockets"):
 *   bytes         tp_btf sock_send_length / sock_recv_length (AF_UNIX too): exact, per call; the
 *                 caller is the socket's owner (as for UDP)
 *   connect       cgroup/connect_unix (6.7+), or sys_enter_connect on the tracepoint backend
 *                 (unix_connect_begin), stashes the client socket; sk_data_ready on the
 *                 LISTEN socket, in the connecting thread, means it succeeded: a CONNECT record
 *                 naming the client (pid, the path) and the listener's pid (peer_pid)
 *   accept        no hook runs in unix accept(): the server-side socket is known at connect, and
 *                 claimed by its first user (ACCEPT with SKF_FIRST_TOUCH), as on TCP
 *   listen, bind,  no hook either: the reader walks the kernel's unix sockets every second
 *   close          (walk_unix_opt, iter/unix, in its own network namespace): a listener or a bound
 *                 datagram socket it finds is reported (LISTEN / BIND with SKF2_INFERRED), and a
 *                 socket socktop reported that the walk no longer finds gets its CLOSE then
 *                 (SKF2_INFERRED: its time is exact only to the walk's second)
 */
#ifndef SOCKTOP_UNIX_BPF_H
#define SOCKTOP_UNIX_BPF_H

/* connect() on a unix socket in flight, per thread: the client socket. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u64);
} unix_connecting SEC(".maps");

/* sendto()/sendmsg() with an address on a unix datagram socket, per thread: the address's id, for
 * the sock_send_length of the same call. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u32);
} unix_sending SEC(".maps");

/* The walk: its number (bumped as one starts) and whether one is under way. */
__u64 unix_walk_gen = 0;
__u32 unix_walk_open = 0;

static __always_inline __u32 sk_netns(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* A peer pid not known when the socket was registered (a datagram client that sent everything
 * before its server's first receive made the server's entry): its owner by now, if the entry at the
 * peer's address is still the peer's (same inode). Tried at the socket's end, and over every entry
 * before the walk's sweep, so that a pair that ended together still names each other. */
/* The owners of unix sockets socktop has seen end, by address and inode: a peer that ended first
 * still names its pid to the other end's late CLOSE. */
struct unix_gone_key {
	__u64 sk;
	__u64 ino;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct unix_gone_key);
	__type(value, __u32);
} unix_gone_owners SEC(".maps");

static __always_inline void remember_gone_owner(__u64 sk, struct unix_seen *seen, struct sock_info *info)
{
	if (!info || !info->pid || info->accept_pending || !seen->ino)
		return;
	struct unix_gone_key k = { .sk = sk, .ino = seen->ino };
	bpf_map_update_elem(&unix_gone_owners, &k, &info->pid, BPF_ANY);
}

static __always_inline void resolve_peer_pid(struct unix_seen *seen)
{
	if (!seen->peer_pid && !seen->peer && seen->dest_path_id)
		seen->peer_pid = unix_owner_of_path(seen->dest_path_id);
	if (seen->peer_pid || !seen->peer || !seen->peer_ino)
		return;
	__u64 peer_key = seen->peer;
	struct unix_seen *peer = bpf_map_lookup_elem(&unix_seen_socks, &peer_key);
	if (!peer || peer->ino != seen->peer_ino) {
		struct unix_gone_key k = { .sk = peer_key, .ino = seen->peer_ino };
		__u32 *gone = bpf_map_lookup_elem(&unix_gone_owners, &k);
		if (gone)
			seen->peer_pid = *gone;
		return;
	}
	struct sock_info *info = bpf_map_lookup_elem(&socks, &peer_key);
	if (info && info->pid && !info->accept_pending)
		seen->peer_pid = info->pid;
}

static long resolve_peer(struct bpf_map *map, __u64 *key, struct unix_seen *seen, void *ctx)
{
	resolve_peer_pid(seen);
	return 0;
}

/* The end of a unix socket socktop reported, found late (the walk no longer finds it, or its
 * address now holds another socket): its CLOSE from what socktop knew of it, and its entries go. */
static __always_inline void emit_unix_close_of(__u64 sock, struct unix_seen *seen, struct sock_info *info)
{
	resolve_peer_pid(seen);
	struct socktop_event *e = reserve_in(SK_CLOSE, SK_BACKEND_COMMON, false);
	if (e) {
		e->sock = sock;
		e->family = AF_UNIX;
		e->proto = seen->type;
		e->path_id = seen->path_id;
		e->peer_pid = seen->peer_pid;
		e->netns = seen->netns;
		e->cgroup_id = seen->cgroup_id;
		set_owner(e, info);
		if (!info)
			e->serial = seen->serial;
		if (!info && seen->pid) {
			e->pid = seen->pid; /* a listener the walk found: comm is filled by the reader */
			e->flags &= ~SKF_OWNER_UNKNOWN;
		}
		e->flags |= SKF_BY_CLOSE;
		e->flags2 |= SKF2_INFERRED;
		e->old_state = seen->listening ? UNIX_LISTEN : 0;
		e->new_state = TCP_CLOSE;
		if (info) {
			e->bytes_sent = info->sent;
			e->bytes_received = info->received;
		}
		if (info && info->start_ns)
			e->duration_ns = e->ts_ns - info->start_ns;
		else
			e->flags2 |= SKF2_START_UNKNOWN;
		submit(e);
	}
}

static __always_inline void emit_unix_close(__u64 *key, struct unix_seen *seen)
{
	struct sock_info *info = bpf_map_lookup_elem(&socks, key);
	remember_gone_owner(*key, seen, info);
	emit_unix_close_of(*key, seen, info);
	bpf_map_delete_elem(&socks, key);
	bpf_map_delete_elem(&unix_seen_socks, key);
}

/* A socket whose address another socket holds now: ended, but its CLOSE waits for the end of the
 * next walk (at most a second), so that the peer it names can still become known (a datagram
 * client gone before its server's first receive made the server's entry). Its entries move here. */
struct unix_dying {
	__u64 sock;
	struct unix_seen seen;
	struct sock_info info; /* its entry, or one made from what the walk knew (a listener) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct unix_dying);
} unix_dying_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unix_dying);
} unix_dying_scratch SEC(".maps");

__u64 unix_dying_seq = 0;

static __always_inline void retire_unix(__u64 *key, struct unix_seen *seen)
{
	__u32 zero = 0;
	struct unix_dying *d = bpf_map_lookup_elem(&unix_dying_scratch, &zero);
	if (!d) {
		emit_unix_close(key, seen);
		return;
	}
	struct sock_info *info = bpf_map_lookup_elem(&socks, key);
	remember_gone_owner(*key, seen, info);
	d->sock = *key;
	__builtin_memcpy(&d->seen, seen, sizeof(d->seen));
	/* Always an entry: the CLOSE is made from a pointer that is never NULL (a NULL-or-entry choice
	 * compiles to arithmetic that kernel 6.1's verifier refuses in a callback). */
	if (info) {
		__builtin_memcpy(&d->info, info, sizeof(d->info));
	} else {
		__builtin_memset(&d->info, 0, sizeof(d->info));
		d->info.serial = seen->serial;
		d->info.pid = seen->pid;
	}
	__u64 seq = __sync_fetch_and_add(&unix_dying_seq, 1);
	if (bpf_map_update_elem(&unix_dying_socks, &seq, d, BPF_NOEXIST)) {
		emit_unix_close(key, seen); /* no room to wait: now, with what is known */
		return;
	}
	bpf_map_delete_elem(&socks, key);
	bpf_map_delete_elem(&unix_seen_socks, key);
}

static long close_dying(struct bpf_map *map, __u64 *key, struct unix_dying *d, void *ctx)
{
	emit_unix_close_of(d->sock, &d->seen, &d->info);
	bpf_map_delete_elem(map, key);
	return 0;
}



/* A socket reported before that the walk did not find. */
static long sweep_one(struct bpf_map *map, __u64 *key, struct unix_seen *seen, __u32 *netns)
{
	if (seen->netns == *netns && seen->gen != unix_walk_gen)
		emit_unix_close(key, seen);
	return 0;
}

/* Remember a unix socket socktop reports (so that its end is found); its entry, new or found.
 * `fresh_socket`: sk was created just now (a server side at connect): any entry is an old one's. */
static __always_inline struct unix_seen *unix_register_as(struct sock *sk, bool fresh_socket)
{
	__u64 key = (__u64)sk;
	__u64 ino = sk_inode(sk);
	struct unix_sock *u = (struct unix_sock *)sk;
	struct sock *peer = BPF_CORE_READ(u, peer);
	struct unix_seen *seen = bpf_map_lookup_elem(&unix_seen_socks, &key);
	if (seen && (fresh_socket || unix_seen_stale(seen, sk, ino, peer))) {
		retire_unix(&key, seen); /* the socket that had this address is gone */
		seen = NULL;
	}
	if (seen) {
		if (!seen->ino)
			seen->ino = ino; /* an accepted socket gets its inode at accept() */
		return seen;
	}
	struct unix_address *addr = BPF_CORE_READ(u, addr);
	if (!addr && peer)
		addr = BPF_CORE_READ((struct unix_sock *)peer, addr);
	struct unix_seen fresh = {
		.gen = unix_walk_gen,
		.netns = sk_netns(sk),
		.path_id = unix_path_id(addr),
		.peer_pid = unix_peer_pid(sk, peer),
		.type = (__u8)BPF_CORE_READ(sk, sk_type),
		.cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id),
		.ino = ino,
		.peer = (__u64)peer,
		.peer_ino = peer ? sk_inode(peer) : 0,
		.serial = __sync_fetch_and_add(&next_serial, 1) + 1,
	};
	bpf_map_update_elem(&unix_seen_socks, &key, &fresh, BPF_NOEXIST);
	if (BPF_CORE_READ(u, addr) && fresh.path_id) /* its own address: it receives what is sent there */
		bpf_map_update_elem(&unix_bound, &fresh.path_id, &key, BPF_ANY);
	return bpf_map_lookup_elem(&unix_seen_socks, &key);
}

static __always_inline struct unix_seen *unix_register(struct sock *sk)
{
	return unix_register_as(sk, false);
}

/* Bytes moved on a unix socket (send/recv tracepoints, process context). */
static __always_inline void on_unix_bytes(struct sock *sk, long n, bool sending, __u16 backend)
{
	if (n <= 0)
		return;
	struct unix_seen *seen = unix_register(sk);
	__u64 tid = bpf_get_current_pid_tgid();
	__u32 *dest = sending ? bpf_map_lookup_elem(&unix_sending, &tid) : NULL;
	if (seen && dest) { /* sendto() an address: the destination, and whoever is bound there */
		seen->dest_path_id = *dest;
		if (!seen->path_id)
			seen->path_id = *dest;
		__u32 owner = unix_owner_of_path(*dest);
		if (owner)
			seen->peer_pid = owner;
	}
	if (dest)
		bpf_map_delete_elem(&unix_sending, &tid);
	/* the acceptor, once the accepted end was claimed: kept for the CLOSE */
	__u32 peer_pid = seen ? unix_peer_pid(sk, BPF_CORE_READ((struct unix_sock *)sk, peer)) : 0;
	if (seen && peer_pid)
		seen->peer_pid = peer_pid;
	on_bytes(sk, n, sending, backend);
}

/* A record for a socket the walk found (no process made it: no tid). pid: the listen() caller
 * for a listener (SO_PEERCRED of a LISTEN socket), else not known. */
static __always_inline void emit_found(__u8 kind, struct sock *sk, struct unix_seen *seen, __u32 pid)
{
	struct socktop_event *e = reserve_in(kind, SK_BACKEND_COMMON, false);
	if (!e)
		return;
	fill_unix(e, sk);
	e->peer_pid = 0;
	e->pid = pid;
	e->serial = seen ? seen->serial : 0;
	if (!pid)
		e->flags |= SKF_OWNER_UNKNOWN;
	e->flags2 |= SKF2_INFERRED | SKF2_START_UNKNOWN;
	if (kind == SK_LISTEN)
		e->new_state = UNIX_LISTEN;
	submit(e);
}

/* A listener's LISTEN record, once. */
static __always_inline void announce_listener(struct sock *sk, struct unix_seen *seen)
{
	if (!seen || seen->listening)
		return;
	seen->listening = 1;
	seen->pid = pid_nr(BPF_CORE_READ(sk, sk_peer_pid));
	emit_found(SK_LISTEN, sk, seen, seen->pid);
}

extern void *bpf_cast_to_kern_ctx(void *) __ksym __weak;

/* This thread is connecting the unix socket sk: sk_data_ready on the listener says it worked. */
static __always_inline void unix_connect_begin(__u64 sk)
{
	__u64 tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&unix_connecting, &tid, &sk, BPF_ANY);
}

/* sendto()/sendmsg() on a unix socket names the address at `uaddr` (len bytes, with the family):
 * the destination of the sock_send_length that follows in this thread. */
static __always_inline void unix_send_to(__u64 uaddr, __u32 len, bool user)
{
	if (!uaddr || len <= sizeof(short))
		return; /* no address: a connected socket, whose peer says where */
	__u32 id = unix_path_id_of(uaddr + sizeof(short), len - sizeof(short), user);
	__u64 tid = bpf_get_current_pid_tgid();
	if (id)
		bpf_map_update_elem(&unix_sending, &tid, &id, BPF_ANY);
}

SEC("cgroup/connect4") /* the loader makes it cgroup/connect_unix (libbpf 1.1 lacks the name) */
int cg_connect_unix_opt(struct bpf_sock_addr *ctx)
{
	struct bpf_sock_addr_kern *k = bpf_cast_to_kern_ctx(ctx);
	unix_connect_begin((__u64)k->sk);
	return 1;
}

SEC("cgroup/sendmsg4") /* the loader makes it cgroup/sendmsg_unix (6.7+) */
int cg_sendmsg_unix_opt(struct bpf_sock_addr *ctx)
{
	struct bpf_sock_addr_kern *k = bpf_cast_to_kern_ctx(ctx);
	/* read, not loaded: a plain number, as the global function wants it (a pointer is refused) */
	unix_send_to((__u64)BPF_CORE_READ(k, uaddr), k->uaddrlen, false);
	return 1;
}

/* The connect succeeded: unix_stream_connect queued the new server-side socket on the listener and
 * woke it, in the connecting thread, after linking the pair. */
static __always_inline void on_unix_connected(struct sock *listener)
{
	__u64 tid = bpf_get_current_pid_tgid();
	__u64 *stashed = bpf_map_lookup_elem(&unix_connecting, &tid);
	if (!stashed)
		return;
	struct sock *client = (struct sock *)*stashed;
	bpf_map_delete_elem(&unix_connecting, &tid);
	struct sock *server_side = BPF_CORE_READ((struct unix_sock *)client, peer);
	if (!server_side)
		return;
	__u64 now = bpf_ktime_get_ns();
	announce_listener(listener, unix_register(listener));
	/* registered first: an old socket at the same address gets its CLOSE before these start (the
	 * server side was created by this connect: whatever socktop knew at its address is gone) */
	unix_register_as(server_side, true);
	unix_register(client);
	/* the accepted end: claimed by its first user (touch() in on_bytes) */
	new_entry(server_side, now, false, false);
	struct sock_info *info = track(client, now, false);
	struct socktop_event *e = reserve(SK_CONNECT, BACKEND_COMMON);
	if (!e)
		return;
	fill_unix(e, client);
	set_owner(e, info);
	e->peer_pid = pid_nr(BPF_CORE_READ(listener, sk_peer_pid));
	e->new_state = TCP_ESTABLISHED;
	e->flags2 |= SKF2_START_UNKNOWN; /* no latency: the hooks see only its two ends */
	submit(e);
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(ct_sk_data_ready_opt, struct sock *sk)
{
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_UNIX &&
	    BPF_CORE_READ(sk, __sk_common.skc_state) == UNIX_LISTEN)
		on_unix_connected(sk);
	return 0;
}

/* ------------------------------------------------------------------ the walk (every backend) */

/* One socket of the walk: remember that it still exists (and what to say at its end); report a
 * listener or a bound datagram socket not seen before. */
static __always_inline void walk_one(struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct unix_seen *seen = bpf_map_lookup_elem(&unix_seen_socks, &key);
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (seen && unix_seen_stale(seen, sk, sk_inode(sk), BPF_CORE_READ((struct unix_sock *)sk, peer))) {
		retire_unix(&key, seen); /* the socket that had this address is gone */
		seen = NULL;
	}
	if (!seen) {
		bool bound = BPF_CORE_READ((struct unix_sock *)sk, addr) != NULL;
		bool dgram = BPF_CORE_READ(sk, sk_type) == 2;
		if (state == UNIX_LISTEN) {
			announce_listener(sk, unix_register(sk));
		} else if (bound && dgram) {
			emit_found(SK_BIND, sk, unix_register(sk), 0);
		}
		return;
	}
	seen->gen = unix_walk_gen;
	/* kept for its CLOSE: the socket's memory may be gone by then */
	struct unix_sock *u = (struct unix_sock *)sk;
	struct sock *peer = BPF_CORE_READ(u, peer);
	struct unix_address *addr = BPF_CORE_READ(u, addr);
	if (!addr && peer)
		addr = BPF_CORE_READ((struct unix_sock *)peer, addr);
	__u32 path_id = unix_path_id(addr);
	__u32 peer_pid = unix_peer_pid(sk, peer);
	if (path_id) /* else: an unconnected sender keeps the address it sent to */
		seen->path_id = path_id;
	if (peer_pid)
		seen->peer_pid = peer_pid;
	if (state == UNIX_LISTEN)
		announce_listener(sk, seen);
}

/* Run by the reader each second (it reads the iterator; never in a process's context). The last
 * call of a walk (no socket) ends it: what the walk did not find in this namespace is gone. */
SEC("iter/unix")
int walk_unix_opt(struct bpf_iter__unix *ctx)
{
	struct unix_sock *u = ctx->unix_sk;
	if (!unix_walk_open) {
		unix_walk_open = 1;
		__sync_fetch_and_add(&unix_walk_gen, 1);
	}
	if (u) {
		walk_one((struct sock *)u);
		return 0;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	bpf_for_each_map_elem(&unix_seen_socks, resolve_peer, NULL, 0);
	bpf_for_each_map_elem(&unix_dying_socks, close_dying, NULL, 0);
	bpf_for_each_map_elem(&unix_seen_socks, sweep_one, &netns, 0);
	unix_walk_open = 0;
	return 0;
}

#endif /* SOCKTOP_UNIX_BPF_H */
