/*
 * probe-cost: what sonde itself spends on a traced probe, without the trap.
 *
 * A tracer switches a probe on by raising its semaphore; then
 * probe_fire() fills the six argument structs (addresses as text, names,
 * header fields) and executes the USDT site, a single nop until a uprobe
 * is planted there.  This raises the semaphores itself, with no tracer
 * attached, and times probe_fire() for an IPv4 and an IPv6 packet: the
 * stack's own share of every traced probe hit.  bench/run sets it against
 * the traced cost it measures.
 *
 * And the same for tcp:::send: probe_tcp_fire() fills five structs from
 * a segment and its connection (the connection's state, both ends as
 * text, the TCP header).  For a real one, two stacks joined by an
 * in-process wire (a SONDE_IF_DRIVER interface each) open a connection
 * through the socket API; after a few 1-byte requests and their echoes,
 * as sonde-gen's tcp-rr and sonded's echo exchange them, the server's next
 * echo segment is taken off the wire instead of delivered, and
 * probe_tcp_fire() is timed on it (data back at its IP header, as at the
 * probe site in tcp_output.c) with the server's socket.  bench/tcp
 * rr-traced sets it against a traced tcp:::send.
 *
 *   probe-cost [EAL args]      prints: probe_fill_ns_v4 N, probe_fill_ns_v6 N,
 *                              probe_fill_ns_tcp N (with memory for two stacks)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "probes.h"
#include "sonde/socket.h"
#include "stack.h"

#define ROUNDS 2000000

static double
probe_cost(struct sonde_stack *st, struct rte_mbuf *m)
{
	uint64_t t0, t1;

	for (int i = 0; i < 10000; i++) /* warm up */
		probe_fire(st, PROBE_RECEIVE, m, st->lo, 0, NULL);
	t0 = rte_get_tsc_cycles();
	for (int i = 0; i < ROUNDS; i++)
		probe_fire(st, PROBE_RECEIVE, m, st->lo, 0, NULL);
	t1 = rte_get_tsc_cycles();
	return (double)(t1 - t0) * 1e9 / (double)rte_get_tsc_hz() / ROUNDS;
}

/* --- tcp:::send --- */

/* Frames one stack sent, waiting for the other's next poll. */
struct wire {
	struct rte_mbuf *q[256];
	unsigned n;
};

static struct wire to_a, to_b;
static bool capture; /* B's next frame is kept, not delivered */
static struct rte_mbuf *captured;

static uint16_t
wire_rx(struct wire *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = (uint16_t)RTE_MIN(w->n, (unsigned)n);

	memcpy(pkts, w->q, k * sizeof(*pkts));
	memmove(w->q, w->q + k, (w->n - k) * sizeof(*pkts));
	w->n -= k;
	return k;
}

