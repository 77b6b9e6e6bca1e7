/*
 * loadgen.c: socktop's loopback connection-storm generator, the ground truth for capture
 * benchmarks.
 *
 * A parent process binds a listener on 127.0.0.1:PORT and reserves a closed port on 127.0.0.1
 * (a socket bound but never listening, so SYNs to it are answered with RST while loadgen runs),
 * then forks
 *   lg-server: accepts (epoll), reads M bytes, writes M bytes back, closes;
 *   lg-client: opens connections from 127.0.0.2 .. 127.0.0.(K+1) (bind to port 0 before connect,
 *              with IP_BIND_ADDRESS_NO_PORT so the ephemeral port is picked per 4-tuple), sends
 *              M bytes, reads M bytes and the server's FIN, closes; every Nth attempt goes to the
 *              closed port and must be refused.
 * Both use nonblocking sockets and epoll, optionally in --threads pthreads each. The client stops
 * starting connections after --duration seconds, gives those in flight --grace seconds, and exits;
 * the parent then stops the server and prints ONE JSON line of counters on stdout.
 *
 * Close order is deterministic: the server closes first (its side ends in TIME_WAIT), the client
 * closes after reading the server's FIN (CLOSE_WAIT -> LAST_ACK -> CLOSE). No SO_LINGER.
 *
 * Build: gcc -O2 -Wall -o bench/loadgen bench/loadgen.c -lpthread   (bench/build-loadgen.sh)
 * Run:   bench/loadgen --rate 10000 --duration 3
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_THREADS 64
#define IO_BUF 65536
#define NERRNO 160

/* ------------------------------------------------------------------------------------ options */

static struct {
	double rate;        /* connection attempts per second, 0 = as fast as possible */
	double duration;    /* seconds of starting connections */
	double grace;       /* seconds for connections in flight after that */
	uint64_t bytes;     /* M: bytes each way per connection */
	int concurrency;    /* connections in flight at most (client, all threads) */
	int port;           /* server port, 0 = pick a free one */
	int refused_port;   /* closed port, 0 = reserve one */
	int sources;        /* K source addresses 127.0.0.2 .. 127.0.0.(K+1) */
	int refused_every;  /* every Nth attempt goes to the closed port, 0 = never */
	int threads;
	int server_only;
	int client_only;
	int backlog;
	int nodelay;
	int verbose;
} opt = {
	.rate = 0, .duration = 5, .grace = 2, .bytes = 64, .concurrency = 64, .port = 0,
	.refused_port = 0, .sources = 8, .refused_every = 0, .threads = 1, .backlog = 4096,
	.nodelay = -1,
};

/* ----------------------------------------------------------------------------------- counters */

struct counters {
	/* client */
	uint64_t attempts;          /* connect() calls started */
	uint64_t refused_attempts;  /* of which to the closed port */
	uint64_t connects_ok;       /* handshakes completed to the server */
	uint64_t connects_refused;  /* ECONNREFUSED from the closed port */
	uint64_t connects_failed_other;
	uint64_t exchanges_ok;      /* M bytes out, M bytes back, EOF, closed */
	uint64_t exchanges_failed;  /* connected, then an error or a short exchange */
	uint64_t aborted_at_end;    /* still in flight when the grace period ran out */
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint64_t errnos[NERRNO];    /* connects_failed_other and exchanges_failed by errno */
	/* server */
	uint64_t accepts;
	uint64_t accept_errors;
	uint64_t srv_completed;     /* read M, wrote M, closed */
	uint64_t srv_failed;        /* closed early (peer reset, EOF before M bytes, ...) */
	uint64_t srv_bytes_sent;
	uint64_t srv_bytes_received;
	uint64_t srv_open_at_stop;
} __attribute__((aligned(64)));

/* Shared with the children (MAP_SHARED | MAP_ANONYMOUS): each child fills its part, then exits. */
struct shared {
	struct counters client;
	struct counters server;
	double client_seconds;      /* first attempt .. last connection done */
	double server_seconds;
	int client_ran;
	int server_ran;
};

static struct shared *shm;
static volatile sig_atomic_t stop_flag;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void count_errno(struct counters *c, int e)
{
	c->errnos[e > 0 && e < NERRNO ? e : 0]++;
}

