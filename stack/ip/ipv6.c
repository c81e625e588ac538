/*
 * ipv6.c: IPv6 input, extension headers, local delivery, forwarding and
 * output, a burst at a time.
 *
 * RFC 8200 (the protocol; 4.x the extension headers and their order),
 * RFC 5095 (type 0 routing headers refused), RFC 6946 (atomic fragments),
 * RFC 7112 (the first fragment carries the whole header chain), RFC 4291
 * (addresses and scopes), RFC 8201 (path MTU from packet-too-big).
 * Validate, then route, then deliver or forward, as ipv4.c; every
 * extension header is just another step of the walk in ipv6_walk(), and
 * the Fragment header's step is the reassembly registered for IPv6.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include "ip.h"
#include "probes.h"
#include "stack.h"

#define IPV6_MAX_EXT_HDRS 16

void
ipv6_send_nh(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, const uint8_t *nh)
{
	ifp->kind->output(st, ifp, m, 6, nh);
}

/* RFC 8200 4.2: the options of a Hop-by-Hop or Destination Options header
 * at off, hl bytes long.  Returns 0 to go on or the drop reason (after the
 * ICMPv6 error the option's action bits ask for). */
static int
ipv6_options(struct sonde_stack *st, struct rte_mbuf *m, uint32_t off, uint32_t hl)
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
				if (ipv6_addr_is_multicast(p + 24))
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

/* Where the walk stands: the header to read next (nxt) at off, and the
 * offset of the field that named it (for a parameter problem). */
struct ipv6_walk {
	uint32_t off, nh_field;
	uint8_t nxt;
};

/* One extension header: 0 to go on (w moved past it), or a drop reason;
 * *mp may become the reassembled datagram, or NULL (held). */
static int
ipv6_ext(struct sonde_stack *st, struct rte_mbuf **mp, struct ipv6_walk *w)
{
	struct rte_mbuf *m = *mp;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), off = w->off, hl;
	struct frag6_view fv;
	int r;

	switch (w->nxt) {
	case IPPROTO_HOPOPTS_:
		if (off != IPV6_HDR_LEN) {
			icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER,
				    w->nh_field);
			return DROP_HBH_NOT_FIRST;
		}
		/* fallthrough */
	case IPPROTO_DSTOPTS_:
		if (off + 2 > len || off + (hl = (p[off + 1] + 1u) * 8) > len)
			return DROP_EXT_TRUNCATED;
		r = ipv6_options(st, m, off, hl);
		if (r)
			return r;
		break;
	case IPPROTO_ROUTING_:
		if (off + 4 > len || off + (hl = (p[off + 1] + 1u) * 8) > len)
			return DROP_EXT_TRUNCATED;
		/* RFC 8200 4.4: with segments left, an unknown type is a
		 * parameter problem; type 0 is unknown (RFC 5095 3). */
		if (p[off + 3] != 0) {
			icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, off + 2);
			return p[off + 2] == 0 ? DROP_RH0 : DROP_BAD_ROUTING;
		}
		break;
	case IPPROTO_FRAGMENT_:
		r = wire_frag6_parse(p + off, len - off, &fv);
		if (r)
			return r;
		hl = IPV6_FRAG_HDR_LEN;
		if (fv.offset == 0 && !fv.more)
			break; /* RFC 6946: an atomic fragment is the whole packet */
		if (fv.offset == 0 && !ipv6_chain_complete(p, len, off + hl, fv.nxt)) {
			icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_FIRSTFRAG, 0);
			return DROP_TINY_FRAGMENT;
		}
		*mp = st->reass[1](st, m, off);
		if (*mp == NULL)
			return 0; /* held for reassembly, or dropped there */
		/* The reassembled packet has no fragment header: the walk goes
		 * on from where it was, with the next header the datagram's
		 * own first fragment named. */
		w->nxt = rte_pktmbuf_mtod(*mp, const uint8_t *)[w->nh_field];
		return 0;
	default:
		/* RFC 8200 4.7: nothing follows; ignore the rest. */
		return DROP_NO_NEXT_HEADER;
	}
	w->nh_field = off;
	w->nxt = p[off];
	w->off = off + hl;
	return 0;
}

