/*
 * memhelp.c: the load of bench/memory.ts (build: cc -O2 -o memhelp memhelp.c).
 *   memhelp hold N    N loopback connections (2N sockets), held until stdin closes; prints "ready"
 *                     once every one is accepted. The sockets are spread over child processes of
 *                     at most HOLD_PER_PROC connections each (each with its own listener): the
 *                     file limit cannot be raised past the hard limit without CAP_SYS_RESOURCE.
 *   memhelp churn N [P]  N short-lived processes, P at a time (default 4): each a fork of this one
 *                     that connects to its listener, sends a byte and exits; prints "done N".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int listener(int *port) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror("listener");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_to(int port) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static void raise_nofile(long want) {
	struct rlimit r = {want, want};
	if (setrlimit(RLIMIT_NOFILE, &r)) {
		perror("setrlimit NOFILE");
		exit(1);
	}
}

#define HOLD_PER_PROC 4000

/* One child's share: m connections to its own listener; tells the parent through `ready_fd`,
 * then waits for stdin to close (exit closes every socket). */
static void hold_some(long m, int ready_fd) {
	int port;
	raise_nofile(2 * m + 64);
	int lfd = listener(&port);
	for (long i = 0; i < m; i++) {
		connect_to(port);
		if (accept(lfd, NULL, NULL) < 0) {
			perror("accept");
			_exit(1);
		}
	}
	if (write(ready_fd, "r", 1) != 1) _exit(1);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0) {
	}
	_exit(0);
}

static int hold(long n) {
	int pipefd[2];
	if (pipe(pipefd)) return 1;
	long procs = 0;
	for (long left = n; left > 0; left -= HOLD_PER_PROC, procs++) {
		if (fork() == 0) hold_some(left < HOLD_PER_PROC ? left : HOLD_PER_PROC, pipefd[1]);
	}
	for (long i = 0; i < procs; i++) {
		char c;
		if (read(pipefd[0], &c, 1) != 1) return 1;
	}
	printf("ready %ld\n", n);
	fflush(stdout);
	while (wait(NULL) > 0) {
	}
	return 0;
}

static int churn(long n, long parallel) {
	int port;
	int lfd = listener(&port);
	fcntl(lfd, F_SETFL, O_NONBLOCK); /* accepts are drained between waits */
	long running = 0;
	for (long i = 0; i < n || running > 0;) {
		if (i < n && running < parallel) {
			pid_t pid = fork();
			if (pid == 0) {
				int fd = connect_to(port);
				_exit(write(fd, "x", 1) == 1 ? 0 : 1);
			}
			if (pid > 0) running++;
			i++;
			continue;
		}
		int st;
		if (waitpid(-1, &st, 0) > 0) running--;
		int c;
		while ((c = accept(lfd, NULL, NULL)) >= 0) close(c);
	}
	printf("done %ld\n", n);
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 3 && !strcmp(argv[1], "hold")) return hold(atol(argv[2]));
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "churn"))
		return churn(atol(argv[2]), argc == 4 ? atol(argv[3]) : 4);
	fprintf(stderr, "usage: memhelp hold N | churn N [P]\n");
	return 2;
}
