/*
 * probe_record.h: what the probes reported, for unit tests that link the
 * recording build of the library (tests/unit/record/meson.build).
 *
 * That build's probe header (scripts/probes_record.py) turns every
 * PROVIDER_PROBE(...) into a call of sonde_probe_record() and every
 * PROVIDER_PROBE_ENABLED() into a read of sonde_probe_recording, so the
 * stack's probe sites are live exactly while a test records, and each
 * probe that fires leaves a record here, in firing order, of everything
 * its six arguments pointed at.  The arguments live on the stack's stack
 * while a probe fires (docs/probes.md): only copies can be looked at
 * afterwards.  The stack reads the semaphores in sonde_poll() every
 * PROBE_GATE_NS of its clock (and in sonde_ping()): start recording, move
 * the clock on by that much, then poll.
 */
#ifndef SONDE_PROBE_RECORD_H
#define SONDE_PROBE_RECORD_H

#include <stdbool.h>

#include "tcp_provider.h" /* and ip_provider.h */

/* More than any one test's traffic fires: a lost record fails the test
 * (probe_record_lost) rather than passing on what was kept. */
#define PROBE_RECORD_MAX 1024

struct probe_rec {
	char provider[8]; /* "ip", "ipv4", "ipv6", "tcp", "udp" */
	char probe[24];	  /* as DTrace names it: "send", "local-send", "drop-in", ... */
	/* The arguments as the probe got them (pointers into the firing
	 * stack's frame: compare them with NULL, never read them). */
	const void *arg[6];
	/* The arguments by type: each points at the copy below, or is NULL
	 * when the probe's argument was, or the provider has no such
	 * argument.  ip, ipv4, ipv6: pkt, cs, ip, ifi, v4, v6; tcp: pkt, cs,
	 * ip, tcps, tcp, tcpls; udp: pkt, cs, ip, udps, udp. */
	const struct pktinfo_t *pkt;
	const struct csinfo_t *cs;
	const struct ipinfo_t *ip;
	const struct ifinfo_t *ifi;
	const struct ipv4info_t *v4;
	const struct ipv6info_t *v6;
	const struct tcpsinfo_t *tcps;
	const struct tcpinfo_t *tcp;
	const struct tcplsinfo_t *tcpls;
	const struct udpsinfo_t *udps;
	const struct udpinfo_t *udp;
	struct pktinfo_t pkt_copy;
	struct csinfo_t cs_copy;
	struct ipinfo_t ip_copy;
	struct ifinfo_t if_copy;
	struct ipv4info_t v4_copy;
	struct ipv6info_t v6_copy;
	struct tcpsinfo_t tcps_copy;
	struct tcpinfo_t tcp_copy;
	struct tcplsinfo_t tcpls_copy;
	struct udpsinfo_t udps_copy;
	struct udpinfo_t udp_copy;
};

/* Forgets what was recorded and switches every probe on. */
void probe_record_start(void);
/* Switches every probe off; what was recorded stays. */
void probe_record_stop(void);
unsigned probe_record_count(void);
/* Records that did not fit (PROBE_RECORD_MAX) since probe_record_start(). */
unsigned probe_record_lost(void);
/* Record i, in firing order (i < probe_record_count()). */
const struct probe_rec *probe_record_get(unsigned i);
/* Prints every record, one a line, for a failing test's log. */
void probe_record_print(void);

#endif
