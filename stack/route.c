/*
 * route.c: the IPv4 routing table, longest-prefix match with DPDK's rte_lpm.
 * rte_lpm stores a small next-hop index per prefix; the next hops (gateway,
 * interface) live in st->nh4, shared by every prefix that uses them.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_malloc.h>

#include "stack.h"

int
route4_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	struct rte_lpm_config lc = { 0 };
	char name[RTE_LPM_NAMESIZE];

	lc.max_rules = conf->routes ? conf->routes : 1024;
	lc.number_tbl8s = 256;
	snprintf(name, sizeof(name), "sonde_lpm%u_%p", st->id, (void *)st);
	st->lpm4 = rte_lpm_create(name, (int)rte_socket_id(), &lc);
	if (st->lpm4 == NULL)
		return -rte_errno;
	st->n_nh4_max = lc.max_rules;
	st->nh4 = rte_zmalloc("sonde_nh4", sizeof(*st->nh4) * st->n_nh4_max, 0);
	return st->nh4 ? 0 : -ENOMEM;
}

void
route4_fini(struct sonde_stack *st)
{
	rte_lpm_free(st->lpm4);
	rte_free(st->nh4);
}

int
route4_add(struct sonde_stack *st, uint32_t dst, uint8_t plen, uint32_t gw, uint16_t ifindex)
{
	uint32_t i, free_slot = UINT32_MAX;
	uint32_t mask = plen ? rte_cpu_to_be_32(~0u << (32 - plen)) : 0;

	if (plen > 32)
		return -EINVAL;
	for (i = 0; i < st->n_nh4_max; i++) {
		if (st->nh4[i].used && st->nh4[i].gw == gw && st->nh4[i].ifindex == ifindex)
			break;
		if (!st->nh4[i].used && free_slot == UINT32_MAX)
			free_slot = i;
	}
	if (i == st->n_nh4_max) {
		if (free_slot == UINT32_MAX)
			return -ENOSPC;
		i = free_slot;
		st->nh4[i] = (struct route4_nh){ .gw = gw, .ifindex = ifindex, .used = true };
	}
	if (plen == 0) {
		/* rte_lpm refuses depth 0: the default route lives beside it. */
		st->has_default4 = true;
		st->default4 = i;
		return 0;
	}
	return rte_lpm_add(st->lpm4, rte_be_to_cpu_32(dst & mask), plen, i);
}

const struct route4_nh *
route4_lookup(const struct sonde_stack *st, uint32_t dst)
{
	uint32_t idx;

	if (rte_lpm_lookup(st->lpm4, rte_be_to_cpu_32(dst), &idx) == 0)
		return &st->nh4[idx];
	return st->has_default4 ? &st->nh4[st->default4] : NULL;
}