static void add_counters(struct counters *dst, const struct counters *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;
	for (size_t i = 0; i < sizeof(*src) / sizeof(uint64_t); i++) d[i] += s[i];
}

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int epoll_wait_s(int ep, struct epoll_event *ev, int n, double timeout_s)
{
	if (timeout_s < 0) timeout_s = 0;
	if (timeout_s > 0.1) timeout_s = 0.1; /* check stop_flag at least every 100 ms */
	struct timespec ts = { .tv_sec = (time_t)timeout_s,
			       .tv_nsec = (long)((timeout_s - (time_t)timeout_s) * 1e9) };
	static int no_pwait2;
	if (!no_pwait2) {
		int r = epoll_pwait2(ep, ev, n, &ts, NULL);
		if (r >= 0 || errno != ENOSYS) return r;
		no_pwait2 = 1;
	}
	int ms = (int)(timeout_s * 1000);
	if (ms == 0 && timeout_s > 0) ms = 1;
	return epoll_wait(ep, ev, n, ms);
}

static char out_buf[IO_BUF];

/* --------------------------------------------------------------------------------------- server */

enum { S_FREE, S_READING, S_WRITING };

struct sconn {
	uint32_t gen;
	uint8_t state;
	uint64_t got, put;
};

struct server_thread {
	pthread_t tid;
	int lfd;
	int idx;
	double deadline;
	struct counters c;
};

static int max_fds;

static void srv_close(struct server_thread *t, struct sconn *sc, int fd, int ok)
{
	(void)t;
	sc->state = S_FREE;
	sc->gen++;
	close(fd);
	if (ok) t->c.srv_completed++;
	else t->c.srv_failed++;
}

/* Advance one server connection as far as it goes without blocking. Returns 1 if still open. */
static int srv_step(struct server_thread *t, struct sconn *sc, int fd, char *rbuf)
{
	while (sc->state == S_READING) {
		if (sc->got >= opt.bytes) {
			sc->state = S_WRITING;
			break;
		}
		uint64_t want = opt.bytes - sc->got;
		ssize_t n = recv(fd, rbuf, want < IO_BUF ? want : IO_BUF, 0);
		if (n > 0) {
			sc->got += n;
			t->c.srv_bytes_received += n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			srv_close(t, sc, fd, 0); /* EOF before M bytes, or an error */
			return 0;
		}
	}
	while (sc->state == S_WRITING) {
		if (sc->put >= opt.bytes) {
			srv_close(t, sc, fd, 1);
			return 0;
		}
		uint64_t want = opt.bytes - sc->put;
		ssize_t n = send(fd, out_buf, want < IO_BUF ? want : IO_BUF, MSG_NOSIGNAL);
		if (n > 0) {
			sc->put += n;
			t->c.srv_bytes_sent += n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			srv_close(t, sc, fd, 0);
			return 0;
		}
	}
	return 1;
}

static void *server_main(void *arg)
{
	struct server_thread *t = arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) die("epoll_create1");
	struct sconn *conns = calloc(max_fds, sizeof(*conns));
	char *rbuf = malloc(IO_BUF);
	if (!conns || !rbuf) die("malloc");
	struct epoll_event lev = { .events = EPOLLIN | (opt.threads > 1 ? EPOLLEXCLUSIVE : 0),
				   .data.u64 = UINT64_MAX };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, t->lfd, &lev) < 0) die("epoll_ctl listener");
	struct epoll_event evs[256];
	int draining = 0;

	for (;;) {
		if (!draining && (stop_flag || now_s() >= t->deadline)) draining = 1;
		/* Accept what is queued; when stopping, take the backlog once more, then quit. */
		int n = draining ? 0 : epoll_wait_s(ep, evs, 256, t->deadline - now_s());
		if (n < 0 && errno != EINTR) die("epoll_wait");
		for (int i = 0; i < (draining ? 1 : n); i++) {
			uint64_t d = draining ? UINT64_MAX : evs[i].data.u64;
			if (d == UINT64_MAX) {
				for (;;) {
					int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0) {
						if (errno == EINTR) continue;
						if (errno != EAGAIN && errno != EWOULDBLOCK) {
							t->c.accept_errors++;
							count_errno(&t->c, errno);
						}
						break;
					}
					t->c.accepts++;
					if (fd >= max_fds) {
						close(fd);
						t->c.srv_failed++;
						continue;
					}
					struct sconn *sc = &conns[fd];
					sc->state = S_READING;
					sc->got = sc->put = 0;
					if (draining) {
						srv_close(t, sc, fd, 0);
						t->c.srv_open_at_stop++;
						continue;
					}
					if (opt.nodelay) {
						int one = 1;
						setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					}
					/* The request is usually there already: serve it without epoll. */
					if (!srv_step(t, sc, fd, rbuf)) continue;
					struct epoll_event ev = {
						.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
						.data.u64 = ((uint64_t)sc->gen << 32) | (uint32_t)fd,
					};
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl conn");
				}
				continue;
			}
			int fd = (int)(uint32_t)d;
			struct sconn *sc = &conns[fd];
			if (sc->state == S_FREE || sc->gen != (uint32_t)(d >> 32)) continue;
			srv_step(t, sc, fd, rbuf);
		}
		if (draining) break;
	}
	for (int fd = 0; fd < max_fds; fd++) {
		if (conns[fd].state != S_FREE) {
			t->c.srv_open_at_stop++;
			srv_close(t, &conns[fd], fd, 0);
		}
	}
	close(ep);
	free(conns);
	free(rbuf);
	return NULL;
}

