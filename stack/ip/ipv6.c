/*
 * ipv6.c: IPv6 input, extension headers, local delivery, forwarding and
 * output.
 *
 * RFC 8200 (the protocol; 4.x the extension headers and their order),
 * RFC 5095 (type 0 routing headers refused), RFC 6946 (atomic fragments),
 * RFC 7112 (the first fragment carries the whole header chain), RFC 4291
 * (addresses and scopes), RFC 6724 (source selection, simplified), RFC 8201
 * (path MTU from packet-too-big).  Validate, then route, then deliver or
 * forward, as ipv4.c; every extension header is just another step of the
 * walk in ipv6_deliver().
 */
#include <string.h>

#include <rte_mbuf.h>

#include "neigh.h"
#include "probes.h"
#include "stack.h"

#define IPV6_MAX_EXT_HDRS 16

const uint8_t ipv6_all_nodes[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t ipv6_all_nodes_if[16] = {
	0xff, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};
static const uint8_t ipv6_all_routers[16] = {
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2
};

/* Every change of an address's state ends here: ipv6_is_local() reads the
 * usable addresses from one array instead of every interface's list. */
void
ipv6_local_rebuild(struct sonde_stack *st)
{
	fast_stale(st);
	st->n_local6 = 0;
	for (unsigned i = 0; i < st->n_ifs; i++)
		for (unsigned j = 0; j < st->ifs[i]->n_v6; j++)
			if (st->ifs[i]->v6[j].state == ADDR6_PREFERRED)
				memcpy(st->local6[st->n_local6++], st->ifs[i]->v6[j].addr, 16);
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

/* Hands m (data at the IPv6 header, m->port set) to the link towards nh. */
void
ipv6_send_nh(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, const uint8_t *nh)
{
	uint8_t mac[ETH_ADDR_LEN];

	if (ifp->kind == IF_KIND_LOOP) {
		loop_enqueue(st, m);
		return;
	}
	if (ipv6_addr_is_multicast(nh)) {
		/* RFC 2464 7: multicast maps to a MAC without asking. */
		ipv6_mcast_mac(mac, nh);
		eth_output_ip(st, ifp, m, mac);
		return;
	}
	neigh_output(st, neigh_family_of(6), ifp, m, 6, nh);
}

/* RFC 8200 4.2: the options of a Hop-by-Hop or Destination Options header
 * at off, hl bytes long.  Returns 0 to go on or the drop reason (after the
 * ICMPv6 error the option's action bits ask for). */
static int
ipv6_options(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv6_view *ip, uint32_t off,
	     uint32_t hl)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t i = off + 2, end = off + hl;

	while (i < end) {
		uint8_t type = p[i];

		if (type == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > end || i + 2 + p[i + 1] > end)
			return DROP_EXT_TRUNCATED;
		/* PadN, Router Alert (RFC 2711), Tunnel Encapsulation Limit
		 * (RFC 2473, which Linux ip6 tunnels add): nothing to do. */
		if (type != 1 && type != 5 && type != 4) {
			switch (type >> 6) {
			case 0: break;
			case 1: return DROP_BAD_OPTION;
			case 3:
				if (ipv6_addr_is_multicast(ip->dst))
					return DROP_BAD_OPTION;
				/* fallthrough */
			case 2:
				icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_OPTION, i);
				return DROP_BAD_OPTION;
			}
		}
		i += 2u + p[i + 1];
	}
	return 0;
}

/* RFC 7112: does the chain from off (next header nxt) reach an upper-layer
 * header within len bytes? */
static bool
ipv6_chain_complete(const uint8_t *p, uint32_t len, uint32_t off, uint8_t nxt)
{
	for (int n = 0; n < IPV6_MAX_EXT_HDRS; n++) {
		uint32_t hl;

		switch (nxt) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
			if (off + 2 > len)
				return false;
			hl = (p[off + 1] + 1u) * 8;
			break;
		case IPPROTO_FRAGMENT_: hl = IPV6_FRAG_HDR_LEN; break;
		case IPPROTO_NONE_: return true;
		default:
			/* The upper-layer header's first bytes (ports, type). */
			return off + 4 <= len;
		}
		if (off + hl > len)
			return false;
		nxt = p[off];
		off += hl;
	}
	return false;
}

static void
ipv6_upper(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
	   const struct ipv6_view *ip, uint32_t off, uint8_t nxt, uint32_t nh_field)
{
	probe_read(st, m, ifp);
	st->stats.ipv6_in_delivered++;
	m->l3_len = off;
	switch (nxt) {
	case IPPROTO_ICMPV6_:
		rte_pktmbuf_adj(m, (uint16_t)off);
		icmp6_input(st, m, ip);
		return;
	case IPPROTO_UDP_:
		rte_pktmbuf_adj(m, (uint16_t)off);
		udp6_input(st, m, ip);
		return;
	default:
		/* RFC 8200 4: an unrecognised Next Header value. */
		icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, nh_field);
		pkt_drop(st, m, DROP_NO_PROTOCOL);
		return;
	}
}

