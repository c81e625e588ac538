/*
 * route.c: the routing tables, longest-prefix match with DPDK's rte_lpm
 * (IPv4) and rte_lpm6 (IPv6).  The LPM tables store a small next-hop index
 * per prefix; the next hops (gateway, interface) live in st->nh, shared by
 * every prefix of either family that uses them, counted so that the last
 * route to go frees its next hop.  rte_lpm cannot list its routes or
 * delete by next hop, so a list of the routes sits beside it (route.c's
 * own, read only by changes) for sonde_route_del and an interface that
 * goes away.  Every change ends in dst_invalidate().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

#include "ip.h"
#include "peer.h"
#include "stack.h"

struct route_ent {
	uint8_t dst[16]; /* masked; IPv4 in the first 4 bytes */
	uint8_t af, plen;
	uint32_t nh;
};

/* The list beside the LPM tables, per stack (st->routes). */
struct route_list {
	struct route_ent *ent;
	uint32_t n, max;
};

static struct route_list *
route_list(const struct sonde_stack *st)
{
	return st->routes;
}

static int
route_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	struct rte_lpm_config lc = { 0 };
	struct rte_lpm6_config lc6 = { 0 };
	char name[RTE_LPM_NAMESIZE];
	struct route_list *rl;

	st->default4 = st->default6 = -1;
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
	rl = rte_zmalloc("sonde_routes", sizeof(*rl), 0);
	if (st->nh == NULL || rl == NULL) {
		rte_free(rl);
		return -ENOMEM;
	}
	st->routes = rl;
	rl->max = 2 * lc.max_rules;
	rl->ent = rte_zmalloc("sonde_route_ent", sizeof(*rl->ent) * rl->max, 0);
	return rl->ent ? 0 : -ENOMEM;
}

static void
route_fini(struct sonde_stack *st)
{
	struct route_list *rl = route_list(st);

	rte_lpm_free(st->lpm4);
	rte_lpm6_free(st->lpm6);
	rte_free(st->nh);
	if (rl)
		rte_free(rl->ent);
	rte_free(rl);
	st->routes = NULL;
}

/* The index of next hop (af, gw, ifindex), made if new; -ENOSPC if full. */
static int
route_nh_get(struct sonde_stack *st, int af, const void *gw, uint16_t ifindex)
{
	struct route_nh want = { .af = (uint8_t)af, .ifindex = ifindex };
	uint32_t i, free_slot = UINT32_MAX;

	if (af == 4)
		memcpy(&want.gw4, gw, 4);
	else
		memcpy(want.gw6, gw, 16);
	for (i = 0; i < st->n_nh_max; i++) {
		const struct route_nh *h = &st->nh[i];

		if (h->refs && h->af == want.af && h->ifindex == ifindex && h->gw4 == want.gw4 &&
		    memcmp(h->gw6, want.gw6, 16) == 0)
			return (int)i;
		if (!h->refs && free_slot == UINT32_MAX)
			free_slot = i;
	}
	if (free_slot == UINT32_MAX)
		return -ENOSPC;
	st->nh[free_slot] = want;
	return (int)free_slot;
}

static struct route_ent *
route_find(const struct sonde_stack *st, int af, const uint8_t *dst, uint8_t plen)
{
	struct route_list *rl = route_list(st);

	for (uint32_t i = 0; i < rl->n; i++)
		if (rl->ent[i].af == af && rl->ent[i].plen == plen &&
		    memcmp(rl->ent[i].dst, dst, af == 4 ? 4 : 16) == 0)
			return &rl->ent[i];
	return NULL;
}