static void run_server(int lfd, double deadline)
{
	struct server_thread th[MAX_THREADS];
	double t0 = now_s();
	memset(th, 0, sizeof(th));
	for (int i = 0; i < opt.threads; i++) {
		th[i].lfd = lfd;
		th[i].idx = i;
		th[i].deadline = deadline;
		if (opt.threads == 1) server_main(&th[i]);
		else if (pthread_create(&th[i].tid, NULL, server_main, &th[i]) != 0) die("pthread_create");
	}
	for (int i = 0; i < opt.threads; i++) {
		if (opt.threads > 1) pthread_join(th[i].tid, NULL);
		add_counters(&shm->server, &th[i].c);
	}
	shm->server_seconds = now_s() - t0;
	shm->server_ran = 1;
}

/* --------------------------------------------------------------------------------------- client */

enum { C_FREE, C_CONNECTING, C_SENDING, C_RECEIVING };

struct cconn {
	int fd;
	uint32_t gen;
	uint8_t state;
	uint8_t to_refused;
	uint64_t sent, got;
};

struct client_thread {
	pthread_t tid;
	int idx;
	int slots;
	double rate;
	double start, stop_at;
	double last_done;
	struct counters c;
};

static struct sockaddr_in srv_addr, refused_addr;

/* Connection outcome of a connect to the closed port or the server, by errno (0 = connected). */
static void cli_connect_result(struct client_thread *t, struct cconn *cc, int err)
{
	if (err == 0) {
		if (cc->to_refused) {
			t->c.connects_failed_other++; /* the closed port accepted?! */
			count_errno(&t->c, 0);
		} else {
			t->c.connects_ok++;
		}
	} else if (err == ECONNREFUSED && cc->to_refused) {
		t->c.connects_refused++;
	} else {
		t->c.connects_failed_other++;
		count_errno(&t->c, err);
	}
}

/*
 * Advance one client connection. Returns 0 when it is finished (caller closes it), 1 if it waits.
 */
