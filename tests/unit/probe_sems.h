/*
 * probe_sems.h: every probe's semaphore (sonde_probes.h, made from
 * provider.d), for the tests that turn the probes on themselves, as a
 * tracer (bpftrace) does when it attaches: test_probes.c and the fuzz
 * target.  With the probes compiled out there are none, and
 * PROBE_SEMAPHORES is not defined.
 */
#ifndef SONDE_PROBE_SEMS_H
#define SONDE_PROBE_SEMS_H

#include <stddef.h>

#include "sonde_probes.h"

#ifdef _SDT_HAS_SEMAPHORES
#define PROBE_SEMAPHORES 1

static unsigned short *const probe_semaphores[] = {
	&ip_send_semaphore,	     &ip_receive_semaphore,
	&ip_local__send_semaphore,   &ip_local__receive_semaphore,
	&ipv4_send_semaphore,	     &ipv4_receive_semaphore,
	&ipv4_local__send_semaphore, &ipv4_local__receive_semaphore,
	&ipv4_drop__in_semaphore,    &ipv4_drop__out_semaphore,
	&ipv4_read_semaphore,	     &ipv4_write_semaphore,
	&ipv6_send_semaphore,	     &ipv6_receive_semaphore,
	&ipv6_local__send_semaphore, &ipv6_local__receive_semaphore,
	&ipv6_drop__in_semaphore,    &ipv6_drop__out_semaphore,
	&ipv6_read_semaphore,	     &ipv6_write_semaphore,
};

/* Every probe on (1) or off (0): the stack sees it from its next poll. */
static inline void
probes_enable(unsigned short on)
{
	for (size_t i = 0; i < sizeof(probe_semaphores) / sizeof(probe_semaphores[0]); i++)
		*probe_semaphores[i] = on;
}
#endif

#endif