static uint16_t
wire_tx(struct wire *w, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		if (w == &to_a && capture && captured == NULL)
			captured = pkts[i];
		else if (w->n < RTE_DIM(w->q))
			w->q[w->n++] = pkts[i];
		else
			rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

static uint16_t
rx_a(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	(void)arg;
	return wire_rx(&to_a, pkts, n);
}

static uint16_t
rx_b(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	(void)arg;
	return wire_rx(&to_b, pkts, n);
}

static uint16_t
tx_a(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	(void)arg;
	return wire_tx(&to_b, pkts, n);
}

static uint16_t
tx_b(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	(void)arg;
	return wire_tx(&to_a, pkts, n);
}

/* A wire interface on st, 10.9.0.1 (A, the client) or 10.9.0.2 (B, the
 * server): its index, or negative. */
static int
tcp_if(struct sonde_stack *st, bool is_b)
{
	struct sonde_if_conf ic = { 0 };
	struct sonde_prefix pf;
	int ifindex;

	ic.type = SONDE_IF_DRIVER;
	ic.name = is_b ? "wb" : "wa";
	ic.mac[0] = 0x02;
	ic.mac[5] = is_b ? 2 : 1;
	ic.driver.rx = is_b ? rx_b : rx_a;
	ic.driver.tx = is_b ? tx_b : tx_a;
	ic.no_linklocal = true;
	ifindex = sonde_if_create(st, &ic);
	if (ifindex < 0 || sonde_prefix_parse(is_b ? "10.9.0.2/24" : "10.9.0.1/24", &pf) != 0 ||
	    sonde_addr_add(st, ifindex, &pf) != 0)
		return -1;
	return ifindex;
}

/* One poll of each stack, the clock 10 us on. */
static void
tcp_turn(struct sonde_stack *a, struct sonde_stack *b, uint64_t *now)
{
	struct sonde_event ev[64];

	*now += 10000;
	sonde_poll(a, *now);
	sonde_poll(b, *now);
	while (sonde_events(a, ev, RTE_DIM(ev)) > 0)
		;
	while (sonde_events(b, ev, RTE_DIM(ev)) > 0)
		;
}

/* Polls until s has a byte to read, and reads it. */
static bool
tcp_take(struct sonde_stack *a, struct sonde_stack *b, uint64_t *now, struct sonde_sock *s)
{
	char c;

	for (int i = 0; i < 10000; i++) {
		if (sonde_recv(s, &c, 1, 0) == 1)
			return true;
		tcp_turn(a, b, now);
	}
	return false;
}

/* The client is a (the IP probes' stack), the server a stack of its own:
 * a stack takes over 100 MiB (its IPv4 route table alone 64), so this
 * needs -m 512 with --no-huge (bench/tcp's; bench/run's 256 is short, and
 * then the v4 and v6 figures come alone, exit status 1). */
static double
probe_cost_tcp(struct sonde_stack *a, struct rte_mempool *pool)
{
	struct sonde_sock *ls = NULL, *cs = NULL, *ss = NULL;
	struct sockaddr_in sa = { 0 };
	struct sonde_conf c = { 0 };
	struct sonde_stack *b;
	uint64_t now = 1000000000, t0, t1;
	double ns = -1;
	int ib;
	uint8_t *ip;

	c.pool = pool;
	c.stack_id = 2;
	b = sonde_stack_create(&c);
	if (b == NULL || tcp_if(a, false) < 0 || (ib = tcp_if(b, true)) < 0)
		goto out;
	sa.sin_family = AF_INET;
	sa.sin_port = htons(7);
	inet_pton(AF_INET, "10.9.0.2", &sa.sin_addr);
	for (int i = 0; i < 100000 && !(sonde_ready(a) && sonde_ready(b)); i++)
		tcp_turn(a, b, &now);
	if (sonde_socket(b, AF_INET, SOCK_STREAM, NULL, &ls) < 0 ||
	    sonde_bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || sonde_listen(ls, 16) != 0 ||
	    sonde_socket(a, AF_INET, SOCK_STREAM, NULL, &cs) < 0 ||
	    sonde_connect(cs, (struct sockaddr *)&sa, sizeof(sa)) != -EINPROGRESS)
		goto out;
	for (int i = 0; i < 10000 && ss == NULL; i++) {
		tcp_turn(a, b, &now);
		if (sonde_accept(ls, NULL, &ss, NULL, NULL) != 0)
			ss = NULL;
	}
	if (ss == NULL)
		goto out;
	/* Requests and their echoes; the last echo is kept off the wire. */
	for (int r = 0; r < 8; r++) {
		if (sonde_send(cs, "x", 1, 0) != 1 || !tcp_take(a, b, &now, ss))
			goto out;
		capture = r == 7;
		if (sonde_send(ss, "x", 1, 0) != 1)
			goto out;
		if (capture) {
			for (int i = 0; i < 100 && captured == NULL; i++)
				tcp_turn(a, b, &now);
		} else if (!tcp_take(a, b, &now, cs)) {
			goto out;
		}
	}
	if (captured == NULL || rte_pktmbuf_adj(captured, 14) == NULL)
		goto out;
	/* As at the probe site: the data at the IP header, l3_len after it. */
	ip = rte_pktmbuf_mtod(captured, uint8_t *);
	if (ip[0] >> 4 != 4 || ip[9] != IPPROTO_TCP)
		goto out;
	pkt_meta_init(captured, (uint16_t)ib, 4);
	pkt_meta(captured)->l3_len = (uint16_t)((ip[0] & 0xf) * 4);
	pkt_meta(captured)->conn = ss;
	for (int i = 0; i < 10000; i++) /* warm up */
		probe_tcp_fire(b, PROBE_TCP_SEND, captured, ss, 0);
	t0 = rte_get_tsc_cycles();
	for (int i = 0; i < ROUNDS; i++)
		probe_tcp_fire(b, PROBE_TCP_SEND, captured, ss, 0);
	t1 = rte_get_tsc_cycles();
	ns = (double)(t1 - t0) * 1e9 / (double)rte_get_tsc_hz() / ROUNDS;
out:
	if (ns < 0)
		fprintf(stderr, "probe-cost: no TCP segment to fill (connection failed)\n");
	if (captured != NULL)
		rte_pktmbuf_free(captured);
	captured = NULL;
	if (b != NULL)
		sonde_stack_destroy(b);
	while (to_a.n > 0)
		rte_pktmbuf_free(to_a.q[--to_a.n]);
	while (to_b.n > 0)
		rte_pktmbuf_free(to_b.q[--to_b.n]);
	return ns;
}

int
main(int argc, char **argv)
{
	static const uint8_t v4[28] = { 0x45, 0, 0,  28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0,
					0,    1, 10, 0,	 0, 2, 8, 0, 0,	 0, 0, 0, 0,  0 };
	uint8_t v6[48] = { 0x60, 0, 0, 0, 0, 8, 58, 64 };
	struct sonde_conf conf = { 0 };
	struct sonde_stack *st;
	struct rte_mbuf *m4, *m6;
	double ns;

	if (rte_eal_init(argc, argv) < 0)
		return 2;
	conf.pool = rte_pktmbuf_pool_create("pc", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	st = conf.pool ? sonde_stack_create(&conf) : NULL;
	if (st == NULL)
		return 1;
	v6[8] = v6[24] = 0xfd;
	v6[23] = 1;
	v6[39] = 2;
	m4 = rte_pktmbuf_alloc(conf.pool);
	m6 = rte_pktmbuf_alloc(conf.pool);
	memcpy(rte_pktmbuf_append(m4, sizeof(v4)), v4, sizeof(v4));
	memcpy(rte_pktmbuf_append(m6, sizeof(v6)), v6, sizeof(v6));
	pkt_meta_init(m4, st->lo->index, 4);
	pkt_meta_init(m6, st->lo->index, 6);
	/* What a tracer does when it attaches to ip:receive and ipv4/ipv6:receive. */
	ip_receive_semaphore++;
	ipv4_receive_semaphore++;
	ipv6_receive_semaphore++;
	printf("probe_fill_ns_v4 %.1f\n", probe_cost(st, m4));
	printf("probe_fill_ns_v6 %.1f\n", probe_cost(st, m6));
	rte_pktmbuf_free(m4);
	rte_pktmbuf_free(m6);
	/* And to tcp:send. */
	tcp_send_semaphore++;
	ns = probe_cost_tcp(st, conf.pool);
	if (ns >= 0)
		printf("probe_fill_ns_tcp %.1f\n", ns);
	sonde_stack_destroy(st);
	rte_mempool_free(conf.pool);
	rte_eal_cleanup();
	return ns >= 0 ? 0 : 1;
}
