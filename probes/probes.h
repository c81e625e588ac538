/*
 * probes.h: where the stack fires its USDT probes.
 *
 * Each probe_*() is an inline test of the probes' semaphores; only when a
 * consumer is attached does probe_fire() fill the argument structs of
 * ip_provider.h and fire the ip and ipv4/ipv6 probes.  With -Dprobes=false
 * the generated header makes every _ENABLED() the constant 0 and all of this
 * compiles away.
 */
#ifndef SONDE_PROBES_H
#define SONDE_PROBES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "sonde_probes.h" /* generated from provider.d */
#include "stack.h"

struct rte_mbuf;
struct sonde_stack;
struct sonde_if;

enum probe_kind {
	PROBE_SEND,
	PROBE_RECEIVE,
	PROBE_LOCAL_SEND,
	PROBE_LOCAL_RECEIVE,
	PROBE_READ,
	PROBE_WRITE,
	PROBE_DROP_IN,
	PROBE_DROP_OUT,
};

/* m's data starts at the IP header; the family is read from the header's
 * version nibble (or fam, 4 or 6, when the header is too damaged to say);
 * the connection, if any, from its pkt_meta. */
void probe_fire(const struct sonde_stack *st, enum probe_kind kind, const struct rte_mbuf *m,
		const struct sonde_if *ifp, int fam, const char *reason);

/* Bitwise, not logical, or: the semaphores are plain loads, and a chain of
 * branches costs more than reading them all. */
#define PROBE_SEND_ON() (!!(IP_SEND_ENABLED() | IPV4_SEND_ENABLED() | IPV6_SEND_ENABLED()))
#define PROBE_RECEIVE_ON() \
	(!!(IP_RECEIVE_ENABLED() | IPV4_RECEIVE_ENABLED() | IPV6_RECEIVE_ENABLED()))
#define PROBE_LOCAL_SEND_ON() \
	(!!(IP_LOCAL_SEND_ENABLED() | IPV4_LOCAL_SEND_ENABLED() | IPV6_LOCAL_SEND_ENABLED()))
#define PROBE_LOCAL_RECEIVE_ON()                                        \
	(!!(IP_LOCAL_RECEIVE_ENABLED() | IPV4_LOCAL_RECEIVE_ENABLED() | \
	    IPV6_LOCAL_RECEIVE_ENABLED()))
#define PROBE_READ_ON() (!!(IPV4_READ_ENABLED() | IPV6_READ_ENABLED()))
#define PROBE_WRITE_ON() (!!(IPV4_WRITE_ENABLED() | IPV6_WRITE_ENABLED()))
#define PROBE_DROP_IN_ON() (!!(IPV4_DROP_IN_ENABLED() | IPV6_DROP_IN_ENABLED()))
#define PROBE_DROP_OUT_ON() (!!(IPV4_DROP_OUT_ENABLED() | IPV6_DROP_OUT_ENABLED()))

#define PROBE_ANY_ON()                                                                             \
	(PROBE_SEND_ON() | PROBE_RECEIVE_ON() | PROBE_LOCAL_SEND_ON() | PROBE_LOCAL_RECEIVE_ON() | \
	 PROBE_READ_ON() | PROBE_WRITE_ON() | PROBE_DROP_IN_ON() | PROBE_DROP_OUT_ON())

/* The gate: whether any probe is switched on, read from the semaphores once
 * per sonde_poll() (probe_gate_update), so that while nobody traces a
 * packet pays one test of a hot byte per site instead of two or three
 * semaphore loads.  A tracer that attaches is seen from the next poll on. */
static inline bool
probe_gate(const struct sonde_stack *st)
{
	return st->probes_on;
}

#ifdef _SDT_HAS_SEMAPHORES
/* The probes' semaphores, 2 bytes each, when `dtrace -G` laid them out as
 * one block (it does: one object, one after the other), else NULL:
 * probe_sems_init() checks.  The gate then reads them a word at a time,
 * not one by one (a tenth of the instructions, every poll). */
#define PROBE_SEM_WORDS 5 /* 20 probes, 40 bytes */
extern const uint8_t *probe_sem_block;
#endif
void probe_sems_init(void);

static inline void
probe_gate_update(struct sonde_stack *st)
{
#ifdef _SDT_HAS_SEMAPHORES
	const uint8_t *b = probe_sem_block;

	if (likely(b != NULL)) {
		uint64_t w[PROBE_SEM_WORDS], any = 0;

		/* The kernel writes them when a tracer comes or goes. */
		__asm__ volatile("" ::: "memory");
		memcpy(w, b, sizeof(w));
		for (unsigned i = 0; i < PROBE_SEM_WORDS; i++)
			any |= w[i];
		st->probes_on = any != 0;
		return;
	}
#endif
	st->probes_on = PROBE_ANY_ON();
}

#define SONDE_PROBE_SITE(fn, KIND, ON)                                                \
	static inline void fn(const struct sonde_stack *st, const struct rte_mbuf *m, \
			      const struct sonde_if *ifp)                             \
	{                                                                             \
		if (unlikely(probe_gate(st)) && ON())                                 \
			probe_fire(st, KIND, m, ifp, 0, NULL);                        \
	}

SONDE_PROBE_SITE(probe_send, PROBE_SEND, PROBE_SEND_ON)
SONDE_PROBE_SITE(probe_receive, PROBE_RECEIVE, PROBE_RECEIVE_ON)
SONDE_PROBE_SITE(probe_local_send, PROBE_LOCAL_SEND, PROBE_LOCAL_SEND_ON)
SONDE_PROBE_SITE(probe_local_receive, PROBE_LOCAL_RECEIVE, PROBE_LOCAL_RECEIVE_ON)
SONDE_PROBE_SITE(probe_read, PROBE_READ, PROBE_READ_ON)
SONDE_PROBE_SITE(probe_write, PROBE_WRITE, PROBE_WRITE_ON)

/* Whether probe kind is switched on (its semaphores). */
bool probe_on(enum probe_kind kind);

/* A burst's probe site: one test of the gate for the whole burst, and only
 * when someone traces, the probe for each packet, all on interface ifp
 * (out == NULL) or each on out[i].  The burst's order is the firing order. */
void probe_burst_fire(const struct sonde_stack *st, enum probe_kind kind,
		      struct rte_mbuf *const *pkts, uint16_t n, const struct sonde_if *ifp,
		      struct sonde_if *const *out);

static __rte_always_inline void
probe_burst_if(const struct sonde_stack *st, enum probe_kind kind, struct rte_mbuf *const *pkts,
	       uint16_t n, const struct sonde_if *ifp)
{
	if (unlikely(probe_gate(st)))
		probe_burst_fire(st, kind, pkts, n, ifp, NULL);
}

static __rte_always_inline void
probe_burst_out(const struct sonde_stack *st, enum probe_kind kind, struct rte_mbuf *const *pkts,
		uint16_t n, struct sonde_if *const *out)
{
	if (unlikely(probe_gate(st)))
		probe_burst_fire(st, kind, pkts, n, NULL, out);
}

#endif
