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
 * --touch PAGES: after each hit, read a byte of each of PAGES 4 KiB pages
 * (each on a cache line of its own), as a stack's path touches its rings,
 * mbufs and tables after the probe: whatever a kernel entry costs the
 * code that runs after it (a TLB flushed, with page table isolation and
 * no PCID) shows in the hit, set against the same loop untraced.
 *
 * --spin NS: after each hit, spin NS ns (clock_gettime, no kernel entry),
 * as a poll loop waits between a stack's transactions: what a trap costs
 * when it comes cold.
 *
 *   usdt-hit [ip:receive|tcp:send] [--touch PAGES] [--spin NS] [ITERATIONS]
 *	prints: usdt_hit_loop_ns N fired N   (ns per iteration)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
static volatile const unsigned char *touch_buf; /* --touch */
static unsigned long touch_pages;
static long spin_ns; /* --spin */

static long
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* A byte of each page, each on its own cache line. */
static inline void
touch(void)
{
	for (unsigned long p = 0; p < touch_pages; p++)
		(void)touch_buf[p * 4096 + (p % 64) * 64];
	if (spin_ns > 0)
		for (long end = now_ns() + spin_ns; now_ns() < end;)
			;
}

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
		touch();
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
		touch();
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
		} else if (strcmp(argv[i], "--touch") == 0 && i + 1 < argc) {
			touch_pages = strtoul(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--spin") == 0 && i + 1 < argc) {
			spin_ns = strtol(argv[++i], NULL, 0);
		} else if (argv[i][0] >= '0' && argv[i][0] <= '9') {
			n = strtoul(argv[i], NULL, 0);
		} else {
			fprintf(stderr, "usage: usdt-hit [ip:receive|tcp:send] [--touch PAGES] "
					"[--spin NS] [ITERATIONS]\n");
			return 2;
		}
	}
	if (touch_pages > 0) {
		unsigned char *b = mmap(NULL, touch_pages * 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (b == MAP_FAILED)
			return 1;
		/* 4 KiB pages, as DPDK's memory under --no-huge */
		madvise(b, touch_pages * 4096, MADV_NOHUGEPAGE);
		for (unsigned long p = 0; p < touch_pages; p++)
			b[p * 4096 + (p % 64) * 64] = 1;
		touch_buf = b;
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
