/*
 * fast.c: the fast path, for the packets a benchmark (and most traffic) is
 * made of, while nobody traces.
 *
 * stack_rx() hands each received burst to fast_rx() when no probe is
 * switched on (st->probes_on, read once a poll) and the stack was not
 * created with conf.no_fastpath; fast_rx() offers each frame, in order, to
 * fast_input().  That takes whole, in place, with no call through the
 * layers:
 *
 *   - ICMP echo (RFC 792) and ICMPv6 echo (RFC 4443 4.1) to one of our
 *     unicast addresses, answered;
 *   - UDP to a port with the echo service (RFC 862), answered;
 *   - IPv4 and IPv6 packets to forward (RFC 1812 5.2-5.3, RFC 8200 3),
 *     forwarded;
 *
 * when the route and the neighbour are already known.  Anything else, and
 * anything that fails one of the checks, it hands back untouched, and the
 * general path (eth_input) takes it.  It never drops: every check made here
 * is one the general path makes too, so a packet that would be dropped
 * goes there, to be dropped with its reason, counter and probe.  It fires
 * no probe, which is why it only runs while none is switched on: with a
 * tracer attached, every packet goes the general path and fires what
 * docs/probes.md promises.
 *
 * What the lookups say of an address (is it ours, a broadcast, where does
 * a packet to it go, to which MAC) it keeps in a small memo, st->fast_dst,
 * keyed by the address and the interface it was seen on: one probe per
 * packet instead of the local-address, broadcast, route and neighbour
 * lookups.  An entry holds while st->fast_gen is what it was: every change
 * of an address, a route or a neighbour's state or MAC bumps that
 * (fast_stale()), and so does a path MTU learnt; the link MTU, and a path
 * MTU's expiry, are read per packet.
 *
 * What it sends, the counters it bumps and the state it leaves are those of
 * the general path, bit for bit: tests/unit/test_fast.c runs the same
 * frames (and thousands of damaged copies) through two stacks, one without
 * the fast path, and compares.  A change to what the general path checks
 * or writes for these packets must be made here too; that test is what
 * tells.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "neigh.h"
#include "stack.h"

/* The neighbour's MAC if the general path would send to it straight away:
 * not when unknown or INCOMPLETE (it would queue and solicit), nor STALE
 * (RFC 4861 7.3.3: it would start DELAY). */
static __rte_always_inline const uint8_t *
fast_neigh(struct sonde_stack *st, const struct sonde_if *out, int af, const void *nh)
{
	const struct neigh_entry *e = neigh_lookup(st, out->index, af, nh);

	if (e == NULL ||
	    (e->state != NEIGH_REACHABLE && e->state != NEIGH_DELAY && e->state != NEIGH_PROBE))
		return NULL;
	return e->mac;
}

/* The frame leaves on out, to mac: what eth_output_ip() writes and does.
 * The EtherType is the one it came with. */
static __rte_always_inline void
fast_send(struct sonde_stack *st, struct sonde_if *out, struct rte_mbuf *m, uint8_t *eth,
	  const uint8_t *mac, uint32_t ip_len)
{
	m->data_len = (uint16_t)(ETH_HDR_LEN + ip_len); /* Ethernet padding goes */
	m->pkt_len = m->data_len;
	m->port = out->index;
	m->hash.usr = 0;
	m->l2_len = ETH_HDR_LEN;
	memcpy(eth, mac, ETH_ADDR_LEN);
	memcpy(eth + ETH_ADDR_LEN, out->mac, ETH_ADDR_LEN);
	if_enqueue(st, out, m);
}

/* Where a packet to `to` leaves (ipv4_output's and ipv4_forward's route):
 * a port, and the neighbour's MAC; NULL if the general path would do more
 * than send it (no route, an unresolved neighbour).  The MTU is the
 * caller's to check. */
