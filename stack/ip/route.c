/*
 * route.c: the routing tables, longest-prefix match with DPDK's rte_lpm
 * (IPv4) and rte_lpm6 (IPv6).  The LPM tables store a small next-hop index
 * per prefix; the next hops (gateway, interface) live in st->nh, shared by
 * every prefix of either family that uses them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

#include "stack.h"

int
route_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	struct rte_lpm_config lc = { 0 };
	struct rte_lpm6_config lc6 = { 0 };
	char name[RTE_LPM_NAMESIZE];

	st->default4 = st->default6 = -1;
	st->route_gen = 1; /* the cache's zeroed slots are not valid */
	lc.max_rules = conf->routes ? conf->routes : 1024;
	lc.number_tbl8s = 256;
	snprintf(name, sizeof(name), "sl4_%u_%x", st->id, (unsigned)(uintptr_t)st);
	st->lpm4 = rte_lpm_create(name, (int)rte_socket_id(), &lc);
	if (st->lpm4 == NULL)
		return -rte_errno;
	lc6.max_rules = lc.max_rules;
	lc6.number_tbl8s = 1024;
	snprintf(name, sizeof(name), "sl6_%u_%x", st->id, (unsigned)(uintptr_t)st);
	st->lpm6 = rte_lpm6_create(name, (int)rte_socket_id(), &lc6);
	if (st->lpm6 == NULL)
		return -rte_errno;
	/* Every route may have its own next hop. */
	st->n_nh_max = 2 * lc.max_rules;
	st->nh = rte_zmalloc("sonde_nh", sizeof(*st->nh) * st->n_nh_max, 0);
	return st->nh ? 0 : -ENOMEM;
}

void
route_fini(struct sonde_stack *st)
{
	rte_lpm_free(st->lpm4);
	rte_lpm6_free(st->lpm6);
	rte_free(st->nh);
}

/* The index of next hop (af, gw, ifindex), made if new; -ENOSPC if full. */
static int
route_nh_get(struct sonde_stack *st, int af, const void *gw, uint16_t ifindex)
{
	struct route_nh want = { .af = (uint8_t)af, .ifindex = ifindex, .used = true };
	uint32_t i, free_slot = UINT32_MAX;

	if (af == 4)
		memcpy(&want.gw4, gw, 4);
	else
		memcpy(want.gw6, gw, 16);
	for (i = 0; i < st->n_nh_max; i++) {
		const struct route_nh *h = &st->nh[i];

		if (h->used && h->af == want.af && h->ifindex == ifindex && h->gw4 == want.gw4 &&
		    memcmp(h->gw6, want.gw6, 16) == 0)
			return (int)i;
		if (!h->used && free_slot == UINT32_MAX)
			free_slot = i;
	}
	if (free_slot == UINT32_MAX)
		return -ENOSPC;
	st->nh[free_slot] = want;
	return (int)free_slot;
}

int
route4_add(struct sonde_stack *st, uint32_t dst, uint8_t plen, uint32_t gw, uint16_t ifindex)
{
	uint32_t mask = plen ? rte_cpu_to_be_32(~0u << (32 - plen)) : 0;
	int i;

	if (plen > 32)
		return -EINVAL;
	i = route_nh_get(st, 4, &gw, ifindex);
	if (i < 0)
		return i;
	fast_stale(st);
	if (plen == 0) {
		/* rte_lpm refuses depth 0: the default route lives beside it. */
		st->default4 = i;
		return 0;
	}
	return rte_lpm_add(st->lpm4, rte_be_to_cpu_32(dst & mask), plen, (uint32_t)i);
}

int
route6_add(struct sonde_stack *st, const uint8_t *dst, uint8_t plen, const uint8_t *gw,
	   uint16_t ifindex)
{
	int i;

	if (plen > 128)
		return -EINVAL;
	i = route_nh_get(st, 6, gw, ifindex);
	if (i < 0)
		return i;
	st->route_gen++; /* route6_lookup's cache is stale */
	fast_stale(st);
	if (plen == 0) {
		st->default6 = i; /* as in route4_add() */
		return 0;
	}
	/* rte_lpm6 masks the prefix itself. */
	return rte_lpm6_add(st->lpm6, dst, plen, (uint32_t)i);
}

/* route6_lookup()'s cache missed: rte_lpm6, and the answer into slot c. */
__rte_noinline const struct route_nh *
route6_lookup_slow(struct sonde_stack *st, struct route6_cache *c, const uint8_t *dst)
{
	uint32_t idx;

	if (rte_lpm6_lookup(st->lpm6, dst, &idx) == 0)
		c->nh = (int32_t)idx;
	else
		c->nh = st->default6;
	memcpy(c->dst, dst, 16);
	c->gen = st->route_gen;
	return c->nh >= 0 ? &st->nh[c->nh] : NULL;
}
