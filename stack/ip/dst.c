/*
 * dst.c: the destination cache (struct dst in stack.h), what the tables
 * say of an address: whether it is ours or a broadcast, which interface a
 * packet to it leaves by, whether that interface can send at once (its
 * next hop resolved), and how big the packet may be.
 *
 * Filled here from the real tables on a miss; the lookups (dst4, dst6)
 * are inline in stack.h.  Every change to what a fill reads ends in
 * dst_invalidate(): addresses (addr.c, nd6.c's DAD), routes (route.c),
 * neighbours (neigh.c), path MTUs (icmp6.c) and interfaces (iface.c).
 */
#include <string.h>

#include "ip.h"
#include "stack.h"

/* Where a packet to a leaves, its next hop into nh. */
static struct sonde_if *
dst_route4(struct sonde_stack *st, uint32_t a, uint8_t *nh)
{
	const struct route_nh *r = route4_lookup(st, a);

	if (r == NULL)
		return NULL;
	memcpy(nh, r->gw4 ? &r->gw4 : &a, 4);
	return stack_if(st, r->ifindex);
}

static void
dst_fill4(struct sonde_stack *st, struct dst *d, uint32_t a)
{
	uint8_t nh[16] = { 0 };

	if (ipv4_is_local(st, a) || IN_LOOPBACK_H(rte_be_to_cpu_32(a))) {
		d->flags = DST_LOCAL;
		d->out = st->lo;
	} else {
		d->out = dst_route4(st, a, nh);
	}
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i] != NULL && ipv4_is_broadcast(st, st->ifs[i], a))
			d->ifmask |= 1ull << i;
	if (d->out != NULL) {
		d->flags |= DST_ROUTE;
		d->mtu = d->out->mtu;
		if (d->out->kind->resolve(st, d->out, 4, d->flags & DST_LOCAL ? (uint8_t *)&a : nh,
					  &d->l2))
			d->flags |= DST_READY;
	}
}

static void
dst_fill6(struct sonde_stack *st, struct dst *d, const uint8_t *a, uint16_t scope)
{
	uint8_t nh[16];

	memcpy(nh, a, 16);
	if (ipv6_is_local(st, a) || ipv6_addr_is_loopback(a)) {
		d->flags = DST_LOCAL;
		d->out = st->lo;
	} else if (ipv6_addr_is_linklocal(a) || ipv6_addr_is_multicast(a)) {
		d->out = scope != SONDE_IF_NONE ? stack_if(st, scope) : NULL;
	} else {
		d->out = ipv6_route(st, a, -1, nh);
	}
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i] != NULL && ipv6_if_find_addr(st->ifs[i], a) != NULL)
			d->ifmask |= 1ull << i;
	if (d->out != NULL) {
		d->flags |= DST_ROUTE;
		d->mtu = RTE_MIN((uint32_t)d->out->mtu, pmtu6_get(st, a));
		if (d->out->kind->resolve(st, d->out, 6, nh, &d->l2))
			d->flags |= DST_READY;
	}
}

/* Into slot i, or its other way if that is free or i is in use (the one in
 * i moves over): two addresses that share a slot pair both stay. */
__rte_noinline const struct dst *
dst_fill(struct sonde_stack *st, uint32_t i, uint32_t tag, const uint8_t *addr)
{
	struct dst *d = &st->dst[i], *alt = &st->dst[i ^ 1];
	uint32_t a4;

	st->stats.dst_misses++;
	if (d->gen == st->dst_gen) {
		if (alt->gen == st->dst_gen)
			*alt = *d;
		else
			d = alt;
	}
	memset(d, 0, sizeof(*d));
	d->gen = st->dst_gen;
	d->tag = tag;
	if ((tag & 0xff) == 4) {
		memcpy(&a4, addr, 4);
		memcpy(d->addr, addr, 4);
		dst_fill4(st, d, a4);
	} else {
		memcpy(d->addr, addr, 16);
		dst_fill6(st, d, addr, (uint16_t)(tag >> 8));
	}
	return d;
}
