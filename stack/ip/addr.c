/*
 * addr.c: the addresses of the interfaces, both families: adding and
 * removing them (with their connected routes), the per-stack arrays of
 * usable addresses, source address selection and the multicast groups an
 * interface has joined.
 *
 * RFC 1122 3.3.4 (multihoming, the weak host model), RFC 4291 (IPv6
 * addresses, 2.5.1 and appendix A: link-local from the MAC, 2.7 the
 * multicast groups), RFC 4862 5.4 (tentative addresses, DAD: nd6.c),
 * RFC 5227 2.3 (an IPv4 address announced), RFC 6724 (source selection,
 * simplified).
 */
#include <errno.h>
#include <string.h>

#include "ip.h"
#include "link.h"
#include "peer.h"
#include "probes.h"
#include "stack.h"

const uint8_t ipv6_all_nodes[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t ipv6_all_nodes_if[16] = {
	0xff, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};
static const uint8_t ipv6_all_routers[16] = {
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2
};

static void
addr_maybe(uint64_t *bits, uint32_t h)
{
	bits[h >> 6 & 3] |= 1ull << (h & 63);
}

void
ipv4_local_rebuild(struct sonde_stack *st)
{
	dst_invalidate(st);
	st->n_local4 = 0;
	memset(st->maybe_local4, 0, sizeof(st->maybe_local4));
	addr_maybe(st->maybe_local4, dst_hash4(0xffffffff));
	for (unsigned i = 0; i < st->n_ifs; i++)
		for (unsigned j = 0; st->ifs[i] != NULL && j < st->ifs[i]->n_v4; j++) {
			const struct sonde_if_addr4 *a = &st->ifs[i]->v4[j];

			st->local4[st->n_local4++] = a->addr;
			addr_maybe(st->maybe_local4, dst_hash4(a->addr));
			addr_maybe(st->maybe_local4, dst_hash4(a->bcast));
		}
}

/* Every change of an IPv6 address's state ends here: ipv6_is_local()
 * reads the usable addresses from one array instead of every interface's
 * list. */
void
ipv6_local_rebuild(struct sonde_stack *st)
{
	dst_invalidate(st);
	st->n_local6 = 0;
	memset(st->maybe_local6, 0, sizeof(st->maybe_local6));
	/* Global addresses first: most packets to us are to one, and the
	 * scan stops at the first match. */
	for (int ll = 0; ll < 2; ll++)
		for (unsigned i = 0; i < st->n_ifs; i++)
			for (unsigned j = 0; st->ifs[i] != NULL && j < st->ifs[i]->n_v6; j++) {
				const uint8_t *a = st->ifs[i]->v6[j].addr;

				if (st->ifs[i]->v6[j].state != ADDR6_PREFERRED ||
				    ipv6_addr_is_linklocal(a) != ll)
					continue;
				memcpy(st->local6[st->n_local6++], a, 16);
				addr_maybe(st->maybe_local6, maybe_hash6(a));
			}
}

uint32_t
ipv4_if_addr(const struct sonde_if *ifp, uint32_t peer)
{
	if (ifp == NULL || ifp->n_v4 == 0)
		return 0;
	for (unsigned j = 0; j < ifp->n_v4; j++)
		if ((peer & ifp->v4[j].mask) == (ifp->v4[j].addr & ifp->v4[j].mask))
			return ifp->v4[j].addr;
	return ifp->v4[0].addr;
}

/* A multicast group ifp has joined: all-nodes, the solicited-node group of
 * each of its addresses (tentative ones too, RFC 4862 5.4.2), all-routers
 * when forwarding. */
bool
ipv6_if_joined(const struct sonde_stack *st, const struct sonde_if *ifp, const uint8_t *a)
{
	uint8_t sn[16];

	if (ipv6_addr_eq(a, ipv6_all_nodes) || ipv6_addr_eq(a, ipv6_all_nodes_if))
		return true;
	if (st->forwarding && ipv6_addr_eq(a, ipv6_all_routers))
		return true;
	for (unsigned j = 0; j < ifp->n_v6; j++) {
		ipv6_solicited_node(sn, ifp->v6[j].addr);
		if (ipv6_addr_eq(sn, a))
			return true;
	}
	return false;
}

/* RFC 6724, simplified: a link-local destination gets our link-local
 * address; others the longest match among ifp's global addresses, then any
 * global one, then the link-local.  Returns false if ifp has none usable. */
bool
ipv6_select_source(const struct sonde_if *ifp, const uint8_t *dst, uint8_t *src)
{
	const struct sonde_if_addr6 *ll = NULL, *best = NULL;
	int best_len = -1;

	if (ifp == NULL)
		return false;
	for (unsigned j = 0; j < ifp->n_v6; j++) {
		const struct sonde_if_addr6 *a = &ifp->v6[j];
		int l = 0;

		if (a->state != ADDR6_PREFERRED)
			continue;
		if (ipv6_addr_is_linklocal(a->addr)) {
			ll = ll ? ll : a;
			continue;
		}
		while (l < 128 && ((a->addr[l / 8] ^ dst[l / 8]) & (0x80 >> (l % 8))) == 0)
			l++;
		if (l > best_len) {
			best_len = l;
			best = a;
		}
	}
	if (ipv6_addr_is_linklocal(dst) || (ipv6_addr_is_multicast(dst) && (dst[1] & 0xf) <= 2))
		best = ll ? ll : best;
	else if (best == NULL)
		best = ll;
	if (best == NULL)
		return false;
	memcpy(src, best->addr, 16);
	return true;
}

/* Whether ifp puts packets on a link of its own (Ethernet): only there do
 * addresses get connected routes, announcements and DAD. */
static bool
addr_on_link(const struct sonde_stack *st, const struct sonde_if *ifp)
{
	return ifp != st->lo;
}

static int
addr4_add(struct sonde_stack *st, struct sonde_if *ifp, const struct sonde_prefix *p)
{
	struct sonde_if_addr4 *a;
	uint32_t h = rte_be_to_cpu_32(p->addr.v4);
	int r;

	/* RFC 1122 3.2.1.3: not 0, not on 127/8 (never on a network), not
	 * multicast or class E. */
	if (p->plen > 32 || h == 0 || IN_LOOPBACK_H(h) || (h >> 28) >= 0xe)
		return -EINVAL;
	if (ipv4_is_local(st, p->addr.v4))
		return -EEXIST;
	if (ifp->n_v4 == SONDE_MAX_ADDRS)
		return -ENOSPC;
	a = &ifp->v4[ifp->n_v4];
	a->addr = p->addr.v4;
	a->plen = p->plen;
	a->mask = p->plen ? rte_cpu_to_be_32(~0u << (32 - p->plen)) : 0;
	a->bcast = p->plen < 31 ? a->addr | ~a->mask : 0;
	ifp->n_v4++;
	ipv4_local_rebuild(st);
	if (!addr_on_link(st, ifp))
		return 0;
	r = route4_add(st, a->addr & a->mask, a->plen, 0, ifp->index);
	if (r) {
		ifp->n_v4--;
		ipv4_local_rebuild(st);
		return r;
	}
	/* Linked stacks share the port: the first one announces. */
	if (ifp->kind == &eth_kind && !st->peer.follower)
		arp_announce(st, ifp, a->addr);
	return 0;
}

static int
addr6_add(struct sonde_stack *st, struct sonde_if *ifp, const struct sonde_prefix *p)
{
	static const uint8_t zero[16];
	struct sonde_if_addr6 *a;

	if (p->plen > 128 || ipv6_addr_is_unspecified(p->addr.v6) ||
	    ipv6_addr_is_multicast(p->addr.v6) || ipv6_addr_is_loopback(p->addr.v6))
		return -EINVAL;
	/* A link-local address is unique on its link only (RFC 4291 2.5.6):
	 * two ports with one MAC have the same fe80:: address, legitimately. */
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i] != NULL &&
		    (st->ifs[i] == ifp || !ipv6_addr_is_linklocal(p->addr.v6)) &&
		    ipv6_if_find_addr(st->ifs[i], p->addr.v6))
			return -EEXIST;
	if (ifp->n_v6 == SONDE_MAX_ADDRS)
		return -ENOSPC;
	a = &ifp->v6[ifp->n_v6];
	memset(a, 0, sizeof(*a));
	memcpy(a->addr, p->addr.v6, 16);
	a->plen = p->plen;
	a->state = ADDR6_PREFERRED;
	ifp->n_v6++;
	ipv6_local_rebuild(st);
	if (!addr_on_link(st, ifp))
		return 0;
	/* Link-local prefixes are per link: reached through the interface
	 * hint, never through the shared table. */
	if (!ipv6_addr_is_linklocal(a->addr)) {
		int r = route6_add(st, a->addr, a->plen, zero, ifp->index);

		if (r) {
			ifp->n_v6--;
			ipv6_local_rebuild(st);
			return r;
		}
	}
	if (ifp->kind == &eth_kind)
		nd6_dad_start(st, ifp, a);
	return 0;
}