/* An extension header (or No Next Header) the walk takes: all are below
 * 64, so one test of a mask. */
static __rte_always_inline bool
ipv6_is_ext(uint8_t nxt)
{
	const uint64_t ext = 1ull << IPPROTO_HOPOPTS_ | 1ull << IPPROTO_ROUTING_ |
			     1ull << IPPROTO_DSTOPTS_ | 1ull << IPPROTO_FRAGMENT_ |
			     1ull << IPPROTO_NONE_;

	return nxt < 64 && ((ext >> nxt) & 1);
}

/* RFC 8200 3 (hop limit), RFC 4291 2.5.6 (link-local never forwarded),
 * RFC 8201 (routers send packet too big, never fragment). */
static void
ipv6_forward(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	struct sonde_if *out[SONDE_BURST];
	uint8_t oix[SONDE_BURST + RUN_PAD];
	void *l2[SONDE_BURST];
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), nh[16];
		const struct dst *d;
		struct sonde_if *o;

		if (unlikely(pkt_meta(m)->flags & PKT_L2_GROUP)) {
			pkt_drop(st, m, DROP_NOT_LOCAL);
			continue;
		}
		if (unlikely(ipv6_addr_is_linklocal(p + 8) || ipv6_addr_is_linklocal(p + 24))) {
			icmp6_error(st, m, ICMP6_DST_UNREACH, 2 /* beyond scope */, 0);
			pkt_drop(st, m, DROP_BAD_SCOPE);
			continue;
		}
		if (unlikely(p[7] <= 1)) {
			icmp6_error(st, m, ICMP6_TIME_EXCEEDED, 0, 0);
			pkt_drop(st, m, DROP_HLIM_EXCEEDED);
			continue;
		}
		d = dst6(st, p + 24, ifp->index);
		/* RFC 4862 5.4: unicast to a tentative address is silently
		 * discarded (DAD uses the solicited-node group); a duplicate
		 * one is not ours at all. */
		if (unlikely(d->ifmask & (1ull << ifp->index))) {
			pkt_drop(st, m, DROP_NOT_LOCAL);
			continue;
		}
		if (unlikely(!(d->flags & DST_ROUTE))) {
			icmp6_error(st, m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOROUTE, 0);
			pkt_drop(st, m, DROP_NO_ROUTE_FWD);
			continue;
		}
		o = d->out;
		if (unlikely(rte_pktmbuf_pkt_len(m) > o->mtu)) {
			icmp6_error(st, m, ICMP6_PACKET_TOO_BIG, 0, o->mtu);
			pkt_meta(m)->ifindex = o->index;
			pkt_drop(st, m, DROP_FRAG_NEEDED);
			continue;
		}
		p[7]--;
		st->stats.ipv6_forwarded++;
		pkt_meta(m)->ifindex = o->index;
		m->ol_flags &= RTE_MBUF_F_EXTERNAL; /* as in ipv4_forward() */
		if (unlikely(!(d->flags & DST_READY))) {
			o = ipv6_route(st, p + 24, ifp->index, nh);
			ipv6_send_nh(st, o, m, nh);
			continue;
		}
		out[k] = o;
		oix[k] = (uint8_t)o->index;
		l2[k] = d->l2;
		pkts[k++] = m;
	}
	if_send_burst(st, pkts, out, l2, oix, k);
}

/* RFC 8200 4: an unrecognised Next Header value. */
static void
ipv6_no_protocol(struct sonde_stack *st, struct rte_mbuf *m)
{
	icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, ipv6_nh_field(m));
	pkt_drop(st, m, DROP_NO_PROTOCOL);
}

static void ipv6_dispatch(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts,
			  uint16_t *key, uint16_t n);

/* Packets to us with extension headers: each walked (RFC 8200 4.1 order:
 * Hop-by-Hop first), reassembled at its Fragment header; what reaches an
 * upper layer goes on as a burst of its own. */