static struct sonde_if *
fast4_route(struct sonde_stack *st, uint32_t to, const uint8_t **mac)
{
	const struct route_nh *nh = route4_lookup(st, to);
	struct sonde_if *out;

	if (nh == NULL)
		return NULL;
	out = stack_if(st, nh->ifindex);
	if (out == NULL || out->kind != IF_KIND_PORT)
		return NULL;
	*mac = fast_neigh(st, out, 4, nh->gw4 ? &nh->gw4 : &to);
	return *mac ? out : NULL;
}

/* Where a packet to `to` leaves: ipv6_route() and ipv6_send_nh() for a
 * destination that is not ours, with the interface it came in on (a port)
 * as the hint for link-local ones.  The MTUs are the caller's to check. */
static struct sonde_if *
fast6_route(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *to, const uint8_t **mac)
{
	const struct route_nh *r;
	const uint8_t *nh = to;
	struct sonde_if *out = ifp;

	if (!ipv6_addr_is_linklocal(to)) {
		r = route6_lookup(st, to);
		if (r == NULL)
			return NULL;
		if (!ipv6_addr_is_unspecified(r->gw6))
			nh = r->gw6;
		out = stack_if(st, r->ifindex);
		if (out == NULL || out->kind != IF_KIND_PORT)
			return NULL;
	}
	if (ipv6_addr_is_multicast(nh))
		return NULL;
	*mac = fast_neigh(st, out, 6, nh);
	return *mac ? out : NULL;
}

/* What the lookups say of addr, seen on ifp: whether it is ours (or a
 * broadcast, or ifp's), where a packet to it leaves, and for IPv6 what a
 * packet too big taught of the path.  Into slot i, or its other way if
 * that is free or i is in use (the one in i moves over): two addresses
 * that share a slot pair, a flow's source and destination, both stay.
 * Nothing else changes but the lookups' own caches. */
static __rte_noinline const struct fast_dst *
fast_dst_fill(struct sonde_stack *st, struct sonde_if *ifp, uint32_t i, uint32_t tag,
	      const uint8_t *addr)
{
	struct fast_dst *d = &st->fast_dst[i], *alt = &st->fast_dst[i ^ 1];
	const uint8_t *mac = NULL;
	uint32_t a4;

	if (d->gen == st->fast_gen) {
		if (alt->gen == st->fast_gen)
			*alt = *d;
		else
			d = alt;
	}
	memset(d, 0, sizeof(*d));
	d->gen = st->fast_gen;
	d->tag = tag;
	if ((tag & 0xff) == 4) {
		memcpy(&a4, addr, 4);
		memcpy(d->addr, addr, 4);
		d->flags = (ipv4_is_local(st, a4) ? FAST_LOCAL : 0) |
			   (ipv4_is_broadcast(st, ifp, a4) ? FAST_BCAST : 0);
		d->out = fast4_route(st, a4, &mac);
	} else {
		const struct pmtu6_entry *e = pmtu6_slot(st, addr);

		memcpy(d->addr, addr, 16);
		d->flags = (ipv6_is_local(st, addr) ? FAST_LOCAL : 0) |
			   (ipv6_if_find_addr(ifp, addr) ? FAST_IFADDR : 0);
		d->out = fast6_route(st, ifp, addr, &mac);
		/* pmtu6_get(), with the time it holds until */
		if (e->expires > st->now && ipv6_addr_eq(e->dst, addr)) {
			d->pmtu = e->mtu;
			d->pmtu_until = e->expires;
		}
	}
	if (d->out != NULL)
		memcpy(d->mac, mac, ETH_ADDR_LEN);
	return d;
}

/* The memo of IPv4 address a seen on ifp.  The entry is good until the
 * next lookup, which may fill or move it: fast4() and fast6() are done with
 * the source's when they look up the destination. */
