/*
 * neigh.h: one neighbour table for ARP (IPv4) and Neighbor Discovery (IPv6).
 *
 * The state machine is RFC 4861 7.3.2's, for both families (as in Linux):
 * INCOMPLETE while we solicit, REACHABLE when confirmed, STALE when
 * confirmation is old or the neighbour only spoke to us, DELAY then PROBE
 * when a STALE entry is used.  A family supplies how to solicit and which
 * drop reasons to use; the table does the rest: lookup, queueing while
 * resolving (bounded, oldest dropped first), timers, limits.
 */
#ifndef SONDE_NEIGH_H
#define SONDE_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "drop.h"
#include "timer.h"
#include "wire.h"
#include "wire6.h"

struct rte_hash;
struct rte_mbuf;
struct sonde_if;
struct sonde_stack;

enum neigh_state {
	NEIGH_FREE,
	NEIGH_INCOMPLETE,
	NEIGH_REACHABLE,
	NEIGH_STALE,
	NEIGH_DELAY,
	NEIGH_PROBE,
	NEIGH_PERMANENT, /* set by the application (sonde_neigh_add): no timer, no packet changes it
			  */
};

struct neigh_key {
	uint8_t addr[16]; /* IPv4 in the first 4 bytes, network order */
	uint16_t ifindex;
	uint8_t af; /* 4 or 6 */
	uint8_t pad;
};

struct neigh_entry {
	struct neigh_key key;
	enum neigh_state state;
	uint8_t mac[ETH_ADDR_LEN];
	uint8_t probes;	    /* solicitations sent in this state */
	bool router;	    /* IPv6: the IsRouter flag */
	uint64_t deadline;  /* ns: when the state's timer fires; 0 or UINT64_MAX: never */
	struct timer timer; /* on the stack's wheel, at deadline */
	struct rte_mbuf **q;
	uint32_t qlen;
};

/* What a family brings to the table. */
struct neigh_family {
	/* Sends a solicitation for e on ifp: to mac when unicast (NUD), else
	 * multicast/broadcast. */
	void (*solicit)(struct sonde_stack *st, struct sonde_if *ifp, const struct neigh_entry *e,
			const uint8_t *mac);
	enum drop_reason drop_unresolved, drop_queue_full, drop_table_full;
};

#define NEIGH_CACHE_SLOTS 64 /* power of two */

struct neigh_table {
	struct rte_hash *hash;
	struct neigh_entry *cache[NEIGH_CACHE_SLOTS]; /* recent lookups, by a hash of the key */
	struct neigh_entry *entries;		      /* indexed by the hash's key position */
	struct rte_mbuf **qstore;		      /* queue_max held packets per entry */
	uint32_t size, n_slots, queue_max;
	uint64_t reachable_ns, retrans_ns, delay_ns;
	uint32_t used;
};

struct neigh_entry *neigh_lookup_slow(struct sonde_stack *st, uint16_t ifindex, int af,
				      const void *addr);

/* The cache slot for (ifindex, af, addr): a fold of the address words, read
 * straight from addr in fixed-size loads (a key built on the stack and read
 * back in other widths stalls store forwarding: perf showed it). */
static inline uint32_t
neigh_cache_slot(uint16_t ifindex, int af, const uint8_t *addr)
{
	uint32_t h = wire_load32(addr) ^ ifindex;

	if (af == 6)
		h ^= wire_load32(addr + 4) ^ wire_load32(addr + 8) ^ wire_load32(addr + 12);
	h ^= h >> 16;
	return (h ^ h >> 8) & (NEIGH_CACHE_SLOTS - 1);
}

static inline bool
neigh_entry_is(const struct neigh_entry *e, uint16_t ifindex, int af, const uint8_t *addr)
{
	if (e->state == NEIGH_FREE || e->key.ifindex != ifindex || e->key.af != af)
		return false;
	if (af == 6)
		return ipv6_addr_eq(e->key.addr, addr);
	return wire_load32(e->key.addr) == wire_load32(addr);
}
/* Sends m (data at the IP header) to next hop addr on ifp, resolving first
 * when needed.  Consumes m. */
void neigh_output(struct sonde_stack *st, const struct neigh_family *fam, struct sonde_if *ifp,
		  struct rte_mbuf *m, int af, const void *addr);

/* What a received packet says about a neighbour (RFC 4861 7.2.5 and 7.2.3;
 * ARP maps onto it): */
enum neigh_news {
	NEIGH_NEWS_CONFIRMED, /* a solicited answer: REACHABLE */
	NEIGH_NEWS_HEARD,     /* it spoke to us with its address: STALE if new or changed */
	NEIGH_NEWS_OVERRIDE,  /* an unsolicited advertisement with Override: STALE if changed */
};
/* Updates (or, with create, makes) the entry for addr with mac; releases
 * the packets it held.  Returns the entry or NULL. */
struct neigh_entry *neigh_update(struct sonde_stack *st, struct sonde_if *ifp, int af,
				 const void *addr, const uint8_t *mac, enum neigh_news news,
				 bool create);
/* The family an entry was made by. */
const struct neigh_family *neigh_family_of(int af);
/* RFC 4861 7.2.5: an advertisement that may not override only makes a
 * REACHABLE entry STALE. */
void neigh_doubt(struct sonde_stack *st, struct neigh_entry *e);

#endif
