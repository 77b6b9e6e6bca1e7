/* SPDX-License-Identifier: GPL-2.0 */
/*
 * socktop.h: THE definition of the event record that flows
 *   BPF programs -> BPF ring buffer -> native reader -> SharedArrayBuffer ring -> UI / recordings.
 *
 * Included by bpf/socktop.bpf.c (with vmlinux.h already included) and by the C++ addon (with
 * <linux/types.h>). src/capture/layout.ts mirrors every offset below; test/unit/layout.test.ts checks
 * the mirror against the offsets the compiled addon reports (offsetof), so the two cannot drift.
 *
 * Rules: fixed size, little-endian, naturally aligned, no implicit padding. Recordings store these
 * bytes as they are, so changing the layout means bumping SOCKTOP_RECORD_VERSION. Reserved bytes
 * are written 0; a later use of one must give 0 the meaning "not known", so that files written
 * before it still read right under the same version.
 */
#ifndef SOCKTOP_H
#define SOCKTOP_H

#define SOCKTOP_RECORD_SIZE 160
/* 2: `backend` became a byte and `flags2` took its high byte (always 0 in version 1, whose backend
 * codes were below 256): a version 1 record reads the same as version 2 with no flags2 bits.
 * 3: 160 bytes: the first 128 as in version 2, then cgroup_id, netns and reserved bytes. Readers
 * widen a version 1/2 record (128 bytes) by appending 32 zero bytes: cgroup and netns "not known". */
#define SOCKTOP_RECORD_VERSION 3
/* The record size of versions 1 and 2. */
#define SOCKTOP_RECORD_SIZE_V2 128
#define SOCKTOP_COMM_LEN 16

/* Event kinds. Keep in step with EventKind in src/capture/layout.ts. */
enum socktop_kind {
	SK_NONE = 0,
	SK_SOCKET = 1,        /* socket() created an inet TCP/UDP socket                        */
	SK_BIND = 2,          /* bind(): laddr/lport as bound; error set on failure             */
	SK_LISTEN = 3,        /* a socket entered LISTEN (server starts)                        */
	SK_CONNECT_START = 4, /* active open: SYN sent                                          */
	SK_CONNECT = 5,       /* connect result: error 0 = ESTABLISHED, else errno; duration_ns  */
	SK_ACCEPT = 6,        /* accept() returned a connection, attributed to the acceptor     */
	SK_STATE = 7,         /* any TCP state change (old_state -> new_state)                  */
	SK_CLOSE = 8,         /* end of a socket: lifetime in duration_ns, totals in bytes_*   */
	SK_SEND = 9,          /* bytes_sent since the previous SEND/CLOSE of this socket        */
	SK_RECV = 10,         /* bytes_received since the previous RECV/CLOSE of this socket    */
	SK_RETRANSMIT = 11,   /* a TCP segment was retransmitted                                */
	SK_RESET = 12,        /* RST: flags SKF_RESET_SENT or received                          */
	SK_EXIT = 13,         /* a process (thread group) exited; count = exit code             */
	SK_DROPS = 14,        /* count events were lost at stage new_state (enum socktop_stage) */
	SK_QUEUE = 15,        /* a listener's accept queue changed (sampled about once a second):
			       * queue_len/queue_max, count = overflows since its previous QUEUE
			       * record (connections dropped because the queue was full),
			       * bytes_received = SYN queue length (requests not yet established) */
	/* 16: spare */
	SK_UNIX_PATH = 17,    /* a piece of a unix socket address: path_id names it, count is the
			       * byte offset of the piece, lport the address's whole length, and
			       * laddr+raddr (32 bytes) hold the bytes (see "Unix sockets" below)  */
	SK_UDP_FLOW = 18,     /* a UDP socket's traffic with one peer (raddr:rport; SKF2_PEER_UNKNOWN:
			       * not known) since first seen: bytes_sent/received, count = datagrams
			       * sent, path_id = datagrams received, ts_ns = last seen, duration_ns
			       * = last - first seen. Sent once a second while it moves (totals) */
	SK_SOCK_ERROR = 19,   /* an error the kernel reported to a UDP socket (ICMP: port
			       * unreachable -> error ECONNREFUSED), with its peer when connected
			       * (else SKF2_PEER_UNKNOWN); made in softirq: no tid              */
	SK_KIND_MAX = 20,
};