static __rte_always_inline const struct fast_dst *
fast_dst4(struct sonde_stack *st, struct sonde_if *ifp, uint32_t a)
{
	uint32_t tag = (uint32_t)ifp->index << 8 | 4, h = a ^ ifp->index;
	const struct fast_dst *d;

	h ^= h >> 16;
	h = (h ^ h >> 8) & (FAST_DST_SLOTS - 1);
	d = &st->fast_dst[h];
	if (likely(d->gen == st->fast_gen && d->tag == tag && wire_load32(d->addr) == a))
		return d;
	d = &st->fast_dst[h ^ 1];
	if (d->gen == st->fast_gen && d->tag == tag && wire_load32(d->addr) == a)
		return d;
	return fast_dst_fill(st, ifp, h, tag, (const uint8_t *)&a);
}

static __rte_always_inline const struct fast_dst *
fast_dst6(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *a)
{
	uint32_t tag = (uint32_t)ifp->index << 8 | 6;
	uint32_t h = wire_load32(a) ^ wire_load32(a + 4) ^ wire_load32(a + 8) ^
		     wire_load32(a + 12) ^ ifp->index;
	const struct fast_dst *d;

	h ^= h >> 16;
	h = (h ^ h >> 8) & (FAST_DST_SLOTS - 1);
	d = &st->fast_dst[h];
	if (likely(d->gen == st->fast_gen && d->tag == tag && ipv6_addr_eq(d->addr, a)))
		return d;
	d = &st->fast_dst[h ^ 1];
	if (d->gen == st->fast_gen && d->tag == tag && ipv6_addr_eq(d->addr, a))
		return d;
	return fast_dst_fill(st, ifp, h, tag, a);
}

/* The path MTU towards the address of to (pmtu6_get()). */
static __rte_always_inline uint32_t
fast_pmtu6(const struct sonde_stack *st, const struct fast_dst *to)
{
	return st->now < to->pmtu_until ? to->pmtu : UINT32_MAX;
}

/* ipv4_output(st, m, dst, src, proto, 64, tos) for a request turned around
 * in place: the header wire_ipv4_emit() would write (RFC 1122 3.2.1.7: our
 * TTL, a new ident, no DF), written over the old one.  Version, length, TOS
 * and protocol stay; the addresses trade places. */
static __rte_always_inline bool
fast4_reply(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *eth, uint16_t tot, uint32_t src,
	    uint32_t dst, const struct fast_dst *to)
{
	uint8_t *p = eth + ETH_HDR_LEN;
	struct sonde_if *out = to->out;
	uint32_t w0, w1, w2;

	if (out == NULL || tot > out->mtu)
		return false;
	w0 = wire_load32(p);
	w1 = rte_cpu_to_be_32((uint32_t)st->ip_ident++ << 16);
	w2 = rte_cpu_to_be_32(64u << 24 | (uint32_t)p[9] << 16);
	if (!out->csum_tx_ipv4)
		w2 |= rte_cpu_to_be_32(rte_be_to_cpu_16(
			(uint16_t)~wire_sum_fold((uint64_t)w0 + w1 + w2 + src + dst)));
	memcpy(p + 4, &w1, 4);
	memcpy(p + 8, &w2, 4);
	memcpy(p + 12, &dst, 4);
	memcpy(p + 16, &src, 4);
	m->packet_type = RTE_PTYPE_L3_IPV4;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	m->l3_len = IPV4_MIN_HDR_LEN;
	if (out->csum_tx_ipv4)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	st->stats.ipv4_in++;
	st->stats.ipv4_in_delivered++;
	st->stats.ipv4_out++;
	fast_send(st, out, m, eth, to->mac, tot);
	return true;
}

/* The datagram at u, all of the len bytes IP carries, is one the echo
 * service answers (udp_check, udp_service): it verifies against psum, the
 * pseudo-header's sum without the length; for IPv4 a zero checksum is none
 * (RFC 768), for IPv6 it is wrong (RFC 8200 8.1). */
