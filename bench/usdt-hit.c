/*
 * usdt-hit: what a traced USDT probe costs by itself, the tracer's part.
 *
 * A loop fires one of sonde's probes with ready-made arguments, nothing
 * filled, nothing else done: ip:receive (the one bench/run traces in
 * sonded), or tcp:send (the one bench/tcp rr-traced traces).  Run once
 * untraced and once with bpftrace counting the same probe, the difference
 * per iteration is a bare hit, the uprobe trap and bpftrace's action.
 * bench/run and bench/tcp set each traced row against it: a traced packet
 * should cost that, the stack's fill of the arguments (bench/probe-cost),
 * and nothing more.
 *
 *   usdt-hit [ip:receive|tcp:send] [ITERATIONS]
 *	prints: usdt_hit_loop_ns N fired N   (ns per iteration)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ip_provider.h"
#include "sonde_probes.h"
#include "tcp_provider.h"

static struct pktinfo_t pkt;
static struct csinfo_t cs;
static struct ipinfo_t ip;
static struct ifinfo_t ifi;
static struct ipv4info_t v4;
static struct tcpsinfo_t tcps;
static struct tcpinfo_t tcp;

/* Fires ip:receive n times, each one its semaphore says is on. */
static unsigned long
loop_ip_receive(unsigned long n)
{
	unsigned long fired = 0;

	for (unsigned long i = 0; i < n; i++) {
		if (IP_RECEIVE_ENABLED()) {
			IP_RECEIVE(&pkt, NULL, &ip, &ifi, &v4, NULL);
			fired++;
		}
	}
	return fired;
}

/* Fires tcp:send n times, as the stack does for a connection's segment. */
static unsigned long
loop_tcp_send(unsigned long n)
{
	unsigned long fired = 0;

	for (unsigned long i = 0; i < n; i++) {
		if (TCP_SEND_ENABLED()) {
			TCP_SEND(&pkt, &cs, &ip, &tcps, &tcp, NULL);
			fired++;
		}
	}
	return fired;
}

int
main(int argc, char **argv)
{
	unsigned long (*loop)(unsigned long) = loop_ip_receive;
	unsigned long n = 2000000;
	struct timespec t0, t1;
	unsigned long fired;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "ip:receive") == 0) {
			loop = loop_ip_receive;
		} else if (strcmp(argv[i], "tcp:send") == 0) {
			loop = loop_tcp_send;
		} else if (argv[i][0] >= '0' && argv[i][0] <= '9') {
			n = strtoul(argv[i], NULL, 0);
		} else {
			fprintf(stderr, "usage: usdt-hit [ip:receive|tcp:send] [ITERATIONS]\n");
			return 2;
		}
	}
	ip.ip_ver = 4;
	tcps.tcps_state = TCP_STATE_ESTABLISHED;
	tcp.tcp_flags = TH_ACK | TH_PSH;
	loop(10000); /* warm up */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fired = loop(n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("usdt_hit_loop_ns %.1f fired %lu\n",
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		       (double)n,
	       fired);
	return 0;
}
