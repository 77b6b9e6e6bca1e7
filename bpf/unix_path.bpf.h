/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unix_path.bpf.h: how a unix socket fills a record (family AF_UNIX): its type, its address as a
 * path_id (with the UNIX_PATH records that carry the address's bytes, sent once per address), and
 * the pid at the other end. Included by socktop.bpf.c before fill_tuple(), which calls
 * fill_unix() for AF_UNIX sockets. See "Unix sockets" in socktop.h.
 */
#ifndef SOCKTOP_UNIX_PATH_BPF_H
#define SOCKTOP_UNIX_PATH_BPF_H

#define AF_UNIX 1
#define UNIX_PATH_MAX 108
#define UNIX_PATH_PIECE 32 /* laddr + raddr */

#include "unix_seen.bpf.h"

static __always_inline bool is_unix(struct sock *sk)
{
	return sk && BPF_CORE_READ(sk, __sk_common.skc_family) == AF_UNIX;
}

/* Scratch room for one address (per CPU: 128 bytes is too much for the BPF stack next to a record). */
struct unix_path_buf {
	char bytes[128];
	/* The hashing (unix_path_hash_step), kept here rather than on the stack: to the verifier a
	 * map value's numbers are unknown, so it checks the loop's step once, not once for each
	 * length and kind of address it could tell apart. */
	__u32 len;  /* bytes read */
	__u32 path; /* a path, which ends at its first NUL (else an abstract name) */
	__u32 hash; /* FNV-1a of the bytes so far */
	__u32 n;    /* bytes hashed so far */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unix_path_buf);
} unix_path_scratch SEC(".maps");

/* The addresses whose UNIX_PATH records went out (LRU: an evicted one is simply sent again). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} unix_paths_sent SEC(".maps");

/* One piece (32 bytes from `at`) of an address: a UNIX_PATH record. */
static __always_inline void emit_path_piece(__u32 id, __u16 len, __u32 at, const char *piece)
{
	struct socktop_event *e = reserve_in(SK_UNIX_PATH, SK_BACKEND_COMMON, false);
	if (!e)
		return;
	e->family = AF_UNIX;
	e->path_id = id;
	e->count = at;
	e->lport = len;
	__builtin_memcpy(e->laddr, piece, UNIX_PATH_PIECE);
	submit(e);
}

#define UNIX_PATH_STEP 8 /* bytes per bpf_loop step: a step costs a call */

/* The next UNIX_PATH_STEP bytes of the address (bpf_loop step `step`; 1: the address ended). A
 * bpf_loop callback is checked once: the open-coded loop it replaces forked at each of its 108
 * steps (end of the bytes, a NUL, a path or not), about 7k verifier instructions in each of the 20
 * programs that name a unix address, and every length it could end at was a different constant for
 * the code after it (190k more each: loading took seconds). */
static long unix_path_hash_step(__u64 step, struct unix_path_buf **bufp)
{
	struct unix_path_buf *buf = *bufp;
	__u32 hash = buf->hash, n = buf->n;
	long ended = 0;
	for (int k = 0; k < UNIX_PATH_STEP; k++) {
		__u64 i = step * UNIX_PATH_STEP + k;
		if (i >= buf->len) {
			ended = 1;
			break;
		}
		__u8 b = buf->bytes[i & 127];
		if (buf->path && !b) {
			ended = 1;
			break;
		}
		hash ^= b;
		hash *= 16777619u;
		n++;
	}
	buf->hash = hash;
	buf->n = n;
	return ended;
}

/* The id of `len` address bytes at `src` (kernel memory, or user memory when `user`: the tracepoint
 * backend reads sendto()'s address where the syscall was given it; FNV-1a; 0: none), sending its bytes the
 * first time it is seen. A path (first byte not NUL) ends at its first NUL: the kernel's bound
 * length counts a terminating NUL, a sendto() address may or may not; an abstract name (first byte
 * NUL) has none, and every byte of it counts. A global function: the verifier checks it once, not
 * at each of its many inlined callers (the loop would blow the program's instruction budget). */
