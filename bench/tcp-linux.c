/*
 * tcp-linux: the Linux kernel's side of the TCP request/response
 * comparisons, where no packaged tool fits (sockperf's smallest message is
 * its 14-byte header; netperf is not in Debian 12):
 *
 *   tcp-linux rr-server PORT [--busy]
 *       echo: one connection at a time, each read written back
 *   tcp-linux rr-client ADDR PORT SECONDS [--busy] [--size N]
 *       one connection: write N bytes (default 1), read them back, repeat
 *       (netperf's TCP_RR)
 *   tcp-linux crr-server PORT
 *       epoll: accept, read the request, write it back, close when the
 *       client has closed
 *   tcp-linux crr-client ADDR PORT SECONDS [--slots K] [--size N]
 *       K threads (default 4), each: connect, write N bytes, read them
 *       back, close, repeat (TCP_CRR)
 *
 * --busy sets SO_BUSY_POLL (50 us) and reads with MSG_DONTWAIT in a loop:
 * Linux at its lowest latency, a core spinning as sonde's does.  Clients
 * print one JSON line: {"transactions": N, "seconds": S, "errors": E}.
 * IPv4 only; TCP_NODELAY on every connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536
#define MAX_SLOTS 64

static bool busy;
static size_t size = 1;
static struct sockaddr_in dst;
static double seconds;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
tune(int fd)
{
	int one = 1, us = 50;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (busy && setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) != 0)
		die("SO_BUSY_POLL");
}

static ssize_t
rd(int fd, void *buf, size_t n)
{
	ssize_t r;

	if (!busy)
		return read(fd, buf, n);
	while ((r = recv(fd, buf, n, MSG_DONTWAIT)) < 0 && (errno == EAGAIN || errno == EINTR))
		;
	return r;
}

/* Reads exactly n bytes; false on EOF or error. */
static bool
rd_all(int fd, char *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = rd(fd, buf + got, n - got);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static bool
wr_all(int fd, const char *buf, size_t n)
{
	for (size_t put = 0; put < n;) {
		ssize_t r = write(fd, buf + put, n - put);

		if (r <= 0)
			return false;
		put += (size_t)r;
	}
	return true;
}

static int
listener(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4096) != 0)
		die("bind/listen");
	return fd;
}

static int
rr_server(uint16_t port)
{
	static char buf[BUF];
	int lfd = listener(port);

	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		ssize_t r;

		if (fd < 0)
			continue;
		tune(fd);
		while ((r = rd(fd, buf, sizeof(buf))) > 0)
			if (!wr_all(fd, buf, (size_t)r))
				break;
		close(fd);
	}
	return 0;
}

static int
rr_client(void)
{
	static char buf[BUF];
	uint64_t n = 0, errors = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0, end;

	tune(fd);
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0)
		die("connect");
	memset(buf, 'x', size);
	t0 = now_s();
	end = t0 + seconds;
	while (now_s() < end) {
		if (!wr_all(fd, buf, size) || !rd_all(fd, buf, size)) {
			errors++;
			break;
		}
		n++;
	}
	printf("{\"transactions\": %lu, \"seconds\": %.3f, \"errors\": %lu}\n", (unsigned long)n,
	       now_s() - t0, (unsigned long)errors);
	close(fd);
	return errors != 0;
}

/* crr-server: per connection, what it has read of the request. */
struct conn {
	int fd;
	size_t got;
};

static int
crr_server(uint16_t port)
{
	static char buf[BUF];
	struct epoll_event ev, evs[256];
	int lfd = listener(port), ep = epoll_create1(0);

	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;

			if (c == NULL) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0)
					continue;
				tune(fd);
				c = calloc(1, sizeof(*c));
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			r = read(c->fd, buf, sizeof(buf));
			if (r > 0) {
				/* the echo of a request this small fits the socket buffer */
				if (write(c->fd, buf, (size_t)r) != r)
					r = 0;
				continue;
			}
			if (r < 0 && errno == EAGAIN)
				continue;
			close(c->fd); /* EOF: the client closed first */
			free(c);
		}
	}
	return 0;
}

static uint64_t crr_total, crr_errors;

static void *
crr_slot(void *arg)
{
	char buf[BUF];
	uint64_t n = 0, errors = 0;
	double end = *(double *)arg;

	memset(buf, 'x', size);
	while (now_s() < end) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		tune(fd);
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 ||
		    !wr_all(fd, buf, size) || !rd_all(fd, buf, size))
			errors++;
		else
			n++;
		close(fd);
	}
	__atomic_add_fetch(&crr_total, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&crr_errors, errors, __ATOMIC_RELAXED);
	return NULL;
}

static int
crr_client(unsigned slots)
{
	pthread_t th[MAX_SLOTS];
	double t0 = now_s(), end = t0 + seconds;

	for (unsigned i = 0; i < slots; i++)
		pthread_create(&th[i], NULL, crr_slot, &end);
	for (unsigned i = 0; i < slots; i++)
		pthread_join(th[i], NULL);
	printf("{\"transactions\": %lu, \"seconds\": %.3f, \"errors\": %lu}\n",
	       (unsigned long)crr_total, now_s() - t0, (unsigned long)crr_errors);
	return crr_errors != 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: tcp-linux rr-server|crr-server PORT [--busy]\n"
			"       tcp-linux rr-client|crr-client ADDR PORT SECONDS [--busy] "
			"[--size N] [--slots K]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	unsigned slots = 4;
	int i, first;
	bool client;

	if (argc < 3)
		return usage();
	client = strstr(argv[1], "client") != NULL;
	first = client ? 5 : 3;
	if (argc < first)
		return usage();
	for (i = first; i < argc; i++) {
		if (strcmp(argv[i], "--busy") == 0)
			busy = true;
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			size = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--slots") == 0 && i + 1 < argc)
			slots = (unsigned)strtoul(argv[++i], NULL, 0);
		else
			return usage();
	}
	if (size < 1 || size > BUF || slots < 1 || slots > MAX_SLOTS)
		return usage();
	if (!client) {
		uint16_t port = (uint16_t)atoi(argv[2]);

		if (strcmp(argv[1], "rr-server") == 0)
			return rr_server(port);
		if (strcmp(argv[1], "crr-server") == 0)
			return crr_server(port);
		return usage();
	}
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1)
		return usage();
	seconds = atof(argv[4]);
	if (strcmp(argv[1], "rr-client") == 0)
		return rr_client();
	if (strcmp(argv[1], "crr-client") == 0)
		return crr_client(slots);
	return usage();
}
