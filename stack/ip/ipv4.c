/*
 * ipv4.c: IPv4 input, local delivery, forwarding and output, a burst at a
 * time.
 *
 * RFC 791 (the protocol), RFC 1122 3.2.1 (what a host checks and how it
 * delivers), RFC 1812 5.2-5.3 (what a router checks and changes when it
 * forwards), RFC 1624 (the incremental checksum update on forwarding).
 * Validate, then route, then deliver or forward: ipv4_input() checks each
 * header and gives the packet a key (its protocol, to deliver; forward; a
 * fragment; a drop reason), fires receive for the burst, then hands each
 * run of one key on (ipv4_dispatch): to the protocol registered for it,
 * with the IP header still in front (read fires for the run), to
 * ipv4_forward(), to reassembly, or to pkt_drop().  Output takes bursts
 * too: a reply turned around in place (ipv4_turn) or a header written by
 * ipv4_output() goes through ipv4_output_burst(), which routes by the
 * destination cache and hands runs to the interfaces.  Options are carried
 * but never acted on (no source routing, RFC 7126).
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "ip.h"
#include "probes.h"
#include "stack.h"

void
ipv4_send_nh(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh)
{
	ifp->kind->output(st, ifp, m, 4, (const uint8_t *)&nh);
}

/* The next hop towards dst by the routing table (the slow path's). */
static struct sonde_if *
ipv4_nexthop(struct sonde_stack *st, uint32_t dst, uint32_t *nh)
{
	const struct route_nh *r;

	if (ipv4_is_local(st, dst) || IN_LOOPBACK_H(rte_be_to_cpu_32(dst))) {
		*nh = dst;
		return st->lo;
	}
	r = route4_lookup(st, dst);
	if (r == NULL)
		return NULL;
	*nh = r->gw4 ? r->gw4 : dst;
	return stack_if(st, r->ifindex);
}

/* The header at p (len bytes in the segment) against RFC 791 / RFC 1122
 * 3.2.1; its total length into *tot.  0 or the drop reason.  Without
 * options inline and straight-line; with them, wire.c's parser. */
static __rte_always_inline int
ipv4_check(const uint8_t *p, uint32_t len, uint64_t ck, uint16_t *tot)
{
	struct ipv4_view ip;
	int r;

	if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return DROP_BAD_CHECKSUM;
	if (likely(len >= IPV4_MIN_HDR_LEN && p[0] == 0x45)) {
		*tot = wire_get16(p + 2);
		if (unlikely(*tot < IPV4_MIN_HDR_LEN || *tot > len))
			return DROP_BAD_LENGTH;
		if (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && wire_cksum_hdr(p, IPV4_MIN_HDR_LEN) != 0)
			return DROP_BAD_CHECKSUM;
		return 0;
	}
	r = wire_ipv4_parse(p, len, ck == RTE_MBUF_F_RX_IP_CKSUM_GOOD, &ip);
	*tot = ip.total_len;
	return r;
}

/* RFC 1122 3.2.1.3, RFC 1812 5.3.7: martian sources and destinations;
 * then ours, a broadcast of the interface (delivered as to a group),
 * to forward, or not ours.  Ours and broadcasts are looked for only where
 * the filter of our addresses says they may be: most addresses are
 * nobody's of ours, and a forwarded packet's destination is looked up by
 * ipv4_forward() anyway. */
static __rte_always_inline int
ipv4_classify(struct sonde_stack *st, const struct sonde_if *ifp, const uint8_t *p,
	      struct pkt_meta *pm)
{
	uint32_t src = wire_load32(p + 12), dst = wire_load32(p + 16);
	uint32_t hs = rte_be_to_cpu_32(src), hd = rte_be_to_cpu_32(dst);