/* Walks the extension headers (RFC 8200 4.1 order: Hop-by-Hop first) and
 * hands the packet to its upper layer. */
static void
ipv6_deliver(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, struct ipv6_view *ip)
{
	uint32_t off = IPV6_HDR_LEN, nh_field = 6, hl;
	uint8_t nxt = ip->nxt;
	struct frag6_view fv;
	const uint8_t *p;
	uint32_t len;
	int r;

	for (int n = 0;; n++) {
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		len = rte_pktmbuf_data_len(m);
		if (n == IPV6_MAX_EXT_HDRS || off > 511) {
			r = DROP_EXT_TOO_MANY;
			goto drop;
		}
		switch (nxt) {
		case IPPROTO_HOPOPTS_:
			if (off != IPV6_HDR_LEN) {
				icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER,
					    nh_field);
				r = DROP_HBH_NOT_FIRST;
				goto drop;
			}
			/* fallthrough */
		case IPPROTO_DSTOPTS_:
			if (off + 2 > len || off + (hl = (p[off + 1] + 1u) * 8) > len) {
				r = DROP_EXT_TRUNCATED;
				goto drop;
			}
			r = ipv6_options(st, m, ip, off, hl);
			if (r)
				goto drop;
			break;
		case IPPROTO_ROUTING_:
			if (off + 4 > len || off + (hl = (p[off + 1] + 1u) * 8) > len) {
				r = DROP_EXT_TRUNCATED;
				goto drop;
			}
			/* RFC 8200 4.4: with segments left, an unknown type is a
			 * parameter problem; type 0 is unknown (RFC 5095 3). */
			if (p[off + 3] != 0) {
				icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER,
					    off + 2);
				r = p[off + 2] == 0 ? DROP_RH0 : DROP_BAD_ROUTING;
				goto drop;
			}
			break;
		case IPPROTO_FRAGMENT_:
			r = wire_frag6_parse(p + off, len - off, &fv);
			if (r)
				goto drop;
			hl = IPV6_FRAG_HDR_LEN;
			if (fv.offset == 0 && !fv.more)
				break; /* RFC 6946: an atomic fragment is the whole packet */
			if (fv.offset == 0 && !ipv6_chain_complete(p, len, off + hl, fv.nxt)) {
				icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_FIRSTFRAG, 0);
				r = DROP_TINY_FRAGMENT;
				goto drop;
			}
			m = frag6_input(st, m, off, &fv);
			if (m == NULL)
				return; /* held for reassembly, or dropped there */
			/* The reassembled packet has no fragment header: the
			 * walk goes on from where it was. */
			p = rte_pktmbuf_mtod(m, const uint8_t *);
			wire_ipv6_parse(p, rte_pktmbuf_pkt_len(m), ip);
			nxt = p[nh_field];
			continue;
		case IPPROTO_NONE_:
			/* RFC 8200 4.7: nothing follows; ignore the rest. */
			r = DROP_NO_NEXT_HEADER;
			goto drop;
		default: ipv6_upper(st, ifp, m, ip, off, nxt, nh_field); return;
		}
		nh_field = off;
		nxt = p[off];
		off += hl;
	}
drop:
	pkt_drop(st, m, (enum drop_reason)r);
}

/* RFC 8200 3 (hop limit), RFC 4291 2.5.6 (link-local never forwarded),
 * RFC 8201 (routers send packet too big, never fragment). */
static void
ipv6_forward(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv6_view *ip)
{
	const struct route_nh *nh;
	struct sonde_if *out;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	if (m->hash.usr) {
		pkt_drop(st, m, DROP_NOT_LOCAL);
		return;
	}
	if (ipv6_addr_is_linklocal(ip->src) || ipv6_addr_is_linklocal(ip->dst)) {
		icmp6_error(st, m, ICMP6_DST_UNREACH, 2 /* beyond scope */, 0);
		pkt_drop(st, m, DROP_BAD_SCOPE);
		return;
	}
	if (ip->hlim <= 1) {
		icmp6_error(st, m, ICMP6_TIME_EXCEEDED, 0, 0);
		pkt_drop(st, m, DROP_HLIM_EXCEEDED);
		return;
	}
	nh = route6_lookup(st, ip->dst);
	if (nh == NULL) {
		icmp6_error(st, m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOROUTE, 0);
		pkt_drop(st, m, DROP_NO_ROUTE_FWD);
		return;
	}
	out = stack_if(st, nh->ifindex);
	if (rte_pktmbuf_pkt_len(m) > out->mtu) {
		icmp6_error(st, m, ICMP6_PACKET_TOO_BIG, 0, out->mtu);
		m->port = out->index;
		pkt_drop(st, m, DROP_FRAG_NEEDED);
		return;
	}
	p[7] = (uint8_t)(ip->hlim - 1);
	st->stats.ipv6_forwarded++;
	m->port = out->index;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL; /* as in ipv4_forward() */
	ipv6_send_nh(st, out, m, !ipv6_addr_is_unspecified(nh->gw6) ? nh->gw6 : ip->dst);
}