/* Where a DROPS marker's events were lost (stored in new_state of a DROPS record). */
enum socktop_stage {
	SK_STAGE_BPF_RING = 1,    /* bpf_ringbuf_output() failed: kernel -> reader ring full   */
	SK_STAGE_SHARED_RING = 2, /* SharedArrayBuffer ring full: reader -> UI                 */
	SK_STAGE_RECORDING = 3,   /* a recording write failed                                  */
	SK_STAGE_KERNEL_MISS = 4, /* the kernel skipped one of socktop's programs (another BPF
				   * program was running on that CPU): bpf_prog_info.recursion_misses */
	SK_STAGE_UDP_FLOWS = 5,   /* datagrams not counted in any UDP flow: the flow table was full */
};

/* Why a connect failed or a connection ended badly (the `reason` field); 0: none, or not known.
 * Keep in step with Reason in src/capture/layout.ts. */
enum socktop_reason {
	SK_REASON_NONE = 0,
	SK_REASON_REFUSED = 1,     /* CONNECT: the peer answered the SYN with an RST (ECONNREFUSED)    */
	SK_REASON_TIMEOUT = 2,     /* CONNECT: no answer: the kernel gave up after its SYN retries
				    * (ETIMEDOUT), or the program closed the socket after at least
				    * one SYN retransmit (its own connect timeout)                     */
	SK_REASON_UNREACHABLE = 3, /* CONNECT: ENETUNREACH/EHOSTUNREACH (no route, an unreachable
				    * route: SKF_LOCAL_ERROR; or an ICMP error from the path)           */
	SK_REASON_RESET = 4,       /* CLOSE: an established connection ended by an RST it received    */
	SK_REASON_ABORTED = 5,     /* CONNECT: closed by its own program during SYN_SENT before any
				    * SYN retransmit                                                  */
	SK_REASON_LOCAL = 6,       /* CONNECT: refused locally before any SYN (EADDRNOTAVAIL, EACCES,
				    * EPERM, ...)                                                     */
};

/* Which backend's program produced a record (the `backend` field). SNAPSHOT records are made in
 * user space from /proc at start. Keep in step with Backend in src/capture/layout.ts. */
enum socktop_backend {
	SK_BACKEND_COMMON = 0,     /* a program every backend loads (state machine, tcp:*, exit) */
	SK_BACKEND_KPROBE = 1,
	SK_BACKEND_TRACEPOINT = 2,
	SK_BACKEND_SNAPSHOT = 3,
	SK_BACKEND_CGROUP = 4,
};

/* Bits in flags. */
#define SKF_OWNER_UNKNOWN 0x01 /* fired in softirq for a socket whose owner is not known yet */
#define SKF_RESET_SENT 0x02    /* RESET: we sent the RST (else we received it)               */
#define SKF_SNAPSHOT 0x04      /* synthesized at start from sockets that already existed     */
#define SKF_BY_CLOSE 0x08      /* CLOSE: socket ended by close()/release, not a state change */
#define SKF_BY_DESTROY 0x10    /* CLOSE: caught at tcp_destroy_sock, no final CLOSE state    */
#define SKF_LOCAL_ERROR 0x20   /* CONNECT: failed in the syscall before any SYN was sent     */
#define SKF_FIRST_TOUCH 0x40   /* ACCEPT: seen when the acceptor first used the socket (cgroup
				* backend: no hook runs in accept() itself)                  */
#define SKF_NO_TASK 0x80       /* fired in interrupt context (softirq, hardirq): no process made
				* it, so tid is 0 and means nothing (JSON: "tid": null); pid,
				* uid and comm are still the socket's owner when its history
				* knows one (else 0 with SKF_OWNER_UNKNOWN)                  */

/* Bits in flags2 (the flags byte is full). */
#define SKF2_START_UNKNOWN 0x01 /* duration_ns is unknown, not 0: the start was not seen (CLOSE: a
				 * socket from before socktop started, or adopted mid-life;
				 * CONNECT: a SYN sent before) (JSON: null, TUI: "?")          */
/* 0x02, 0x04: taken by another change. */
#define SKF2_INFERRED 0x08      /* not seen as it happened: found by socktop's periodic walk of the
				 * kernel's unix sockets (iter/unix), e.g. a listener found at
				 * start, or a CLOSE of a socket missing from the walk (its time
				 * is exact only to the walk interval, 1 s)                    */

#define SKF2_PEER_UNKNOWN 0x10  /* UDP_FLOW: datagrams received with no address asked for, on an
				 * unconnected socket (recv(), read()); SOCK_ERROR: an unconnected
				 * socket's: the peer is not known                              */