	if (IN_MULTICAST_H(hs) || hs == 0xffffffff || IN_LOOPBACK_H(hs))
		return DROP_BAD_SOURCE;
	if (hs != 0 && unlikely(maybe_local(st->maybe_local4, dst_hash4(src))) &&
	    (ipv4_is_local(st, src) || ipv4_is_broadcast(st, ifp, src)))
		return DROP_BAD_SOURCE;
	/* Ours first: none of our addresses is 0.0.0.0 or on 127/8
	 * (addr.c refuses them), so what is ours needs no more checks. */
	if (maybe_local(st->maybe_local4, dst_hash4(dst))) {
		if (ipv4_is_local(st, dst))
			return IP_DELIVER;
		if (ipv4_is_broadcast(st, ifp, dst)) {
			pm->flags |= PKT_IP_BCAST;
			return IP_DELIVER;
		}
	}
	if (IN_LOOPBACK_H(hd) || hd == 0)
		return DROP_BAD_DEST;
	/* We join no multicast group yet; RFC 1812 5.3.5 leaves multicast
	 * forwarding to multicast routers. */
	if (IN_MULTICAST_H(hd) || !st->forwarding)
		return DROP_NOT_LOCAL;
	return IP_FORWARD;
}

/* RFC 1812 5.2.1 and 5.3: TTL, route, MTU, then the header rewrite. */
static void
ipv4_forward(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	struct sonde_if *out[SONDE_BURST];
	uint8_t oix[SONDE_BURST + RUN_PAD];
	void *l2[SONDE_BURST];
	uint16_t k = 0;

	(void)ifp;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		uint8_t ttl = p[8];
		uint16_t tot = wire_get16(p + 2);
		const struct dst *d;
		uint32_t nh;

		/* RFC 1812 5.3.4: a link-layer broadcast is not forwarded. */
		if (unlikely(pkt_meta(m)->flags & PKT_L2_GROUP)) {
			pkt_drop(st, m, DROP_NOT_LOCAL);
			continue;
		}
		if (unlikely(ttl <= 1)) {
			icmp_error(st, m, ICMP_TIMXCEED, 0, 0);
			pkt_drop(st, m, DROP_TTL_EXCEEDED);
			continue;
		}
		d = dst4(st, wire_load32(p + 16));
		if (unlikely(!(d->flags & DST_ROUTE))) {
			icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_NET, 0);
			pkt_drop(st, m, DROP_NO_ROUTE_FWD);
			continue;
		}
		if (unlikely(tot > d->out->mtu) && (wire_get16(p + 6) & IPV4_FLAG_DF)) {
			/* RFC 1191: tell the source the next-hop MTU. */
			icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, d->out->mtu);
			pkt_meta(m)->ifindex = d->out->index;
			pkt_drop(st, m, DROP_FRAG_NEEDED);
			continue;
		}
		/* TTL and protocol share a 16-bit word: adjust the checksum for it. */
		p[8] = (uint8_t)(ttl - 1);
		wire_put16(p + 10, wire_cksum_ttl_dec(wire_get16(p + 10)));
		st->stats.ipv4_forwarded++;
		pkt_meta(m)->ifindex = d->out->index;
		/* Only the receive flags go: EXTERNAL says whose buffer this is
		 * (rte_pktmbuf_reset() keeps it too). */
		m->ol_flags &= RTE_MBUF_F_EXTERNAL;
		if (unlikely(tot > d->out->mtu || !(d->flags & DST_READY))) {
			struct sonde_if *o = ipv4_nexthop(st, wire_load32(p + 16), &nh);

			if (tot > o->mtu)
				frag4_output(st, o, m, nh);
			else
				ipv4_send_nh(st, o, m, nh);
			continue;
		}
		out[k] = d->out;
		oix[k] = (uint8_t)d->out->index;
		l2[k] = d->l2;
		pkts[k++] = m;
	}
	if_send_burst(st, pkts, out, l2, oix, k);
}

/* RFC 1122 3.2.2.1: protocol unreachable for a transport we lack. */
static void
ipv4_no_protocol(struct sonde_stack *st, struct rte_mbuf *m)
{
	icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0);
	pkt_drop(st, m, DROP_NO_PROTOCOL);
}

static void ipv4_dispatch(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts,
			  uint16_t *key, uint16_t n);

/* Fragments to us: each to reassembly; what that makes whole goes on as
 * a burst of its own. */