int
sonde_addr_add(struct sonde_stack *st, int ifindex, const struct sonde_prefix *p)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;
	int r;

	if (ifp == NULL)
		return -ENODEV;
	probe_gate_update(st); /* an announcement or a DAD probe may go out */
	if (p->af == AF_INET)
		r = addr4_add(st, ifp, p);
	else if (p->af == AF_INET6)
		r = addr6_add(st, ifp, p);
	else
		return -EAFNOSUPPORT;
	if (r == 0)
		peer_post_cmd(st, PEER_ADDR_ADD, ifindex, p, NULL);
	return r;
}

/* The connected route of a prefix goes with its last address on ifp. */
static void
addr_route_del(struct sonde_stack *st, struct sonde_if *ifp, int af, const uint8_t *addr,
	       uint8_t plen)
{
	uint8_t net[16] = { 0 };

	memcpy(net, addr, af == 4 ? 4 : 16);
	for (unsigned b = plen; b < (af == 4 ? 32u : 128u); b++)
		net[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
	for (unsigned j = 0; af == 4 && j < ifp->n_v4; j++)
		if (ifp->v4[j].plen == plen &&
		    (ifp->v4[j].addr & ifp->v4[j].mask) == wire_load32(net))
			return;
	for (unsigned j = 0; af == 6 && j < ifp->n_v6; j++) {
		uint8_t other[16];

		memcpy(other, ifp->v6[j].addr, 16);
		for (unsigned b = plen; b < 128; b++)
			other[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
		if (ifp->v6[j].plen == plen && ipv6_addr_eq(other, net))
			return;
	}
	route_del(st, af, net, plen);
}

int
sonde_addr_del(struct sonde_stack *st, int ifindex, const struct sonde_prefix *p)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;
	unsigned j;

	if (ifp == NULL)
		return -ENODEV;
	if (p->af == AF_INET) {
		for (j = 0; j < ifp->n_v4 && ifp->v4[j].addr != p->addr.v4; j++)
			;
		if (j == ifp->n_v4)
			return -EADDRNOTAVAIL;
		uint8_t plen = ifp->v4[j].plen;

		memmove(&ifp->v4[j], &ifp->v4[j + 1], sizeof(ifp->v4[0]) * (ifp->n_v4 - j - 1));
		ifp->n_v4--;
		ipv4_local_rebuild(st);
		if (addr_on_link(st, ifp))
			addr_route_del(st, ifp, 4, (const uint8_t *)&p->addr.v4, plen);
	} else if (p->af == AF_INET6) {
		struct sonde_if_addr6 *a = ipv6_if_find_addr(ifp, p->addr.v6);
		uint8_t plen;

		if (a == NULL)
			return -EADDRNOTAVAIL;
		plen = a->plen;
		nd6_dad_cancel(st, ifp, a);
		j = (unsigned)(a - ifp->v6);
		memmove(&ifp->v6[j], &ifp->v6[j + 1], sizeof(ifp->v6[0]) * (ifp->n_v6 - j - 1));
		ifp->n_v6--;
		ipv6_local_rebuild(st);
		if (addr_on_link(st, ifp) && !ipv6_addr_is_linklocal(p->addr.v6))
			addr_route_del(st, ifp, 6, p->addr.v6, plen);
	} else {
		return -EAFNOSUPPORT;
	}
	peer_post_cmd(st, PEER_ADDR_DEL, ifindex, p, NULL);
	return 0;
}

/* An interface going away takes its addresses with it. */
static void
addr_if_detach(struct sonde_stack *st, struct sonde_if *ifp)
{
	for (unsigned j = 0; j < ifp->n_v6; j++)
		nd6_dad_cancel(st, ifp, &ifp->v6[j]);
	ifp->n_v4 = 0;
	ifp->n_v6 = 0;
	ipv4_local_rebuild(st);
	ipv6_local_rebuild(st);
}

const struct sonde_layer addr_layer = {
	.name = "addr",
	.if_detach = addr_if_detach,
};