static __rte_always_inline bool
fast_udp_echo(const struct sonde_stack *st, const struct rte_mbuf *m, const uint8_t *u,
	      uint32_t len, uint32_t psum, bool v6)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	uint16_t sport, ulen;

	if (len < UDP_HDR_LEN)
		return false;
	sport = wire_get16(u);
	ulen = wire_get16(u + 4);
	/* A shorter UDP length would be trimmed to: the general path does. */
	if (ulen != len || st->udp_service[wire_get16(u + 2)] != SONDE_SERVICE_ECHO)
		return false;
	if (sport == 0 || sport == 7 || sport == 19 || l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return true;
	if (wire_get16(u + 6) == 0)
		return !v6;
	return wire_sum_fold(wire_sum(u, ulen, psum + rte_cpu_to_be_16(ulen))) == 0xffff;
}

/* RFC 862 in place: the ports trade places, and the checksum holds. */
static __rte_always_inline void
fast_udp_turn(struct sonde_stack *st, uint8_t *u)
{
	uint32_t ports = wire_load32(u);

	ports = ports >> 16 | ports << 16;
	memcpy(u, &ports, 4);
	st->stats.udp_in++;
	st->stats.udp_echoed++;
}

/* An echo request (icmp_input). */
static __rte_always_inline bool
fast4_icmp(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *eth, uint16_t tot, uint32_t src,
	   uint32_t dst, const struct fast_dst *to)
{
	uint8_t *ic = eth + ETH_HDR_LEN + IPV4_MIN_HDR_LEN;
	uint16_t len = (uint16_t)(tot - IPV4_MIN_HDR_LEN);

	if (len < ICMP_HDR_LEN || ic[0] != ICMP_ECHO ||
	    wire_sum_fold(wire_sum(ic, len, 0)) != 0xffff)
		return false;
	if (!fast4_reply(st, m, eth, tot, src, dst, to))
		return false;
	/* Only the type changes, and the checksum with it (RFC 1624). */
	ic[0] = ICMP_ECHOREPLY;
	wire_put16(ic + 2, wire_cksum_adjust(wire_get16(ic + 2), (uint16_t)(ICMP_ECHO << 8 | ic[1]),
					     (uint16_t)(ICMP_ECHOREPLY << 8 | ic[1])));
	st->stats.icmp_in++;
	st->stats.icmp_echo_replies++;
	st->stats.icmp_out++;
	return true;
}

/* RFC 1812 5.2-5.3, as ipv4_forward(): TTL, route, MTU, rewrite. */
static __rte_always_inline bool
fast4_forward(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *eth, uint16_t tot,
	      const struct fast_dst *to)
{
	uint8_t *p = eth + ETH_HDR_LEN;
	uint8_t ttl = p[8];
	struct sonde_if *out = to->out;

	if (ttl <= 1 || out == NULL || tot > out->mtu)
		return false;
	p[8] = (uint8_t)(ttl - 1);
	wire_put16(p + 10, wire_cksum_adjust(wire_get16(p + 10), (uint16_t)(ttl << 8 | p[9]),
					     (uint16_t)((ttl - 1) << 8 | p[9])));
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	st->stats.ipv4_in++;
	st->stats.ipv4_forwarded++;
	fast_send(st, out, m, eth, to->mac, tot);
	return true;
}