static void
ipv4_reass(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t key[SONDE_BURST + RUN_PAD16];
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = st->reass[0](st, pkts[i], 0);
		const uint8_t *p;

		if (m == NULL)
			continue; /* held for reassembly, or dropped there */
		/* The datagram's own header, the first fragment's: what
		 * follows reads nothing of the fragment that completed it. */
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		pkt_meta(m)->l3_len = (uint16_t)((p[0] & 0xf) * 4);
		key[k] = p[9];
		pkts[k++] = m;
	}
	ipv4_dispatch(st, ifp, pkts, key, k);
}

/* Each run of one key on its way (ip_dispatch()). */
static void
ipv4_dispatch(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t *key,
	      uint16_t n)
{
	ip_dispatch(st, 4, ifp, pkts, key, n, ipv4_forward, ipv4_reass, ipv4_no_protocol);
}

/* The key of a packet to us (see ipv4_dispatch): its protocol, with the
 * header's length in pkt_meta, or reassembly for a fragment. */
static __rte_always_inline uint16_t
ipv4_deliver_key(const uint8_t *p, struct pkt_meta *pm)
{
	if (unlikely(wire_get16(p + 6) & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)))
		return IP_KEY_REASS;
	pm->l3_len = (uint16_t)((p[0] & 0xf) * 4);
	return p[9];
}

static void
ipv4_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t key[SONDE_BURST + RUN_PAD16];
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *pm = pkt_meta(m);
		const uint8_t *p;
		uint16_t tot = 0;
		int r;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		pm->af = 4;
		if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
			pkt_drop(st, m, DROP_BAD_LENGTH);
			continue;
		}
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		r = ipv4_check(p, rte_pktmbuf_data_len(m),
			       m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK, &tot);
		if (unlikely(r)) {
			pkt_drop(st, m, (enum drop_reason)r);
			continue;
		}
		/* Ethernet pads short frames: the header says where the packet ends. */
		if (unlikely(rte_pktmbuf_pkt_len(m) > tot))
			rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - tot));
		r = ipv4_classify(st, ifp, p, pm);
		key[k] = likely(r == IP_DELIVER) ? ipv4_deliver_key(p, pm)
			 : r == IP_FORWARD	 ? IP_KEY_FORWARD
						 : (uint16_t)(IP_KEY_DROP + r);
		pkts[k++] = m;
	}
	st->stats.ipv4_in += k;
	probe_burst_if(st, PROBE_RECEIVE, pkts, k, ifp);
	ipv4_dispatch(st, ifp, pkts, key, k);
}

/* lo0: packets the stack sent to itself come back in here. */
static void
ipv4_local(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t key[SONDE_BURST + RUN_PAD16];
	struct ipv4_view ip;
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int r = wire_ipv4_parse(rte_pktmbuf_mtod(m, const uint8_t *),
					rte_pktmbuf_data_len(m), 1, &ip);

		if (unlikely(r)) {
			pkt_drop(st, m, (enum drop_reason)r);
			continue;
		}
		key[k] = ipv4_deliver_key(rte_pktmbuf_mtod(m, const uint8_t *), pkt_meta(m));
		pkts[k++] = m;
	}
	ipv4_dispatch(st, ifp, pkts, key, k);
}

/* What follows write for m, leaving by out to next hop nh: ESP (once),
 * then fragmentation or the interface. */
static void
ipv4_output_written(struct sonde_stack *st, struct rte_mbuf *m, struct sonde_if *out, uint32_t nh,
		    bool esp)
{
	if (unlikely(pkt_meta(m)->flags & PKT_XFRM)) {
		st->xfrm_out(st, &m, 1);
		if (m == NULL)
			return;
		esp = true;
	}
	if (rte_pktmbuf_pkt_len(m) > out->mtu) {
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		/* An ESP packet too big for the underlay (the tunnel's MTU
		 * assumed 1500): fragmented after ESP (RFC 4303 3.3.5), its DF
		 * cleared as RFC 4301 8.1 allows: the inner packet is
		 * ciphertext by now, there is no one to tell "fragmentation
		 * needed" to (a router's is ESP's, esp.c: the tunnel's MTU
		 * goes down, and the next inner packet gets it). */
		if (esp && (wire_get16(p + 6) & IPV4_FLAG_DF)) {
			wire_put16(p + 6, wire_get16(p + 6) & (uint16_t)~IPV4_FLAG_DF);
			wire_put16(p + 10, 0);
			wire_put16(p + 10, wire_cksum_hdr(p, (p[0] & 0xfu) * 4u));
		}
		frag4_output(st, out, m, nh);
		return;
	}
	if (out->csum_tx_ipv4)
		ipv4_offload(m, rte_pktmbuf_mtod(m, uint8_t *));
	ipv4_send_nh(st, out, m, nh);
}