static void
ipv6_walk(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t key[SONDE_BURST + RUN_PAD16];
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ipv6_walk w = { IPV6_HDR_LEN, 6, rte_pktmbuf_mtod(m, const uint8_t *)[6] };
		int r = 0;

		for (int x = 0; m != NULL; x++) {
			/* The upper layer too must come within the limits. */
			if (x == IPV6_MAX_EXT_HDRS || w.off > 511) {
				r = DROP_EXT_TOO_MANY;
				break;
			}
			if (!ipv6_is_ext(w.nxt))
				break;
			r = ipv6_ext(st, &m, &w);
			if (r)
				break;
		}
		if (m == NULL)
			continue;
		if (r) {
			pkt_drop(st, m, (enum drop_reason)r);
			continue;
		}
		pkt_meta(m)->l3_len = (uint16_t)w.off;
		pkt_meta(m)->scratch[0] = w.nh_field;
		key[k] = w.nxt;
		pkts[k++] = m;
	}
	ipv6_dispatch(st, ifp, pkts, key, k);
}

/* Each run of one key on its way (ip_dispatch()). */
static void
ipv6_dispatch(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t *key,
	      uint16_t n)
{
	ip_dispatch(st, 6, ifp, pkts, key, n, ipv6_forward, ipv6_walk, ipv6_no_protocol);
}

/* The key of a packet to us (see ipv6_dispatch): its upper protocol, with
 * the header's length in pkt_meta, or the walk for extension headers. */
static __rte_always_inline uint16_t
ipv6_deliver_key(const uint8_t *p, struct pkt_meta *pm)
{
	if (unlikely(ipv6_is_ext(p[6])))
		return IP_KEY_REASS;
	pm->l3_len = IPV6_HDR_LEN; /* and it is named at offset 6 (ipv6_nh_field) */
	return p[6];
}

/* RFC 8200 3 and RFC 4291 2.7: martians; then ours, a group we joined, to
 * forward, or not ours (as ipv4_classify(): ours only looked for where
 * the filter says it may be). */
static __rte_always_inline int
ipv6_classify(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *p)
{
	const uint8_t *src = p + 8, *dst = p + 24;

	/* Never from a multicast source; ::1 never on a wire. */
	if (ipv6_addr_is_multicast(src) || ipv6_addr_is_loopback(src))
		return DROP_BAD_SOURCE;
	if (unlikely(maybe_local(st->maybe_local6, maybe_hash6(src))) && ipv6_is_local(st, src))
		return DROP_BAD_SOURCE;
	/* Ours first: none of our addresses is :: or ::1 (addr.c refuses
	 * them), so what is ours needs no more checks. */
	if (maybe_local(st->maybe_local6, maybe_hash6(dst)) && ipv6_is_local(st, dst))
		return IP_DELIVER;
	if (ipv6_addr_is_loopback(dst) || ipv6_addr_is_unspecified(dst))
		return DROP_BAD_DEST;
	if (ipv6_addr_is_multicast(dst))
		return ipv6_if_joined(st, ifp, dst) ? IP_DELIVER : DROP_NOT_LOCAL;
	return st->forwarding ? IP_FORWARD : DROP_NOT_LOCAL;
}

