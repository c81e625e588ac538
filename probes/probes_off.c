/*
 * probes_off.c: probe_fire() for a build with probes compiled out
 * (-Dprobes=false), and the tcp and udp probes' fills.  Every call site is
 * behind a constant-false _ENABLED(), so none of this is ever called; it
 * exists so unoptimised builds still link.
 */
#include "probes.h"

void
probe_fire(const struct sonde_stack *st, enum probe_kind kind, const struct rte_mbuf *m,
	   const struct sonde_if *ifp, int fam, const char *reason)
{
	(void)st, (void)kind, (void)m, (void)ifp, (void)fam, (void)reason;
}

bool
probe_on(enum probe_kind kind)
{
	(void)kind;
	return false;
}

void
probe_burst_fire(const struct sonde_stack *st, enum probe_kind kind, struct rte_mbuf *const *pkts,
		 uint16_t n, const struct sonde_if *ifp, struct sonde_if *const *out)
{
	(void)st, (void)kind, (void)pkts, (void)n, (void)ifp, (void)out;
}

void
probe_tcp_fire(const struct sonde_stack *st, enum probe_tcp_kind kind, const struct rte_mbuf *m,
	       const struct sonde_sock *s, unsigned flags)
{
	(void)st, (void)kind, (void)m, (void)s, (void)flags;
}

void
probe_tcp_state_fire(const struct sonde_stack *st, const struct sonde_sock *s, unsigned old_state)
{
	(void)st, (void)s, (void)old_state;
}

void
probe_udp_fire(const struct sonde_stack *st, enum probe_udp_kind kind, const struct rte_mbuf *m,
	       const struct sonde_sock *s)
{
	(void)st, (void)kind, (void)m, (void)s;
}

void
probe_sems_init(void)
{
}
