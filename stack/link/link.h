/*
 * link.h: the link layer: Ethernet (the kind of every DPDK port and driver
 * interface), ARP and Neighbor Discovery over one neighbour table
 * (neigh.h).  Private to libsonde.
 */
#ifndef SONDE_LINK_H
#define SONDE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "stack.h"

/* The entry for (ifindex, af, addr), or NULL: the cache first, inline; the
 * hash table on a miss. */
static __rte_always_inline struct neigh_entry *
neigh_lookup(struct sonde_stack *st, uint16_t ifindex, int af, const void *addr)
{
	struct neigh_entry *e = st->neigh.cache[neigh_cache_slot(ifindex, af, addr)];

	if (likely(e != NULL && neigh_entry_is(e, ifindex, af, addr)))
		return e;
	return neigh_lookup_slow(st, ifindex, af, addr);
}

/* eth.c */
extern const struct if_kind eth_kind;
/* Sends IP packet m (data at the IP header) to neighbour MAC dst on ifp:
 * fires send, prepends the Ethernet header and queues the frame. */
void eth_output_ip(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
		   const uint8_t *dst);
const uint8_t *eth_broadcast_addr(void);

/* arp.c */
extern const struct neigh_family arp_family;
void arp_announce(struct sonde_stack *st, struct sonde_if *ifp, uint32_t addr);

/* nd6.c */
extern const struct neigh_family nd6_family;
void nd6_dad_start(struct sonde_stack *st, struct sonde_if *ifp, struct sonde_if_addr6 *a);
/* The address goes (or its interface): no verdict is waited for any more. */
void nd6_dad_cancel(struct sonde_stack *st, struct sonde_if *ifp, struct sonde_if_addr6 *a);
/* A sibling stack's news (peer.c): an advertisement for target (tllao NULL
 * when it had no link-layer address option) with flags ND_NA_FLAG_*, and
 * the verdict of DAD on addr. */
void nd6_na_peer(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *target,
		 const uint8_t *tllao, uint32_t flags);
void nd6_dad_peer(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *addr,
		  bool duplicate);

/* The layers this folder gives the stack (stack/layers.c). */
extern const struct sonde_layer eth_layer, neigh_layer, arp_layer, nd6_layer;

#endif