static void
ipv6_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t key[SONDE_BURST + RUN_PAD16];
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t len;
		uint16_t plen;
		int r;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		pkt_meta(m)->af = 6;
		if (unlikely(m->nb_segs > 1)) {
			if (rte_pktmbuf_linearize(m) != 0) {
				pkt_drop(st, m, DROP_BAD_LENGTH);
				continue;
			}
			p = rte_pktmbuf_mtod(m, const uint8_t *);
		}
		/* RFC 8200 3: the version, and a payload length that fits the
		 * bytes present; zero (a jumbogram, RFC 2675) is refused. */
		len = rte_pktmbuf_data_len(m);
		if (unlikely(len < IPV6_HDR_LEN)) {
			pkt_drop(st, m, DROP_TRUNCATED);
			continue;
		}
		if (unlikely(p[0] >> 4 != 6)) {
			pkt_drop(st, m, DROP_BAD_VERSION);
			continue;
		}
		plen = wire_get16(p + 4);
		if (unlikely(plen == 0 || plen > len - IPV6_HDR_LEN)) {
			pkt_drop(st, m, DROP_BAD_LENGTH);
			continue;
		}
		if (unlikely(len > IPV6_HDR_LEN + (uint32_t)plen))
			rte_pktmbuf_trim(m, (uint16_t)(len - IPV6_HDR_LEN - plen));
		r = ipv6_classify(st, ifp, p);
		key[k] = likely(r == IP_DELIVER) ? ipv6_deliver_key(p, pkt_meta(m))
			 : r == IP_FORWARD	 ? IP_KEY_FORWARD
						 : (uint16_t)(IP_KEY_DROP + r);
		pkts[k++] = m;
	}
	st->stats.ipv6_in += k;
	probe_burst_if(st, PROBE_RECEIVE, pkts, k, ifp);
	ipv6_dispatch(st, ifp, pkts, key, k);
}

/* lo0: packets the stack sent to itself come back in here. */
static void
ipv6_local(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t key[SONDE_BURST + RUN_PAD16];
	struct ipv6_view ip;
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int r = wire_ipv6_parse(rte_pktmbuf_mtod(m, const uint8_t *),
					rte_pktmbuf_data_len(m), &ip);

		if (unlikely(r)) {
			pkt_drop(st, m, (enum drop_reason)r);
			continue;
		}
		key[k] = ipv6_deliver_key(rte_pktmbuf_mtod(m, const uint8_t *), pkt_meta(m));
		pkts[k++] = m;
	}
	ipv6_dispatch(st, ifp, pkts, key, k);
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

/* As ipv4_output_slow(): no route, too big (fragmented at the source,
 * RFC 8200 4.5), or a next hop to resolve. */
static void
ipv6_output_slow_from(struct sonde_stack *st, struct rte_mbuf *m, const struct dst *d, bool write)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t hint = pkt_meta(m)->ifindex;
	struct sonde_if *out;
	uint8_t nh[16];
	uint32_t mtu;

	out = d->flags & DST_ROUTE
		      ? ipv6_route(st, p + 24, hint == SONDE_IF_NONE ? -1 : (int)hint, nh)
		      : NULL;
	if (out == NULL) {
		pkt_meta(m)->ifindex = SONDE_IF_NONE; /* as ipv4_output_slow() */
		pkt_drop(st, m, DROP_NO_ROUTE);
		return;
	}
	pkt_meta(m)->ifindex = out->index;
	if (write) {
		probe_write(st, m, out);
		st->stats.ipv6_out++;
	}
	if (unlikely(pkt_meta(m)->flags & PKT_XFRM)) {
		st->xfrm_out(st, &m, 1); /* ESP, once: ipv4_output_written() */
		if (m == NULL)
			return;
		p = rte_pktmbuf_mtod(m, const uint8_t *);
	}
	mtu = RTE_MIN((uint32_t)out->mtu, pmtu6_get(st, p + 24));
	if (rte_pktmbuf_pkt_len(m) > mtu)
		frag6_output(st, out, m, nh, mtu);
	else
		ipv6_send_nh(st, out, m, nh);
}

/* An ESP packet (ip_out_send's, written and transformed) too big for the
 * path to d: the slow path's fragmentation, write not fired again. */
void
ipv6_output_written(struct sonde_stack *st, struct rte_mbuf *m, const struct dst *d)
{
	ipv6_output_slow_from(st, m, d, false);
}

void
ipv6_output_slow(struct sonde_stack *st, struct rte_mbuf *m, const struct dst *d)
{
	ipv6_output_slow_from(st, m, d, true);
}

void
ipv6_output_burst(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	struct ip_out o;

	ip_out_init(&o);
	for (uint16_t i = 0; i < n; i++)
		ipv6_out_add(st, &o, pkts[i]);
	ip_out_send(st, &o, 6);
}