/* A packet that cannot leave the burst's way: with no route or source it
 * is dropped; too big it is fragmented (RFC 791 2.3, RFC 1122 3.3.3: ours,
 * without DF); to a next hop not yet resolved it goes to its interface's
 * output, which resolves. */
void
ipv4_output_slow(struct sonde_stack *st, struct rte_mbuf *m, const struct dst *d)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	struct sonde_if *out;
	uint32_t nh;

	if (!(d->flags & DST_ROUTE)) {
		/* It has no interface to leave by: the probe says none (a
		 * reply's meta still names the interface its request came in
		 * on). */
		pkt_meta(m)->ifindex = SONDE_IF_NONE;
		pkt_drop(st, m, DROP_NO_ROUTE);
		return;
	}
	out = ipv4_nexthop(st, wire_load32(p + 16), &nh);
	pkt_meta(m)->ifindex = out->index;
	if (wire_load32(p + 12) == 0) {
		pkt_drop(st, m, DROP_NO_SOURCE);
		return;
	}
	probe_write(st, m, out);
	st->stats.ipv4_out++;
	ipv4_output_written(st, m, out, nh, false);
}

/* ip_out_send's probe, then the same send: out of line, so that untraced
 * ip_out_send is a test and a tail call (with the probe's call inline, its
 * arguments were kept across it in saved registers: 20 instructions a
 * burst, 0.6% of a TCP request-response, for a probe nobody traced). */
static __attribute__((noinline, cold)) void
ip_out_send_traced(struct sonde_stack *st, struct ip_out *o)
{
	probe_burst_out(st, PROBE_WRITE, o->pkts, o->n, o->out);
	if_send_burst(st, o->pkts, o->out, o->l2, o->oix, o->n);
}

/* ip_out_send of an ESP tunnel's outer packets: write as they are, then
 * ESP (st->xfrm_out: each replaced by its ESP packet, or dropped), then
 * the interfaces; an ESP packet too big for its path (the tunnel's MTU
 * leaves room for ESP: only when the underlay's is smaller) is
 * fragmented, as RFC 4303 3.3.5 has it, after ESP. */
static __rte_noinline void
ip_out_send_xfrm(struct sonde_stack *st, struct ip_out *o, int af)
{
	uint16_t k = 0;

	if (unlikely(probe_gate(st)))
		probe_burst_out(st, PROBE_WRITE, o->pkts, o->n, o->out);
	st->xfrm_out(st, o->pkts, o->n);
	for (uint16_t i = 0; i < o->n; i++) {
		struct rte_mbuf *m = o->pkts[i];
		const uint8_t *p;

		if (m == NULL)
			continue;
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		if (af == 4 && rte_pktmbuf_pkt_len(m) > dst4(st, wire_load32(p + 16))->mtu) {
			uint32_t nh;
			struct sonde_if *out = ipv4_nexthop(st, wire_load32(p + 16), &nh);

			ipv4_output_written(st, m, out, nh, true);
			continue;
		}
		if (af == 6 && rte_pktmbuf_pkt_len(m) > dst6(st, p + 24, SONDE_IF_NONE)->mtu) {
			ipv6_output_written(st, m, dst6(st, p + 24, SONDE_IF_NONE));
			continue;
		}
		o->pkts[k] = m;
		o->out[k] = o->out[i];
		o->l2[k] = o->l2[i];
		o->oix[k++] = o->oix[i];
	}
	if_send_burst(st, o->pkts, o->out, o->l2, o->oix, k);
}

