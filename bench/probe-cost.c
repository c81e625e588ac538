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
 *   probe-cost [EAL args]      prints: probe_fill_ns_v4 N, probe_fill_ns_v6 N
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "probes.h"
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

int
main(int argc, char **argv)
{
	static const uint8_t v4[28] = { 0x45, 0, 0,  28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0,
					0,    1, 10, 0,	 0, 2, 8, 0, 0,	 0, 0, 0, 0,  0 };
	uint8_t v6[48] = { 0x60, 0, 0, 0, 0, 8, 58, 64 };
	struct sonde_conf conf = { 0 };
	struct sonde_stack *st;
	struct rte_mbuf *m4, *m6;

	if (rte_eal_init(argc, argv) < 0)
		return 2;
	conf.pool = rte_pktmbuf_pool_create("pc", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
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
	sonde_stack_destroy(st);
	rte_mempool_free(conf.pool);
	rte_eal_cleanup();
	return 0;
}