static void
route_mask(int af, const uint8_t *dst, uint8_t plen, uint8_t *out)
{
	memset(out, 0, 16);
	memcpy(out, dst, af == 4 ? 4 : 16);
	for (unsigned b = plen; b < (af == 4 ? 32u : 128u); b++)
		out[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
}

/* Into the LPM table (or the default beside it) with next hop index i. */
static int
route_lpm_add(struct sonde_stack *st, int af, const uint8_t *dst, uint8_t plen, int i)
{
	uint32_t d4;

	if (plen == 0) {
		/* rte_lpm refuses depth 0: the default route lives beside it. */
		*(af == 4 ? &st->default4 : &st->default6) = i;
		return 0;
	}
	if (af == 6)
		return rte_lpm6_add(st->lpm6, dst, plen, (uint32_t)i);
	memcpy(&d4, dst, 4);
	return rte_lpm_add(st->lpm4, rte_be_to_cpu_32(d4), plen, (uint32_t)i);
}

static int
route_add(struct sonde_stack *st, int af, const uint8_t *dst, uint8_t plen, const void *gw,
	  uint16_t ifindex)
{
	struct route_list *rl = route_list(st);
	struct route_ent *e;
	uint8_t net[16];
	int i, r;

	if (plen > (af == 4 ? 32 : 128))
		return -EINVAL;
	route_mask(af, dst, plen, net);
	e = route_find(st, af, net, plen);
	if (e == NULL && rl->n == rl->max)
		return -ENOSPC;
	i = route_nh_get(st, af, gw, ifindex);
	if (i < 0)
		return i;
	r = route_lpm_add(st, af, net, plen, i);
	if (r)
		return r;
	st->nh[i].refs++;
	if (e != NULL) {
		/* Replaced: the old next hop loses a route. */
		st->nh[e->nh].refs--;
	} else {
		e = &rl->ent[rl->n++];
		memcpy(e->dst, net, 16);
		e->af = (uint8_t)af;
		e->plen = plen;
	}
	e->nh = (uint32_t)i;
	dst_invalidate(st);
	return 0;
}

int
route4_add(struct sonde_stack *st, uint32_t dst, uint8_t plen, uint32_t gw, uint16_t ifindex)
{
	return route_add(st, 4, (const uint8_t *)&dst, plen, &gw, ifindex);
}

int
route6_add(struct sonde_stack *st, const uint8_t *dst, uint8_t plen, const uint8_t *gw,
	   uint16_t ifindex)
{
	return route_add(st, 6, dst, plen, gw, ifindex);
}

int
route_del(struct sonde_stack *st, int af, const uint8_t *dst, uint8_t plen)
{
	struct route_list *rl = route_list(st);
	struct route_ent *e;
	uint8_t net[16];
	uint32_t d4;

	if (plen > (af == 4 ? 32 : 128))
		return -EINVAL;
	route_mask(af, dst, plen, net);
	e = route_find(st, af, net, plen);
	if (e == NULL)
		return -ESRCH;
	if (plen == 0) {
		*(af == 4 ? &st->default4 : &st->default6) = -1;
	} else if (af == 6) {
		rte_lpm6_delete(st->lpm6, net, plen);
	} else {
		memcpy(&d4, net, 4);
		rte_lpm_delete(st->lpm4, rte_be_to_cpu_32(d4), plen);
	}
	st->nh[e->nh].refs--;
	*e = rl->ent[--rl->n];
	dst_invalidate(st);
	return 0;
}

void
route_del_if(struct sonde_stack *st, uint16_t ifindex)
{
	struct route_list *rl = route_list(st);

	for (uint32_t i = 0; i < rl->n;) {
		struct route_ent *e = &rl->ent[i];

		if (st->nh[e->nh].ifindex == ifindex)
			route_del(st, e->af, e->dst, e->plen); /* moves the last into i */
		else
			i++;
	}
}

const struct route_nh *
route6_lookup(const struct sonde_stack *st, const uint8_t *dst)
{
	uint32_t idx;

	if (rte_lpm6_lookup(st->lpm6, dst, &idx) == 0)
		return &st->nh[idx];
	return st->default6 >= 0 ? &st->nh[st->default6] : NULL;
}

/* The default route's family is the gateway's: "default" parses as
 * AF_UNSPEC (sonde_prefix_parse). */
static int
route_dst_family(const struct sonde_prefix *dst, const struct sonde_prefix *gw)
{
	if (dst->af == AF_UNSPEC)
		return gw->af;
	return dst->af == gw->af ? dst->af : -1;
}

int
sonde_route_add(struct sonde_stack *st, const struct sonde_prefix *dst,
		const struct sonde_prefix *gw)
{
	static const uint8_t zero[16];
	const struct route_nh *nh;
	int af = route_dst_family(dst, gw), r;

	if (dst->af == AF_UNSPEC && dst->plen != 0)
		return -EINVAL; /* only "default" has no family */
	if (af != AF_INET && af != AF_INET6)
		return -EAFNOSUPPORT;
	/* The gateway must be on-link: reachable by a connected route. */
	if (af == AF_INET) {
		nh = route4_lookup(st, gw->addr.v4);
		if (nh == NULL || nh->gw4 != 0)
			return -ENETUNREACH;
		r = route4_add(st, dst->addr.v4, dst->plen, gw->addr.v4, nh->ifindex);
	} else {
		if (ipv6_addr_is_linklocal(gw->addr.v6))
			return -EINVAL; /* a link-local gateway needs an interface: not yet */
		nh = route6_lookup(st, gw->addr.v6);
		if (nh == NULL || memcmp(nh->gw6, zero, 16) != 0)
			return -ENETUNREACH;
		r = route6_add(st, dst->addr.v6, dst->plen, gw->addr.v6, nh->ifindex);
	}
	if (r == 0)
		peer_post_cmd(st, PEER_ROUTE_ADD, -1, dst, gw);
	return r;
}

int
sonde_route_del(struct sonde_stack *st, const struct sonde_prefix *dst)
{
	int r;

	if (dst->af != AF_INET && dst->af != AF_INET6)
		return -EAFNOSUPPORT;
	r = route_del(st, dst->af == AF_INET ? 4 : 6,
		      dst->af == AF_INET ? (const uint8_t *)&dst->addr.v4 : dst->addr.v6,
		      dst->plen);
	if (r == 0)
		peer_post_cmd(st, PEER_ROUTE_DEL, -1, dst, NULL);
	return r;
}

static void
route_if_detach(struct sonde_stack *st, struct sonde_if *ifp)
{
	route_del_if(st, ifp->index);
}

const struct sonde_layer route_layer = {
	.name = "route",
	.init = route_init,
	.fini = route_fini,
	.if_detach = route_if_detach,
};