static int cli_step(struct client_thread *t, struct cconn *cc, char *rbuf)
{
	if (cc->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(cc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
		if (err == EINPROGRESS || err == EALREADY) return 1;
		cli_connect_result(t, cc, err);
		if (err != 0 || cc->to_refused) return 0;
		cc->state = C_SENDING;
	}
	while (cc->state == C_SENDING) {
		if (cc->sent >= opt.bytes) {
			cc->state = C_RECEIVING;
			break;
		}
		uint64_t want = opt.bytes - cc->sent;
		ssize_t n = send(cc->fd, out_buf, want < IO_BUF ? want : IO_BUF, MSG_NOSIGNAL);
		if (n > 0) {
			cc->sent += n;
			t->c.bytes_sent += n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			t->c.exchanges_failed++;
			count_errno(&t->c, errno);
			return 0;
		}
	}
	while (cc->state == C_RECEIVING) {
		ssize_t n = recv(cc->fd, rbuf, IO_BUF, 0);
		if (n > 0) {
			cc->got += n;
			t->c.bytes_received += n;
		} else if (n == 0) {
			/* The server's FIN: the exchange is over. */
			if (cc->got == opt.bytes) {
				t->c.exchanges_ok++;
			} else {
				t->c.exchanges_failed++;
				count_errno(&t->c, EPROTO);
			}
			return 0;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 1;
		} else if (errno == EINTR) {
			continue;
		} else {
			t->c.exchanges_failed++;
			count_errno(&t->c, errno);
			return 0;
		}
	}
	return 1;
}

static void *client_main(void *arg)
{
	struct client_thread *t = arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) die("epoll_create1");
	struct cconn *conns = calloc(t->slots, sizeof(*conns));
	int *free_stack = malloc(sizeof(int) * t->slots);
	char *rbuf = malloc(IO_BUF);
	if (!conns || !free_stack || !rbuf) die("malloc");
	int nfree = 0;
	for (int i = t->slots - 1; i >= 0; i--) {
		conns[i].fd = -1;
		free_stack[nfree++] = i;
	}
	int inflight = 0;
	uint64_t started = 0;
	uint64_t src_i = t->idx;
	struct epoll_event evs[256];
	int stopping = 0;
	double drain_until = 0;
	const int one = 1;

#define FINISH(cc) do {                                   \
		close((cc)->fd);                          \
		(cc)->fd = -1;                            \
		(cc)->state = C_FREE;                     \
		(cc)->gen++;                              \
		inflight--;                               \
		free_stack[nfree++] = (int)((cc) - conns); \
		t->last_done = now_s();                   \
	} while (0)

	for (;;) {
		double now = now_s();
		if (!stopping && (now >= t->stop_at || stop_flag)) {
			stopping = 1;
			drain_until = now + opt.grace;
		}
		/* Start what the rate allows (the first attempt at once), within the concurrency. */
		double next_due = now + 0.1;
		while (!stopping && nfree > 0) {
			if (t->rate > 0) {
				double due = t->start + started / t->rate;
				if (due > now) {
					next_due = due;
					break;
				}
			}
			uint64_t attempt = started++;
			struct cconn *cc = &conns[free_stack[--nfree]];
			inflight++;
			cc->to_refused = opt.refused_every > 0 &&
					 (attempt % opt.refused_every) == (uint64_t)opt.refused_every - 1;
			cc->sent = cc->got = 0;
			cc->state = C_CONNECTING;
			t->c.attempts++;
			if (cc->to_refused) t->c.refused_attempts++;
			cc->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (cc->fd < 0) {
				t->c.connects_failed_other++;
				count_errno(&t->c, errno);
				inflight--;
				cc->state = C_FREE;
				free_stack[nfree++] = (int)(cc - conns);
				continue;
			}
			setsockopt(cc->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
			if (opt.nodelay) setsockopt(cc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = 0 };
			src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(src_i++ % (uint64_t)opt.sources));
			if (bind(cc->fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
				t->c.connects_failed_other++;
				count_errno(&t->c, errno);
				FINISH(cc);
				continue;
			}
			const struct sockaddr_in *dst = cc->to_refused ? &refused_addr : &srv_addr;
			int r = connect(cc->fd, (const struct sockaddr *)dst, sizeof(*dst));
			if (r < 0 && errno != EINPROGRESS) {
				cli_connect_result(t, cc, errno);
				FINISH(cc);
				continue;
			}
			struct epoll_event ev = {
				.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
				.data.u64 = ((uint64_t)cc->gen << 32) | (uint32_t)(cc - conns),
			};
			if (epoll_ctl(ep, EPOLL_CTL_ADD, cc->fd, &ev) < 0) die("epoll_ctl client");
			if (r == 0 && !cli_step(t, cc, rbuf)) FINISH(cc);
		}
		if (stopping && inflight == 0) break;
		if (stopping && now >= drain_until) {
			for (int i = 0; i < t->slots; i++) {
				if (conns[i].state != C_FREE) {
					t->c.aborted_at_end++;
					FINISH(&conns[i]);
				}
			}
			break;
		}
		double wait;
		if (stopping) wait = drain_until - now;
		else if (nfree == 0 || t->rate <= 0) wait = t->stop_at - now;
		else wait = next_due - now;
		int n = epoll_wait_s(ep, evs, 256, wait);
		if (n < 0 && errno != EINTR) die("epoll_wait");
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			struct cconn *cc = &conns[(uint32_t)d];
			if (cc->state == C_FREE || cc->gen != (uint32_t)(d >> 32)) continue;
			if (!cli_step(t, cc, rbuf)) FINISH(cc);
		}
	}