void
ipv6_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	struct ipv6_view ip;
	int r;

	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
		pkt_drop(st, m, DROP_BAD_LENGTH);
		return;
	}
	r = wire_ipv6_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &ip);
	if (unlikely(r)) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	if (rte_pktmbuf_pkt_len(m) > IPV6_HDR_LEN + (uint32_t)ip.plen)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - IPV6_HDR_LEN - ip.plen));
	st->stats.ipv6_in++;
	probe_receive(st, m, ifp);
	/* RFC 4291 2.7: never from a multicast source; ::1 never on a wire. */
	if (ipv6_addr_is_multicast(ip.src) || ipv6_addr_is_loopback(ip.src) ||
	    ipv6_is_local(st, ip.src)) {
		pkt_drop(st, m, DROP_BAD_SOURCE);
		return;
	}
	if (ipv6_addr_is_loopback(ip.dst) || ipv6_addr_is_unspecified(ip.dst)) {
		pkt_drop(st, m, DROP_BAD_DEST);
		return;
	}
	if (ipv6_addr_is_multicast(ip.dst) ? ipv6_if_joined(st, ifp, ip.dst)
					   : ipv6_is_local(st, ip.dst)) {
		ipv6_deliver(st, ifp, m, &ip);
		return;
	}
	/* RFC 4862 5.4: unicast to a tentative address is silently
	 * discarded (DAD uses the solicited-node group); a duplicate one is
	 * not ours at all. */
	if (ipv6_addr_is_multicast(ip.dst) || !st->forwarding ||
	    ipv6_if_find_addr(ifp, ip.dst) != NULL) {
		pkt_drop(st, m, DROP_NOT_LOCAL);
		return;
	}
	ipv6_forward(st, m, &ip);
}

/* lo0: a packet the stack sent to itself comes back in here. */
void
ipv6_loop_input(struct sonde_stack *st, struct rte_mbuf *m)
{
	struct ipv6_view ip;
	int r;

	r = wire_ipv6_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &ip);
	if (unlikely(r)) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	ipv6_deliver(st, st->lo, m, &ip);
}

/* Finds where a packet to dst leaves: lo0 for our own addresses, the hinted
 * interface for link-local and multicast destinations, else the route. */
struct sonde_if *
ipv6_route(struct sonde_stack *st, const uint8_t *dst, int ifhint, uint8_t *nh)
{
	const struct route_nh *r;

	memcpy(nh, dst, 16);
	if (ipv6_addr_is_loopback(dst) || ipv6_is_local(st, dst))
		return st->lo;
	if (ipv6_addr_is_linklocal(dst) || ipv6_addr_is_multicast(dst))
		return ifhint >= 0 ? stack_if(st, (uint16_t)ifhint) : NULL;
	r = route6_lookup(st, dst);
	if (r == NULL)
		return NULL;
	if (!ipv6_addr_is_unspecified(r->gw6))
		memcpy(nh, r->gw6, 16);
	return stack_if(st, r->ifindex);
}

int
ipv6_output(struct sonde_stack *st, struct rte_mbuf *m, const uint8_t *src, const uint8_t *dst,
	    uint8_t nxt, uint8_t hlim, uint8_t tclass, int ifhint)
{
	struct ipv6_view ip = { 0 };
	struct sonde_if *ifp;
	uint8_t nh[16];
	uint8_t *p;
	uint32_t mtu;

	m->packet_type = RTE_PTYPE_L3_IPV6;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	m->hash.usr = 0;
	m->port = SONDE_IF_NONE;
	ifp = ipv6_route(st, dst, ifhint, nh);
	ip.tclass = tclass;
	ip.plen = (uint16_t)rte_pktmbuf_pkt_len(m);
	ip.nxt = nxt;
	ip.hlim = hlim;
	memcpy(ip.src, src, 16);
	memcpy(ip.dst, dst, 16);
	p = (uint8_t *)rte_pktmbuf_prepend(m, IPV6_HDR_LEN);
	if (unlikely(p == NULL)) {
		rte_pktmbuf_free(m);
		st->stats.drops[DROP_NO_HEADROOM]++;
		return -ENOBUFS;
	}
	wire_ipv6_emit(p, &ip);
	if (ifp == NULL) {
		pkt_drop(st, m, DROP_NO_ROUTE);
		return -EHOSTUNREACH;
	}
	m->port = ifp->index;
	probe_write(st, m, ifp);
	st->stats.ipv6_out++;
	mtu = RTE_MIN((uint32_t)ifp->mtu, pmtu6_get(st, dst));
	if (rte_pktmbuf_pkt_len(m) > mtu)
		return frag6_output(st, ifp, m, nh, mtu);
	ipv6_send_nh(st, ifp, m, nh);
	return 0;
}
