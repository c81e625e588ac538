/*
 * probes_off.c: probe_fire() for a build with probes compiled out
 * (-Dprobes=false).  Every call site is behind a constant-false _ENABLED(),
 * so this is never called; it exists so unoptimised builds still link.
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
probe_sems_init(void)
{
}