#undef FINISH
	close(ep);
	free(conns);
	free(free_stack);
	free(rbuf);
	return NULL;
}

static void run_client(void)
{
	struct client_thread th[MAX_THREADS];
	memset(th, 0, sizeof(th));
	double start = now_s();
	for (int i = 0; i < opt.threads; i++) {
		th[i].idx = i;
		th[i].slots = opt.concurrency / opt.threads + (i < opt.concurrency % opt.threads);
		if (th[i].slots < 1) th[i].slots = 1;
		th[i].rate = opt.rate / opt.threads;
		th[i].start = start;
		th[i].stop_at = start + opt.duration;
		th[i].last_done = start;
		if (opt.threads == 1) client_main(&th[i]);
		else if (pthread_create(&th[i].tid, NULL, client_main, &th[i]) != 0) die("pthread_create");
	}
	double last = start;
	for (int i = 0; i < opt.threads; i++) {
		if (opt.threads > 1) pthread_join(th[i].tid, NULL);
		add_counters(&shm->client, &th[i].c);
		if (th[i].last_done > last) last = th[i].last_done;
	}
	/* The measured span: from the first attempt to the end of starting, or to the last
	 * connection finished if that came later (never the idle tail of the grace period). */
	double end = start + opt.duration;
	if (last > end) end = last;
	double real_end = now_s();
	if (end > real_end) end = real_end; /* stopped early by a signal */
	shm->client_seconds = end - start;
	shm->client_ran = 1;
}

/* ---------------------------------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loadgen [options]\n"
		"  --rate R           connection attempts per second (0 = as fast as possible) [0]\n"
		"  --duration S       seconds of starting connections; then --grace, then exit [5]\n"
		"  --grace S          seconds for connections in flight at the end [2]\n"
		"  --bytes M          bytes each way per connection [64]\n"
		"  --concurrency C    connections in flight at most [64]\n"
		"  --port P           server port on 127.0.0.1 (0 = a free one) [0]\n"
		"  --sources K        client source addresses 127.0.0.2 .. 127.0.0.(K+1) [8]\n"
		"  --refused-every N  every Nth attempt goes to a closed port and must be refused [0 = off]\n"
		"  --refused-port P   the closed port (default: reserve one, bound but not listening)\n"
		"  --threads N        threads in the server and in the client [1]\n"
		"  --server-only      just the server, for --duration seconds (prints its port on stderr)\n"
		"  --client-only      just the client, against --port\n"
		"  --nodelay 0|1      TCP_NODELAY on every socket [1 if M > 1400]\n"
		"  --backlog N        listen backlog [4096]\n"
		"  -v, --verbose      print the setup (ports, options) on stderr\n"
		"Prints one JSON line of counters on stdout. rate = attempts finished per second\n"
		"(ok + refused + failed); ok_rate = connects_ok per second. bytes_* are the client's,\n"
		"server_bytes_* the server's.\n");
}

static double parse_num(const char *name, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "loadgen: bad %s: %s\n", name, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	enum { O_RATE = 256, O_DUR, O_GRACE, O_BYTES, O_CONC, O_PORT, O_SRC, O_REF, O_REFPORT,
	       O_THREADS, O_SONLY, O_CONLY, O_NODELAY, O_BACKLOG };
	static const struct option lo[] = {
		{ "rate", 1, 0, O_RATE }, { "duration", 1, 0, O_DUR }, { "grace", 1, 0, O_GRACE },
		{ "bytes", 1, 0, O_BYTES }, { "concurrency", 1, 0, O_CONC }, { "port", 1, 0, O_PORT },
		{ "sources", 1, 0, O_SRC }, { "refused-every", 1, 0, O_REF },
		{ "refused-port", 1, 0, O_REFPORT }, { "threads", 1, 0, O_THREADS },
		{ "server-only", 0, 0, O_SONLY }, { "client-only", 0, 0, O_CONLY },
		{ "nodelay", 1, 0, O_NODELAY }, { "backlog", 1, 0, O_BACKLOG },
		{ "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case O_RATE: opt.rate = parse_num("--rate", optarg, 0, 1e9); break;
		case O_DUR: opt.duration = parse_num("--duration", optarg, 0, 86400); break;
		case O_GRACE: opt.grace = parse_num("--grace", optarg, 0, 3600); break;
		case O_BYTES: opt.bytes = (uint64_t)parse_num("--bytes", optarg, 0, 1e12); break;
		case O_CONC: opt.concurrency = (int)parse_num("--concurrency", optarg, 1, 1000000); break;
		case O_PORT: opt.port = (int)parse_num("--port", optarg, 0, 65535); break;
		case O_SRC: opt.sources = (int)parse_num("--sources", optarg, 1, 250); break;
		case O_REF: opt.refused_every = (int)parse_num("--refused-every", optarg, 0, 1e9); break;
		case O_REFPORT: opt.refused_port = (int)parse_num("--refused-port", optarg, 1, 65535); break;
		case O_THREADS: opt.threads = (int)parse_num("--threads", optarg, 1, MAX_THREADS); break;
		case O_SONLY: opt.server_only = 1; break;
		case O_CONLY: opt.client_only = 1; break;
		case O_NODELAY: opt.nodelay = (int)parse_num("--nodelay", optarg, 0, 1); break;
		case O_BACKLOG: opt.backlog = (int)parse_num("--backlog", optarg, 1, 1 << 20); break;
		case 'v': opt.verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loadgen: unexpected argument %s\n", argv[optind]);
		exit(2);
	}
	if (opt.server_only && opt.client_only) {
		fprintf(stderr, "loadgen: --server-only and --client-only exclude each other\n");
		exit(2);
	}
	if (opt.client_only && opt.port == 0) {
		fprintf(stderr, "loadgen: --client-only needs --port\n");
		exit(2);
	}
	if (opt.nodelay < 0) opt.nodelay = opt.bytes > 1400;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		max_fds = rl.rlim_cur > (1u << 20) ? (1 << 20) : (int)rl.rlim_cur;
	} else {
		max_fds = 1024;
	}
	if (opt.concurrency + 64 > max_fds) {
		fprintf(stderr, "loadgen: --concurrency %d needs more fds than RLIMIT_NOFILE %d\n",
			opt.concurrency, max_fds);
		exit(2);
	}
}

static int listen_on(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) die("socket");
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) die("SO_REUSEADDR");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) die("bind listener");
	if (listen(fd, opt.backlog) < 0) die("listen");
	return fd;
}

/* A port on 127.0.0.1 that refuses connections while `*fd` stays open: bound, never listening. */
static int reserve_closed_port(int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0) die("socket");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(*fd, (struct sockaddr *)&a, sizeof(a)) < 0) die("bind closed port");
	socklen_t len = sizeof(a);
	if (getsockname(*fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
	return ntohs(a.sin_port);
}

static int bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
	return ntohs(a.sin_port);
}