void
ip_out_send(struct sonde_stack *st, struct ip_out *o, int af)
{
	if (af == 4)
		st->stats.ipv4_out += o->n;
	else
		st->stats.ipv6_out += o->n;
	if (unlikely(o->xfrm)) {
		ip_out_send_xfrm(st, o, af);
		return;
	}
	if (unlikely(probe_gate(st)))
		ip_out_send_traced(st, o);
	else
		if_send_burst(st, o->pkts, o->out, o->l2, o->oix, o->n);
}

void
ipv4_output_burst(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	struct ip_out o;

	ip_out_init(&o);
	for (uint16_t i = 0; i < n; i++)
		ipv4_out_add(st, &o, pkts[i]);
	ip_out_send(st, &o, 4);
}

void
ip_output_xfrm_burst(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n, int af)
{
	struct ip_out o;

	ip_out_init(&o);
	o.xfrm = true;
	for (uint16_t i = 0; i < n; i++) {
		if (af == 4)
			ipv4_out_add(st, &o, pkts[i]);
		else
			ipv6_out_add(st, &o, pkts[i]);
	}
	ip_out_send(st, &o, af);
}

int
ipv4_output(struct sonde_stack *st, struct rte_mbuf *m, uint32_t src, uint32_t dst, uint8_t proto,
	    uint8_t ttl, uint8_t tos)
{
	return ipv4_output_conn(st, m, NULL, src, dst, proto, ttl, tos);
}

int
ipv4_output_conn(struct sonde_stack *st, struct rte_mbuf *m, void *conn, uint32_t src, uint32_t dst,
		 uint8_t proto, uint8_t ttl, uint8_t tos)
{
	struct ipv4_view ip = { 0 };
	const struct dst *d;
	uint8_t *p;

	pkt_meta_init(m, SONDE_IF_NONE, 4);
	pkt_meta(m)->conn = conn;
	p = (uint8_t *)rte_pktmbuf_prepend(m, IPV4_MIN_HDR_LEN);
	if (unlikely(p == NULL)) {
		/* The probe sees a packet with no header yet (probes.c). */
		pkt_drop(st, m, DROP_NO_HEADROOM);
		return -ENOBUFS;
	}
	d = dst4(st, dst);
	if (src == 0)
		src = d->flags & DST_LOCAL ? dst : ipv4_if_addr(d->out, dst);
	ip.ihl = IPV4_MIN_HDR_LEN;
	ip.tos = tos;
	ip.total_len = (uint16_t)rte_pktmbuf_pkt_len(m);
	ip.ident = st->ip_ident++;
	ip.ttl = ttl;
	ip.proto = proto;
	ip.src = src;
	ip.dst = dst;
	wire_ipv4_emit(p, &ip, 0);
	pkt_meta(m)->l3_len = IPV4_MIN_HDR_LEN;
	/* A socket's datagram: udp:::send, before IP's own probes. */
	if (conn != NULL && proto == IPPROTO_UDP_)
		probe_udp(st, PROBE_UDP_SEND, m, conn);
	if (!(d->flags & DST_ROUTE)) {
		pkt_drop(st, m, DROP_NO_ROUTE);
		return -EHOSTUNREACH;
	}
	if (src == 0) {
		pkt_meta(m)->ifindex = d->out->index;
		pkt_drop(st, m, DROP_NO_SOURCE);
		return -EADDRNOTAVAIL;
	}
	ipv4_output_burst(st, &m, 1);
	return 0;
}

/* ipv4_turn() of a request with options: the reply carries none, so the
 * fixed header moves up to the transport header. */
void
ipv4_turn_options(struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	uint16_t opt = (uint16_t)(pm->l3_len - IPV4_MIN_HDR_LEN);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	memmove(p + opt, p, IPV4_MIN_HDR_LEN);
	pkt_adj(m, opt);
	pm->l3_len = IPV4_MIN_HDR_LEN;
}

static int
ipv4_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	return proto_eth_register(st, ETHERTYPE_IPV4, ipv4_input)
		       ?: proto_l3_register(st, 4, ipv4_input, ipv4_local);
}

const struct sonde_layer ipv4_layer = {
	.name = "ipv4",
	.init = ipv4_init,
};