/* ipv4_input's checks, for a header without options. */
static __rte_always_inline bool
fast4(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint8_t *eth)
{
	const uint8_t *p = eth + ETH_HDR_LEN;
	uint32_t len = rte_pktmbuf_data_len(m) - ETH_HDR_LEN;
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	const struct fast_dst *from, *to;
	uint32_t src, dst, hs, hd;
	uint16_t tot;

	if (len < IPV4_MIN_HDR_LEN || p[0] != 0x45 || ck == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	tot = wire_get16(p + 2);
	if (tot < IPV4_MIN_HDR_LEN || tot > len)
		return false;
	if (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && wire_cksum_hdr(p, IPV4_MIN_HDR_LEN) != 0)
		return false;
	memcpy(&src, p + 12, 4);
	memcpy(&dst, p + 16, 4);
	hs = rte_be_to_cpu_32(src);
	hd = rte_be_to_cpu_32(dst);
	/* RFC 1122 3.2.1.3: martians, and 0.0.0.0 (never answered) too. */
	if (hs == 0 || IN_MULTICAST_H(hs) || hs == 0xffffffff || IN_LOOPBACK_H(hs))
		return false;
	from = fast_dst4(st, ifp, src);
	if (from->flags & (FAST_LOCAL | FAST_BCAST))
		return false;
	if (hd == 0 || IN_LOOPBACK_H(hd))
		return false;
	if (ipv4_is_local(st, dst)) {
		if (wire_get16(p + 6) & (IPV4_FLAG_MF | IPV4_OFFSET_MASK))
			return false; /* a fragment: reassembly */
		switch (p[9]) {
		case IPPROTO_UDP_:
			if (!fast_udp_echo(st, m, p + IPV4_MIN_HDR_LEN, tot - IPV4_MIN_HDR_LEN,
					   wire_pseudo4_sum(src, dst, 0, IPPROTO_UDP_), false) ||
			    !fast4_reply(st, m, eth, tot, src, dst, from))
				return false;
			fast_udp_turn(st, eth + ETH_HDR_LEN + IPV4_MIN_HDR_LEN);
			return true;
		case IPPROTO_ICMP_: return fast4_icmp(st, m, eth, tot, src, dst, from);
		default: return false;
		}
	}
	if (!st->forwarding || IN_MULTICAST_H(hd))
		return false;
	to = fast_dst4(st, ifp, dst);
	if (to->flags & FAST_BCAST)
		return false;
	return fast4_forward(st, m, eth, tot, to);
}

/* ipv6_output(st, m, dst, src, nxt, 64, tclass, in) for a request turned
 * around in place (the flow label is 0, as the general path sends it). */
static __rte_always_inline bool
fast6_reply(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *eth, uint16_t plen,
	    const struct fast_dst *to)
{
	uint8_t *p = eth + ETH_HDR_LEN, a[16];
	uint32_t len = IPV6_HDR_LEN + plen;
	struct sonde_if *out = to->out;

	if (out == NULL || len > out->mtu || len > fast_pmtu6(st, to))
		return false;
	wire_put32(p, 6u << 28 | (wire_get32(p) & 0x0ff00000));
	p[7] = 64;
	memcpy(a, p + 8, 16);
	memcpy(p + 8, p + 24, 16);
	memcpy(p + 24, a, 16);
	m->packet_type = RTE_PTYPE_L3_IPV6;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	m->l3_len = IPV6_HDR_LEN;
	st->stats.ipv6_in++;
	st->stats.ipv6_in_delivered++;
	st->stats.ipv6_out++;
	fast_send(st, out, m, eth, to->mac, len);
	return true;
}

/* An echo request to a unicast address (icmp6_input, icmp6_echo): the reply
 * comes from the address it was sent to. */
static __rte_always_inline bool
fast6_icmp(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *eth, uint16_t plen,
	   const struct fast_dst *to)
{
	const uint8_t *ip = eth + ETH_HDR_LEN;
	uint8_t *ic = eth + ETH_HDR_LEN + IPV6_HDR_LEN;

	if (plen < ICMP_HDR_LEN || ic[0] != ICMP6_ECHO_REQUEST ||
	    wire_sum_fold(wire_sum(
		    ic, plen, wire_pseudo6_sum(ip + 8, ip + 24, plen, IPPROTO_ICMPV6_))) != 0xffff)
		return false;
	if (!fast6_reply(st, m, eth, plen, to))
		return false;
	ic[0] = ICMP6_ECHO_REPLY;
	wire_put16(ic + 2, wire_cksum_adjust(wire_get16(ic + 2),
					     (uint16_t)(ICMP6_ECHO_REQUEST << 8 | ic[1]),
					     (uint16_t)(ICMP6_ECHO_REPLY << 8 | ic[1])));
	st->stats.icmp6_in++;
	st->stats.icmp6_echo_replies++;
	st->stats.icmp6_out++;
	return true;
}

/* RFC 8200 3, RFC 4291 2.5.6, as ipv6_forward(). */
static __rte_always_inline bool
fast6_forward(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *eth, uint16_t plen,
	      const struct fast_dst *to)
{
	uint8_t *p = eth + ETH_HDR_LEN;
	struct sonde_if *out = to->out;

	if (ipv6_addr_is_linklocal(p + 8) || ipv6_addr_is_linklocal(p + 24) || p[7] <= 1 ||
	    out == NULL || IPV6_HDR_LEN + plen > out->mtu)
		return false;
	p[7]--;
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	st->stats.ipv6_in++;
	st->stats.ipv6_forwarded++;
	fast_send(st, out, m, eth, to->mac, IPV6_HDR_LEN + plen);
	return true;
}

/* ipv6_input's checks, for a packet with no extension header. */
static __rte_always_inline bool
fast6(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint8_t *eth)
{
	const uint8_t *p = eth + ETH_HDR_LEN;
	uint32_t len = rte_pktmbuf_data_len(m) - ETH_HDR_LEN;
	const uint8_t *src = p + 8, *dst = p + 24;
	const struct fast_dst *from, *to;
	uint16_t plen;

	if (len < IPV6_HDR_LEN || p[0] >> 4 != 6)
		return false;
	plen = wire_get16(p + 4);
	if (plen == 0 || plen > len - IPV6_HDR_LEN)
		return false;
	/* RFC 4291 2.7: martians, and :: (never answered) too. */
	if (ipv6_addr_is_multicast(src) || ipv6_addr_is_unspecified(src) ||
	    ipv6_addr_is_loopback(src))
		return false;
	from = fast_dst6(st, ifp, src);
	if (from->flags & FAST_LOCAL)
		return false;
	if (ipv6_addr_is_multicast(dst) || ipv6_addr_is_unspecified(dst) ||
	    ipv6_addr_is_loopback(dst))
		return false;
	if (ipv6_is_local(st, dst)) {
		switch (p[6]) {
		case IPPROTO_UDP_:
			if (!fast_udp_echo(st, m, p + IPV6_HDR_LEN, plen,
					   wire_pseudo6_sum(src, dst, 0, IPPROTO_UDP_), true) ||
			    !fast6_reply(st, m, eth, plen, from))
				return false;
			fast_udp_turn(st, eth + ETH_HDR_LEN + IPV6_HDR_LEN);
			return true;
		case IPPROTO_ICMPV6_: return fast6_icmp(st, m, eth, plen, from);
		default: return false;
		}
	}
	if (!st->forwarding)
		return false;
	to = fast_dst6(st, ifp, dst);
	if (to->flags & FAST_IFADDR)
		return false;
	return fast6_forward(st, m, eth, plen, to);
}

static __rte_always_inline bool
fast_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);

	if (unlikely(m->nb_segs > 1) || rte_pktmbuf_data_len(m) < ETH_HDR_LEN ||
	    !eth_addr_eq(eth, ifp->mac))
		return false;
	switch (wire_get16(eth + 12)) {
	case ETHERTYPE_IPV4: return fast4(st, ifp, m, eth);
	case ETHERTYPE_IPV6: return fast6(st, ifp, m, eth);
	default: return false;
	}
}

/* One function, everything it needs inline and what it falls back to out
 * of line (eth_input, the lookups' slow paths, if_flush): so its code is
 * the same whether probes are compiled in or out, and probes idle cost
 * nothing here. */
__rte_noinline void
fast_rx(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t taken = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (fast_input(st, ifp, pkts[i]))
			taken++;
		else
			eth_input(st, ifp, pkts[i]);
	}
	st->stats.fast_rx += taken;
}