/* Unix sockets (family AF_UNIX, 1). `proto` holds the socket type (1 stream, 2 dgram, 5 seqpacket:
 * never 6 or 17), ports and addresses are 0. The socket's address (its path, or an abstract name,
 * which starts with a NUL byte) is the one it is bound to, else its peer's (a client's record names
 * the server's path). Paths do not fit a record: path_id is a 32-bit hash of the address, and the
 * first record naming an address comes with SK_UNIX_PATH records (before or after it) that carry its
 * bytes, 32 per record; readers keep a table path_id -> address. Paths are untrusted bytes. */

struct socktop_event {
	__u64 ts_ns;          /*   0: bpf_ktime_get_ns(), CLOCK_MONOTONIC                     */
	__u64 sock;           /*   8: socket identity. BPF writes the struct sock address; the
			       *      reader replaces it with an opaque 53-bit keyed hash
			       *      before anything else sees it (no kernel address leaves it) */
	__u64 bytes_sent;     /*  16: SEND: delta; CLOSE: socket total                        */
	__u64 bytes_received; /*  24: RECV: delta; CLOSE: socket total                        */
	__u64 duration_ns;    /*  32: CONNECT: SYN to result; CLOSE: socket lifetime (0 and
			       *      SKF2_START_UNKNOWN when the start was not seen)          */
	__u32 pid;            /*  40: owner's process id (tgid); 0 when unknown               */
	__u32 tid;            /*  44: thread that made the call; 0 with SKF_NO_TASK           */
	__u32 uid;            /*  48: owner's uid                                             */
	__s32 error;          /*  52: 0 or a positive errno (ECONNREFUSED, ...)               */
	__u8 kind;            /*  56: enum socktop_kind                                       */
	__u8 family;          /*  57: AF_INET (2) or AF_INET6 (10)                            */
	__u8 proto;           /*  58: IPPROTO_TCP (6) or IPPROTO_UDP (17)                     */
	__u8 old_state;       /*  59: TCP state before (STATE)                                */
	__u8 new_state;       /*  60: TCP state after (STATE); stage (DROPS)                  */
	__u8 flags;           /*  61: SKF_* bits                                              */
	__u16 lport;          /*  62: local port, host byte order                             */
	__u16 rport;          /*  64: remote port, host byte order                            */
	__u8 backend;         /*  66: enum socktop_backend (which program produced it)        */
	__u8 flags2;          /*  67: SKF2_* bits                                             */
	__u32 count;          /*  68: DROPS: events lost; EXIT: exit code                     */
	__u8 laddr[16];       /*  72: local address (IPv4 in the first 4 bytes)               */
	__u8 raddr[16];       /*  88: remote address                                          */
	char comm[SOCKTOP_COMM_LEN]; /* 104: owner's command name                            */
	__u64 serial;         /* 120: socket serial: numbers sockets while socktop runs (struct
			       *      sock addresses are reused), 0 when not known         */
	/* version 3 */
	__u64 cgroup_id;      /* 128: cgroup v2 id (the cgroup directory's inode number) of the
			       *      socket's cgroup: where the process that created it ran
			       *      (sk_cgrp_data), so softirq events have it too; EXIT: the
			       *      exiting task's. 0 when not known (snapshots, version 1/2)  */
	__u32 netns;          /* 136: network namespace of the socket (inode number of its
			       *      /proc/PID/ns/net); EXIT: the task's. 0 when not known      */
	__u8 reason;          /* 140: enum socktop_reason (CONNECT failures, CLOSE after a reset);
			       *      0 = none / not known                                    */
	__u8 retries;         /* 141: CONNECT: SYN retransmits before the result (0 = none)   */
	__u16 reserved0;      /* 142: 0                                                     */
	__u32 queue_len;      /* 144: LISTEN/ACCEPT/QUEUE, STATE SYN_RECV->ESTABLISHED: the
			       *      listener's accept queue length (established connections
			       *      not yet accepted); 0 = empty or not known                */
	__u32 queue_max;      /* 148: ... and its limit (the listen() backlog); 0 = not known */
	__u32 peer_pid;       /* 152: AF_UNIX: the process at the other end (the owner of the
			       *      peer socket, else its SO_PEERCRED pid); 0 when not known  */
	__u32 path_id;        /* 156: AF_UNIX, UNIX_PATH: the address's id; 0: unbound.
			       *      UDP_FLOW: datagrams received (as count is per kind)     */
};

#endif /* SOCKTOP_H */
