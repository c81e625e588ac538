/*
 * ipv4.c: IPv4 input, local delivery, forwarding and output.
 *
 * RFC 791 (the protocol), RFC 1122 3.2.1 (what a host checks and how it
 * delivers), RFC 1812 5.2-5.3 (what a router checks and changes when it
 * forwards), RFC 1624 (the incremental checksum update on forwarding).
 * Validate, then route, then deliver or forward: ipv4_input() checks the
 * header, fires receive, and picks one of ipv4_deliver() or ipv4_forward().
 * Options are carried but never acted on (no source routing, RFC 7126).
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "neigh.h"
#include "probes.h"
#include "stack.h"

/* The address of ifp to use towards peer: one on peer's subnet, else the first. */
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

/* Hands m (data at the IP header, m->port set) to the link towards nh. */
void
ipv4_send_nh(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh)
{
	if (ifp->kind == IF_KIND_LOOP) {
		loop_enqueue(st, m);
		return;
	}
	neigh_output(st, &arp_family, ifp, m, 4, &nh);
}

static void
ipv4_deliver(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
	     const struct ipv4_view *ip)
{
	struct ipv4_view whole;

	if (ip->frag & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) {
		m = frag4_input(st, m, ip);
		if (m == NULL)
			return; /* held for reassembly, or dropped there */
		/* read fires once, for the reassembled datagram. */
		whole = *ip;
		whole.frag = 0;
		whole.total_len = (uint16_t)rte_pktmbuf_pkt_len(m);
		ip = &whole;
	}
	probe_read(st, m, ifp);
	st->stats.ipv4_in_delivered++;
	m->l3_len = ip->ihl;
	rte_pktmbuf_adj(m, ip->ihl);
	switch (ip->proto) {
	case IPPROTO_ICMP_: icmp_input(st, m, ip); return;
	case IPPROTO_UDP_: udp_input(st, m, ip); return;
	default:
		/* RFC 1122 3.2.2.1: protocol unreachable for a transport we lack. */
		rte_pktmbuf_prepend(m, ip->ihl);
		icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0);
		pkt_drop(st, m, DROP_NO_PROTOCOL);
		return;
	}
}

/* RFC 1812 5.2.1 and 5.3: TTL, route, MTU, then the header rewrite. */
static void
ipv4_forward(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip)
{
	const struct route_nh *nh;
	struct sonde_if *out;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	/* RFC 1812 5.3.4: a link-layer broadcast is not forwarded. */
	if (m->hash.usr) {
		pkt_drop(st, m, DROP_NOT_LOCAL);
		return;
	}
	if (ip->ttl <= 1) {
		icmp_error(st, m, ICMP_TIMXCEED, 0, 0);
		pkt_drop(st, m, DROP_TTL_EXCEEDED);
		return;
	}
	nh = route4_lookup(st, ip->dst);
	if (nh == NULL) {
		icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_NET, 0);
		pkt_drop(st, m, DROP_NO_ROUTE_FWD);
		return;
	}
	out = stack_if(st, nh->ifindex);
	if (ip->total_len > out->mtu && (ip->frag & IPV4_FLAG_DF)) {
		/* RFC 1191: tell the source the next-hop MTU. */
		icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, out->mtu);
		m->port = out->index;
		pkt_drop(st, m, DROP_FRAG_NEEDED);
		return;
	}
	/* TTL and protocol share a 16-bit word: adjust the checksum for it. */
	p[8] = (uint8_t)(ip->ttl - 1);
	wire_put16(p + 10, wire_cksum_adjust(ip->cksum, (uint16_t)(ip->ttl << 8 | ip->proto),
					     (uint16_t)((ip->ttl - 1) << 8 | ip->proto)));
	st->stats.ipv4_forwarded++;
	m->port = out->index;
	/* Only the receive flags go: EXTERNAL says whose buffer this is
	 * (rte_pktmbuf_reset() keeps it too). */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	if (ip->total_len > out->mtu) {
		frag4_output(st, out, m, nh->gw4 ? nh->gw4 : ip->dst);
		return;
	}
	ipv4_send_nh(st, out, m, nh->gw4 ? nh->gw4 : ip->dst);
}