/* RFC 4291 2.5.2: the unspecified address is the source only of a node
 * that has no address yet: Neighbor Discovery (a DAD probe, RFC 4862
 * 5.4.2; a Router Solicitation) and MLD (RFC 3810 5.2.13), ICMPv6 types
 * 130 to 143. */
static bool
ipv6_may_be_unspecified(const struct rte_mbuf *m, const uint8_t *p)
{
	return p[6] == IPPROTO_ICMPV6_ && rte_pktmbuf_data_len(m) > IPV6_HDR_LEN &&
	       p[IPV6_HDR_LEN] >= 130 && p[IPV6_HDR_LEN] <= 143;
}

int
ipv6_output(struct sonde_stack *st, struct rte_mbuf *m, const uint8_t *src, const uint8_t *dst,
	    uint8_t nxt, uint8_t hlim, uint8_t tclass, int ifhint)
{
	return ipv6_output_conn(st, m, NULL, src, dst, nxt, hlim, tclass, ifhint);
}

int
ipv6_output_conn(struct sonde_stack *st, struct rte_mbuf *m, void *conn, const uint8_t *src,
		 const uint8_t *dst, uint8_t nxt, uint8_t hlim, uint8_t tclass, int ifhint)
{
	struct ipv6_view ip = { 0 };
	const struct dst *d;
	uint8_t *p;

	pkt_meta_init(m, ifhint >= 0 ? (uint16_t)ifhint : SONDE_IF_NONE, 6);
	pkt_meta(m)->conn = conn;
	ip.tclass = tclass;
	ip.plen = (uint16_t)rte_pktmbuf_pkt_len(m);
	ip.nxt = nxt;
	ip.hlim = hlim;
	memcpy(ip.src, src, 16);
	memcpy(ip.dst, dst, 16);
	p = (uint8_t *)rte_pktmbuf_prepend(m, IPV6_HDR_LEN);
	if (unlikely(p == NULL)) {
		pkt_drop(st, m, DROP_NO_HEADROOM);
		return -ENOBUFS;
	}
	wire_ipv6_emit(p, &ip);
	pkt_meta(m)->l3_len = IPV6_HDR_LEN;
	/* A socket's datagram: udp:::send, before IP's own probes. */
	if (conn != NULL && nxt == IPPROTO_UDP_)
		probe_udp(st, PROBE_UDP_SEND, m, conn);
	d = dst6(st, dst, pkt_meta(m)->ifindex);
	if (!(d->flags & DST_ROUTE)) {
		pkt_meta(m)->ifindex = SONDE_IF_NONE;
		pkt_drop(st, m, DROP_NO_ROUTE);
		return -EHOSTUNREACH;
	}
	if (unlikely(ipv6_addr_is_unspecified(src)) && !ipv6_may_be_unspecified(m, p)) {
		pkt_meta(m)->ifindex = d->out->index;
		pkt_drop(st, m, DROP_NO_SOURCE);
		return -EADDRNOTAVAIL;
	}
	ipv6_output_burst(st, &m, 1);
	return 0;
}

/* ipv6_turn() of a request with extension headers: the reply carries
 * none, so the fixed header moves up to the upper-layer header, naming
 * it. */
void
ipv6_turn_ext(struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	uint16_t ext = (uint16_t)(pm->l3_len - IPV6_HDR_LEN);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t nxt = p[ipv6_nh_field(m)];

	memmove(p + ext, p, IPV6_HDR_LEN);
	p[ext + 6] = nxt;
	pkt_adj(m, ext);
	pm->l3_len = IPV6_HDR_LEN;
}

static int
ipv6_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	st->frag6_ident = (uint32_t)rte_rand();
	return proto_eth_register(st, ETHERTYPE_IPV6, ipv6_input)
		       ?: proto_l3_register(st, 6, ipv6_input, ipv6_local);
}

const struct sonde_layer ipv6_layer = {
	.name = "ipv6",
	.init = ipv6_init,
};
