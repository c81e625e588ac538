/*
 * usdt-hit: what a traced USDT probe costs by itself, the tracer's part.
 *
 * A loop fires sonde's ip:receive probe (the one bench/run traces in
 * sonded) with ready-made arguments, nothing filled, nothing else done:
 * run once untraced and once with bpftrace counting ip:receive, the
 * difference per iteration is a bare hit, the uprobe trap and bpftrace's
 * action.  bench/run sets each traced row against it: a traced packet
 * should cost that, the stack's fill of the arguments (bench/probe-cost),
 * and nothing more.
 *
 *   usdt-hit [ITERATIONS]   prints: usdt_hit_loop_ns N   (per iteration)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ip_provider.h"
#include "sonde_probes.h"

int
main(int argc, char **argv)
{
	static struct pktinfo_t pkt;
	static struct ipinfo_t ip;
	static struct ifinfo_t ifi;
	static struct ipv4info_t v4;
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000000;
	struct timespec t0, t1;
	volatile unsigned long fired = 0;

	ip.ip_ver = 4;
	for (unsigned long i = 0; i < 10000; i++) /* warm up */
		if (IP_RECEIVE_ENABLED())
			IP_RECEIVE(&pkt, NULL, &ip, &ifi, &v4, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < n; i++) {
		if (IP_RECEIVE_ENABLED()) {
			IP_RECEIVE(&pkt, NULL, &ip, &ifi, &v4, NULL);
			fired++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("usdt_hit_loop_ns %.1f fired %lu\n",
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		       (double)n,
	       (unsigned long)fired);
	return 0;
}
