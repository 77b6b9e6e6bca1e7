/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unix_seen.bpf.h: the unix sockets socktop has reported (unix_seen_socks), and how to tell one from
 * a later socket at the same kernel address. No hook runs when a unix socket is freed, and its
 * memory is reused at once: an entry keyed by the address may be a dead socket's until the walk
 * (unix.bpf.h) notices. Included by unix_path.bpf.h (after the socks map).
 */
#ifndef SOCKTOP_UNIX_SEEN_BPF_H
#define SOCKTOP_UNIX_SEEN_BPF_H

#define UNIX_LISTEN 10 /* TCP_LISTEN: unix sockets use the TCP state numbers */

/* The unix sockets socktop has reported, for the walk that finds their end. */
struct unix_seen {
	__u64 gen;      /* the last walk that found it (or the one running when it was first seen) */
	__u32 netns;    /* only a walk of this namespace can tell it is gone */
	__u32 path_id;
	__u32 peer_pid;
	__u8 type;
	__u8 listening; /* its LISTEN record went out */
	__u8 pad[2];
	__u64 cgroup_id;
	__u64 ino;      /* the socket's inode (0: none yet, a server side before accept())  */
	__u64 peer;     /* its peer when registered: with ino, tells this socket from a later
			 * one at the same address (see unix_seen_stale)                        */
	__u32 pid;      /* a listener's: the listen() caller, for its CLOSE (no sock_info)   */
	__u32 dest_path_id; /* an unconnected datagram sender: the address it last sent to
			     * (cgroup sendmsg_unix), its records' path when it has no other */
	__u64 serial;   /* the socket's number in records made without a sock_info (a
			 * listener, a bound datagram socket the walk found)                 */
	__u64 peer_ino; /* the peer's inode when registered: tells the peer's entry from a
			 * later socket's when the peer pid is resolved late (resolve_peer)   */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct unix_seen);
} unix_seen_socks SEC(".maps");

static __always_inline __u64 sk_inode(struct sock *sk)
{
	if (bpf_core_field_exists(sk->sk_ino))
		return BPF_CORE_READ(sk, sk_ino);
	return BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
}

/* Whether the entry at this socket's address belongs to an earlier socket: a freed socket's memory
 * is reused at once, long before the walk notices it is gone. The inode tells two sockets apart;
 * a server-side socket has none until accept(), but its peer (the client) never changes, and a
 * stream or seqpacket socket is registered only once it has its peer (or, a listener, never gets
 * one). Datagram sockets always have an inode (they come from socket()). */
static __always_inline bool unix_seen_stale(struct unix_seen *seen, struct sock *sk, __u64 ino,
					    struct sock *peer)
{
	if (seen->type != (__u8)BPF_CORE_READ(sk, sk_type))
		return true;
	if (seen->ino && ino)
		return seen->ino != ino;
	if (seen->type != SOCK_DGRAM)
		return seen->peer != (__u64)peer;
	return false;
}

/* The owner socktop knows for a unix socket, only if its entries are that socket's (not a dead
 * socket's at the same address); 0 otherwise. */
static __always_inline __u32 unix_known_owner(struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct unix_seen *seen = bpf_map_lookup_elem(&unix_seen_socks, &key);
	if (!seen || unix_seen_stale(seen, sk, sk_inode(sk), BPF_CORE_READ((struct unix_sock *)sk, peer)))
		return 0;
	struct sock_info *info = bpf_map_lookup_elem(&socks, &key);
	return info && !info->accept_pending ? info->pid : 0;
}

/* The bound sockets socktop registered, by address id: who receives what is sent to an address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} unix_bound SEC(".maps");

/* The owner of the socket bound to this address, if socktop knows it (and it still has it). */
static __always_inline __u32 unix_owner_of_path(__u32 path_id)
{
	if (!path_id)
		return 0;
	__u64 *bound = bpf_map_lookup_elem(&unix_bound, &path_id);
	if (!bound)
		return 0;
	__u64 key = *bound;
	struct unix_seen *seen = bpf_map_lookup_elem(&unix_seen_socks, &key);
	if (!seen || seen->path_id != path_id)
		return 0;
	return unix_known_owner((struct sock *)key);
}

#endif /* SOCKTOP_UNIX_SEEN_BPF_H */