__noinline __u32 unix_path_id_of(__u64 src, int len_in, int user)
{
	__u32 zero = 0;
	if (len_in <= 0)
		return 0; /* autobind in progress, or unbound */
	__u32 len = len_in;
	if (len > UNIX_PATH_MAX)
		len = UNIX_PATH_MAX;
	struct unix_path_buf *buf = bpf_map_lookup_elem(&unix_path_scratch, &zero);
	if (!buf)
		return 0;
	__builtin_memset(buf->bytes, 0, sizeof(buf->bytes));
	asm volatile("%0 &= 127" : "+r"(len)); /* a bound the verifier sees (clang drops a plain one) */
	if (!len)
		return 0;
	if (user ? bpf_probe_read_user(buf->bytes, len, (const void *)src)
		 : bpf_probe_read_kernel(buf->bytes, len, (const void *)src))
		return 0;
	buf->len = len;
	buf->path = buf->bytes[0] != 0;
	buf->hash = 2166136261u;
	buf->n = 0;
	bpf_loop((UNIX_PATH_MAX + UNIX_PATH_STEP - 1) / UNIX_PATH_STEP, unix_path_hash_step, &buf, 0);
	__u32 hash = buf->hash;
	len = buf->n;
	if (!hash)
		hash = 1;
	if (bpf_map_lookup_elem(&unix_paths_sent, &hash))
		return hash;
	__u8 one = 1;
	bpf_map_update_elem(&unix_paths_sent, &hash, &one, BPF_ANY);
	emit_path_piece(hash, len, 0, buf->bytes);
	if (len > 32)
		emit_path_piece(hash, len, 32, buf->bytes + 32);
	if (len > 64)
		emit_path_piece(hash, len, 64, buf->bytes + 64);
	if (len > 96)
		emit_path_piece(hash, len, 96, buf->bytes + 96);
	return hash;
}

/* A bound socket's address id (0: none). */
static __always_inline __u32 unix_path_id(struct unix_address *addr)
{
	if (!addr)
		return 0;
	return unix_path_id_of((__u64)&addr->name[0].sun_path, BPF_CORE_READ(addr, len) - (int)sizeof(short), 0);
}

static __always_inline __u32 pid_nr(struct pid *p)
{
	return p ? BPF_CORE_READ(p, numbers[0].nr) : 0;
}

/* Who is at the other end: the owner socktop knows for the peer socket (the acceptor, for a
 * client), else the kernel's SO_PEERCRED pid (the server side: the client, exactly; the client
 * side: the process that called listen()). Datagram sockets have no SO_PEERCRED pid, listeners
 * no peer. */
static __always_inline __u32 unix_peer_pid(struct sock *sk, struct sock *peer)
{
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == 10 /* TCP_LISTEN */)
		return 0; /* a listener has no peer (its SO_PEERCRED pid is its own) */
	__u32 owner = peer ? unix_known_owner(peer) : 0;
	return owner ? owner : pid_nr(BPF_CORE_READ(sk, sk_peer_pid));
}

/* A unix socket's address id (its own, else its peer's) and peer pid, as path_id << 32 | peer_pid,
 * for its records (fill_unix). A global function, the socket as a number: fill_tuple() is inlined
 * at up to a dozen places in a program, and the verifier checked all of this at each of them. */
__noinline __u64 unix_path_and_peer(__u64 sk_addr)
{
	struct sock *sk = (struct sock *)sk_addr;
	struct unix_sock *u = (struct unix_sock *)sk;
	struct sock *peer = BPF_CORE_READ(u, peer);
	struct unix_address *addr = BPF_CORE_READ(u, addr);
	if (!addr && peer)
		addr = BPF_CORE_READ((struct unix_sock *)peer, addr);
	__u32 path_id = unix_path_id(addr);
	__u32 peer_pid = unix_peer_pid(sk, peer);
	if (path_id && peer_pid)
		return (__u64)path_id << 32 | peer_pid;
	/* an unconnected datagram sender: where it last sent to, and who has that address */
	__u64 key = sk_addr;
	struct unix_seen *seen = bpf_map_lookup_elem(&unix_seen_socks, &key);
	if (!seen || unix_seen_stale(seen, sk, sk_inode(sk), peer))
		return (__u64)path_id << 32 | peer_pid;
	if (!path_id)
		path_id = seen->dest_path_id;
	if (!peer_pid && BPF_CORE_READ(sk, __sk_common.skc_state) != UNIX_LISTEN)
		peer_pid = seen->peer_pid;
	return (__u64)path_id << 32 | peer_pid;
}

/* A unix socket's record fields: type in proto, its own address (else its peer's), peer pid. */
static __always_inline void fill_unix(struct socktop_event *e, struct sock *sk)
{
	e->sock = (__u64)sk;
	fill_place(e, sk);
	e->family = AF_UNIX;
	e->proto = (__u8)BPF_CORE_READ(sk, sk_type);
	/* read back from the record: a number to the verifier, as the global function wants (sk
	 * itself may be a pointer it refuses to pass; volatile: so that clang does not reuse sk) */
	__u64 ids = unix_path_and_peer(*(volatile __u64 *)&e->sock);
	e->path_id = ids >> 32;
	e->peer_pid = (__u32)ids;
}

#endif /* SOCKTOP_UNIX_PATH_BPF_H */