static void child_setup(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static void print_errnos(const struct counters *c)
{
	int first = 1;
	printf("{");
	for (int e = 0; e < NERRNO; e++) {
		if (!c->errnos[e]) continue;
		const char *name = e == 0 ? "unexpected_success" : strerrorname_np(e);
		printf("%s\"%s\":%llu", first ? "" : ",", name ? name : "?", (unsigned long long)c->errnos[e]);
		first = 0;
	}
	printf("}");
}

static int wait_child(pid_t pid, double deadline, const char *name)
{
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) break;
		if (r < 0 && errno != EINTR) die("waitpid");
		if (stop_flag == 1) {
			kill(pid, SIGTERM); /* forward ^C / SIGTERM once: the child winds down */
			stop_flag = 2;
		}
		if (now_s() > deadline) {
			fprintf(stderr, "loadgen: %s (pid %d) overran its time bound, killing it\n", name, pid);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(2000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
	fprintf(stderr, "loadgen: %s (pid %d) failed (status 0x%x)\n", name, pid, status);
	return -1;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(out_buf); i++) out_buf[i] = (char)('a' + i % 26);

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) die("mmap");
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int lfd = -1, rfd = -1;
	int port = opt.port;
	if (!opt.client_only) {
		lfd = listen_on(port);
		port = bound_port(lfd);
	}
	int refused_port = 0;
	if (!opt.server_only) {
		refused_port = opt.refused_port ? opt.refused_port : reserve_closed_port(&rfd);
		srv_addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
		srv_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		refused_addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(refused_port) };
		refused_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	if (opt.verbose || opt.server_only)
		fprintf(stderr, "loadgen: server 127.0.0.1:%d, closed port %d, rate %g/s, %g s, %llu B, "
			"concurrency %d, %d sources, %d threads\n", port, refused_port, opt.rate,
			opt.duration, (unsigned long long)opt.bytes, opt.concurrency, opt.sources, opt.threads);
	fflush(stderr);

	double t0 = now_s();
	pid_t server_pid = 0, client_pid = 0;
	/* The server's own bound: its --duration when alone, else until the client is done. */
	double server_deadline = t0 + opt.duration + (opt.server_only ? 0 : opt.grace + 3);
	if (!opt.client_only) {
		server_pid = fork();
		if (server_pid < 0) die("fork");
		if (server_pid == 0) {
			child_setup("lg-server");
			if (rfd >= 0) close(rfd);
			run_server(lfd, server_deadline);
			_exit(0);
		}
		close(lfd);
	}
	if (!opt.server_only) {
		client_pid = fork();
		if (client_pid < 0) die("fork");
		if (client_pid == 0) {
			child_setup("lg-client");
			run_client(); /* rfd stays open here: the closed port stays reserved */
			_exit(0);
		}
		if (rfd >= 0) close(rfd);
	}

	int failed = 0;
	double bound = t0 + opt.duration + opt.grace + 5;
	if (client_pid > 0 && wait_child(client_pid, bound, "lg-client") < 0) failed = 1;
	if (server_pid > 0) {
		if (client_pid > 0) kill(server_pid, SIGTERM);
		if (wait_child(server_pid, bound + 2, "lg-server") < 0) failed = 1;
	}

	const struct counters *c = &shm->client, *s = &shm->server;
	double secs = opt.server_only ? shm->server_seconds : shm->client_seconds;
	uint64_t finished = c->connects_ok + c->connects_refused + c->connects_failed_other;
	printf("{\"connects_ok\":%llu,\"connects_refused\":%llu,\"connects_failed_other\":%llu,"
	       "\"accepts\":%llu,\"bytes_sent\":%llu,\"bytes_received\":%llu,\"duration_s\":%.3f,"
	       "\"rate\":%.1f,\"pid\":%d,\"server_pid\":",
	       (unsigned long long)c->connects_ok, (unsigned long long)c->connects_refused,
	       (unsigned long long)c->connects_failed_other, (unsigned long long)s->accepts,
	       (unsigned long long)c->bytes_sent, (unsigned long long)c->bytes_received, secs,
	       secs > 0 ? finished / secs : 0.0, (int)getpid());
	if (server_pid > 0) printf("%d", (int)server_pid); else printf("null");
	printf(",\"client_pid\":");
	if (client_pid > 0) printf("%d", (int)client_pid); else printf("null");
	printf(",\"ok_rate\":%.1f,\"target_rate\":%g,\"attempts\":%llu,\"refused_attempts\":%llu,"
	       "\"exchanges_ok\":%llu,\"exchanges_failed\":%llu,\"aborted_at_end\":%llu,"
	       "\"accept_errors\":%llu,\"server_completed\":%llu,\"server_failed\":%llu,"
	       "\"server_open_at_stop\":%llu,\"server_bytes_sent\":%llu,\"server_bytes_received\":%llu,"
	       "\"port\":%d,\"refused_port\":%d,\"bytes\":%llu,\"concurrency\":%d,\"sources\":%d,"
	       "\"threads\":%d,\"server_comm\":\"lg-server\",\"client_comm\":\"lg-client\",\"errors\":",
	       secs > 0 ? c->connects_ok / secs : 0.0, opt.rate,
	       (unsigned long long)c->attempts, (unsigned long long)c->refused_attempts,
	       (unsigned long long)c->exchanges_ok, (unsigned long long)c->exchanges_failed,
	       (unsigned long long)c->aborted_at_end, (unsigned long long)s->accept_errors,
	       (unsigned long long)s->srv_completed, (unsigned long long)s->srv_failed,
	       (unsigned long long)s->srv_open_at_stop, (unsigned long long)s->srv_bytes_sent,
	       (unsigned long long)s->srv_bytes_received, port, refused_port,
	       (unsigned long long)opt.bytes, opt.concurrency, opt.sources, opt.threads);
	struct counters all = *c;
	add_counters(&all, s);
	print_errnos(&all);
	printf(",\"ok\":%s}\n", failed ? "false" : "true");
	return failed ? 1 : 0;
}