void
ipv4_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	struct ipv4_view ip;
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint32_t hs, hd;
	int r;

	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
		pkt_drop(st, m, DROP_BAD_LENGTH);
		return;
	}
	if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
		pkt_drop(st, m, DROP_BAD_CHECKSUM);
		return;
	}
	r = wire_ipv4_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			    ck == RTE_MBUF_F_RX_IP_CKSUM_GOOD, &ip);
	if (unlikely(r)) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	/* Ethernet pads short frames: the header says where the packet ends. */
	if (rte_pktmbuf_pkt_len(m) > ip.total_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - ip.total_len));
	st->stats.ipv4_in++;
	probe_receive(st, m, ifp);

	hs = rte_be_to_cpu_32(ip.src);
	hd = rte_be_to_cpu_32(ip.dst);
	/* RFC 1122 3.2.1.3, RFC 1812 5.3.7: martian sources. */
	if (IN_MULTICAST_H(hs) || hs == 0xffffffff || IN_LOOPBACK_H(hs) ||
	    ipv4_is_broadcast(st, ifp, ip.src) || (hs != 0 && ipv4_is_local(st, ip.src))) {
		pkt_drop(st, m, DROP_BAD_SOURCE);
		return;
	}
	if (IN_LOOPBACK_H(hd) || hd == 0) {
		pkt_drop(st, m, DROP_BAD_DEST);
		return;
	}
	if (ipv4_is_local(st, ip.dst)) {
		ipv4_deliver(st, ifp, m, &ip);
		return;
	}
	if (ipv4_is_broadcast(st, ifp, ip.dst)) {
		m->hash.usr = 1; /* to a group, as a link-layer broadcast is (stack.h) */
		ipv4_deliver(st, ifp, m, &ip);
		return;
	}
	/* We join no multicast group yet; RFC 1812 5.3.5 leaves multicast
	 * forwarding to multicast routers. */
	if (IN_MULTICAST_H(hd) || !st->forwarding) {
		pkt_drop(st, m, DROP_NOT_LOCAL);
		return;
	}
	ipv4_forward(st, m, &ip);
}

/* lo0: a packet the stack sent to itself comes back in here. */
void
ipv4_loop_input(struct sonde_stack *st, struct rte_mbuf *m)
{
	struct ipv4_view ip;
	int r;

	r = wire_ipv4_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), 1, &ip);
	if (unlikely(r)) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	ipv4_deliver(st, st->lo, m, &ip);
}

int
ipv4_output(struct sonde_stack *st, struct rte_mbuf *m, uint32_t src, uint32_t dst, uint8_t proto,
	    uint8_t ttl, uint8_t tos)
{
	struct ipv4_view ip = { 0 };
	const struct route_nh *nh = NULL;
	struct sonde_if *ifp;
	uint32_t hd = rte_be_to_cpu_32(dst);
	bool local = IN_LOOPBACK_H(hd) || ipv4_is_local(st, dst);
	uint8_t *p;

	m->packet_type = RTE_PTYPE_L3_IPV4;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL; /* as in ipv4_forward() */
	m->hash.usr = 0;
	m->port = SONDE_IF_NONE;
	p = (uint8_t *)rte_pktmbuf_prepend(m, IPV4_MIN_HDR_LEN);
	if (unlikely(p == NULL)) {
		rte_pktmbuf_free(m);
		st->stats.drops[DROP_NO_HEADROOM]++;
		return -ENOBUFS;
	}
	if (local) {
		ifp = st->lo;
	} else {
		nh = route4_lookup(st, dst);
		ifp = nh ? stack_if(st, nh->ifindex) : NULL;
	}
	if (src == 0)
		src = local ? dst : ipv4_if_addr(ifp, dst);
	ip.ihl = IPV4_MIN_HDR_LEN;
	ip.tos = tos;
	ip.total_len = (uint16_t)rte_pktmbuf_pkt_len(m);
	ip.ident = st->ip_ident++;
	ip.ttl = ttl;
	ip.proto = proto;
	ip.src = src;
	ip.dst = dst;
	wire_ipv4_emit(p, &ip, ifp && ifp->csum_tx_ipv4);
	if (ifp == NULL) {
		pkt_drop(st, m, DROP_NO_ROUTE);
		return -EHOSTUNREACH;
	}
	m->port = ifp->index;
	if (src == 0) {
		pkt_drop(st, m, DROP_NO_SOURCE);
		return -EADDRNOTAVAIL;
	}
	if (ifp->csum_tx_ipv4) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		m->l3_len = IPV4_MIN_HDR_LEN;
	}
	probe_write(st, m, ifp);
	st->stats.ipv4_out++;
	if (ip.total_len > ifp->mtu) {
		/* Ours, without DF: fragment (RFC 791 2.3, RFC 1122 3.3.3). */
		return frag4_output(st, ifp, m, nh->gw4 ? nh->gw4 : dst);
	}
	ipv4_send_nh(st, ifp, m, local ? dst : (nh->gw4 ? nh->gw4 : dst));
	return 0;
}
