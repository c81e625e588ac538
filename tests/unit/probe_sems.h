/*
 * probe_sems.h: every probe's semaphore (sonde_probes.h, made from
 * provider.d, and its list, sonde_probes_list.h), for the tests that turn
 * the probes on themselves, as a tracer (bpftrace) does when it attaches:
 * test_probes.c and the fuzz target.  With the probes compiled out there
 * are none, and PROBE_SEMAPHORES is not defined.
 */
#ifndef SONDE_PROBE_SEMS_H
#define SONDE_PROBE_SEMS_H

#include <stddef.h>

#include "sonde_probes.h"
#include "sonde_probes_list.h"

#ifdef _SDT_HAS_SEMAPHORES
#define PROBE_SEMAPHORES 1

#define PROBE_SEMAPHORE_ADDR(prov, name, MACRO) &prov##_##name##_semaphore,
static unsigned short *const probe_semaphores[] = { SONDE_PROBE_LIST(PROBE_SEMAPHORE_ADDR) };
#undef PROBE_SEMAPHORE_ADDR

/* Every probe on (1) or off (0): the stack sees it from its next poll. */
static inline void
probes_enable(unsigned short on)
{
	for (size_t i = 0; i < sizeof(probe_semaphores) / sizeof(probe_semaphores[0]); i++)
		*probe_semaphores[i] = on;
}
#endif

#endif
