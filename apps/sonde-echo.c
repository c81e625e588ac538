/*
 * sonde-echo: a TCP and UDP echo server (RFC 862) on libsonde, both families,
 * zero copy (data goes back out in the mbufs it came in): the least a program
 * needs to serve on <sonde/socket.h>.
 *   sonde-echo [EAL args] -- PORT ADDR/LEN [ADDR/LEN ...]   (on DPDK port 0)
 *   cc sonde-echo.c $(pkg-config --cflags --libs sonde) -o sonde-echo
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include <sonde/socket.h>

static volatile sig_atomic_t quit;
static int listener, udp; /* their addresses tell the sockets' udata apart */

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* Edge-triggered events (socket.h): work until the stack says -EAGAIN.
 * A connection's udata holds data read, not yet taken by its send buffer. */
static void
tcp_echo(struct sonde_sock *s, struct rte_mbuf **held, uint32_t events)
{
	ssize_t r = 0;

	while (!(events & SONDE_EV_ERR)) {
		if (*held) {
			r = sonde_send_mbuf(s, *held, NULL, 0);
			if (r == -EAGAIN)
				return; /* OUT comes when there is room */
			if (r < 0)
				break;
			*held = NULL;
		}
		r = sonde_recv_mbuf(s, held, NULL, NULL);
		if (r == -EAGAIN)
			return; /* IN comes with more */
		if (r <= 0)
			break; /* the peer's FIN (0), or a reset */
	}
	rte_pktmbuf_free(*held);
	free(held);
	sonde_close(s);
}

static void
udp_echo(struct sonde_sock *s)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	struct rte_mbuf *m = NULL;
	ssize_t r;

	while (sonde_recv_mbuf(s, &m, (struct sockaddr *)&from, &len) >= 0 && m != NULL) {
		r = sonde_send_mbuf(s, m, (struct sockaddr *)&from, len);
		if (r < 0 && r != -EHOSTUNREACH) /* that one took m (socket.h) */
			rte_pktmbuf_free(m);
		len = sizeof(from);
		m = NULL;
	}
}

/* A socket of type on PORT, every address of family af. */
static int
open_socket(struct sonde_stack *st, int af, int type, uint16_t port, void *udata)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sonde_sock *s;
	int r = sonde_socket(st, af, type, udata, &s);

	if (r == 0)
		r = af == AF_INET ? sonde_bind(s, (struct sockaddr *)&a4, sizeof(a4))
				  : sonde_bind(s, (struct sockaddr *)&a6, sizeof(a6));
	return r == 0 && type == SOCK_STREAM ? sonde_listen(s, 128) : r;
}

int
main(int argc, char **argv)
{
	struct sonde_conf conf = { 0 };
	struct sonde_event ev[64];
	struct sonde_stack *st = NULL;
	struct sonde_sock *s;
	struct sonde_prefix p;
	int n = rte_eal_init(argc, argv), ifindex = -1;

	if (n < 0 || argc - n < 3) {
		fprintf(stderr, "usage: sonde-echo [EAL args] -- PORT ADDR/LEN [ADDR/LEN ...]\n");
		return 2;
	}
	argc -= n, argv += n;
	conf.pool = rte_pktmbuf_pool_create("echo", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    (int)rte_socket_id());
	if (conf.pool != NULL)
		st = sonde_stack_create(&conf);
	if (st != NULL)
		ifindex = sonde_port_add(st, 0);
	for (int i = 2; ifindex >= 0 && i < argc; i++)
		if (sonde_prefix_parse(argv[i], &p) != 0 || sonde_addr_add(st, ifindex, &p) != 0)
			ifindex = -1;
	for (int i = 0; ifindex >= 0 && i < 4; i++)
		if (open_socket(st, i & 1 ? AF_INET6 : AF_INET, i & 2 ? SOCK_DGRAM : SOCK_STREAM,
				(uint16_t)atoi(argv[1]), i & 2 ? &udp : &listener) != 0)
			ifindex = -1;
	if (ifindex < 0) {
		fprintf(stderr, "sonde-echo: no pool, stack, port 0, address or socket\n");
		return 1;
	}
	signal(SIGINT, on_signal), signal(SIGTERM, on_signal);
	while (!quit && !sonde_ready(st)) /* IPv6 addresses: DAD, about a second */
		sonde_poll(st, sonde_now(st));
	printf("ready pid %d\n", (int)getpid());
	fflush(stdout);
	while (!quit) {
		unsigned got = sonde_poll(st, sonde_now(st));

		n = (int)sonde_events(st, ev, 64);
		if (got == 0 && n == 0)
			usleep(20); /* idle: give the core back */
		for (int i = 0; i < n; i++) {
			if (ev[i].udata == &listener) {
				while (sonde_accept(ev[i].sock, NULL, &s, NULL, NULL) == 0)
					sonde_sock_set_udata(s, calloc(1, sizeof(void *)));
			} else if (ev[i].udata == &udp)
				udp_echo(ev[i].sock);
			else if (ev[i].udata == NULL)
				sonde_abort(ev[i].sock); /* calloc failed */
			else
				tcp_echo(ev[i].sock, ev[i].udata, ev[i].events);
		}
	}
	printf("stopping\n");
	sonde_ports_close(st);
	sonde_stack_destroy(st);
	rte_eal_cleanup();
	return 0;
}
