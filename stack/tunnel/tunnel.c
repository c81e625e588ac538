/*
 * tunnel.c: tunnel interfaces, IP in IP: ipip (RFC 2003), sit (RFC 4213),
 * ip6ip6 and ipip6 (RFC 2473), gre and ip6gre (RFC 2784 with RFC 2890's
 * key), each as Linux's device of the same name puts it on the wire.
 *
 * A tunnel is an interface kind like Ethernet: addresses, routes, MTU,
 * counters, a capture (raw IP: no link header) and probes.  What leaves
 * it (its xmit, after IP output fired write and the route chose it) fires
 * send on the tunnel for the inner packet, is captured there, gets the
 * outer headers in front and re-enters IP output towards the remote end,
 * where write and send fire again on the port for the outer packet: a
 * tunnelled packet is seen twice, as the seed's ip.tun0.  Inbound, the
 * outer packet's protocol (4, 41 or 47) is an upper protocol registered
 * here: IP fired receive and read on the port; decapsulation finds the
 * tunnel by the outer addresses (and GRE key), strips the outer headers
 * and hands the inner packet to IP input on the tunnel, where receive and
 * read fire again.
 *
 * Every encapsulation counts in the packet's meta (depth): past
 * TUN_MAX_DEPTH, in or out, the packet is dropped, so a tunnel routed
 * through another routed through the first ends in a counted drop, not a
 * recursion.  A tunnel whose remote end is routed through itself is
 * caught at once (tunnel-loop).
 */
#include <errno.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ip.h"
#include "pcap_capture.h"
#include "peer.h"
#include "probes.h"
#include "sock.h"
#include "stack.h"
#include "esp.h"
#include "tun_int.h"
#include "tunnel.h"

#define TUN_MAX_DEPTH 4
#define TUN_TEL_DEFAULT 4 /* RFC 2473 6.6 */
#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_VER 0x0007
#define GRE_RESERVED0 0x0ff8
#define TEL_LEN 8 /* a destination options header holding the limit and a PadN */
#define IPV6_OPT_TEL 4
#define ECN_MASK 0x03
#define ECN_ECT1 0x01
#define ECN_ECT0 0x02
#define ECN_CE 0x03

static const uint8_t tun_oaf[SONDE_TUNNEL_MODES] = { 4, 4, 6, 6, 4, 6 };
static const uint8_t tun_proto[SONDE_TUNNEL_MODES] = {
	IPPROTO_IPIP_, IPPROTO_IPV6_, IPPROTO_IPV6_, IPPROTO_IPIP_, IPPROTO_GRE_, IPPROTO_GRE_,
};
static const uint8_t tun_inner[SONDE_TUNNEL_MODES] = { 1, 2, 2, 1, 3, 3 };

static __rte_always_inline uint8_t
inner_bit(uint8_t af)
{
	return af == 6 ? 2 : 1;
}

/* The outer headers' bytes: IP, the RFC 2473 option, GRE. */
static uint16_t
tun_hdr_len(const struct tunnel *t, int tel)
{
	uint16_t len = t->oaf == 6 ? IPV6_HDR_LEN + (tel >= 0 ? TEL_LEN : 0) : IPV4_MIN_HDR_LEN;

	if (t->proto == IPPROTO_GRE_)
		len += t->has_key ? 8 : 4;
	return len;
}

/* --- encapsulation --- */

/* m with need bytes of headroom it may write: its own, or a fresh segment
 * chained in front (a TCP segment over IPv6 with options leaves 14 of the
 * 128; a fragment's data may be shared).  NULL: no mbuf. */
static struct rte_mbuf *
tun_room(struct sonde_stack *st, struct rte_mbuf *m, uint16_t need)
{
	struct rte_mbuf *h;

	if (likely(rte_pktmbuf_headroom(m) >= need && RTE_MBUF_DIRECT(m) &&
		   rte_mbuf_refcnt_read(m) == 1))
		return m;
	h = rte_pktmbuf_alloc(st->pool);
	if (h == NULL)
		return NULL;
	*pkt_meta(h) = *pkt_meta(m);
	h->data_off = h->buf_len;
	if (rte_pktmbuf_chain(h, m) != 0) {
		rte_pktmbuf_free(h);
		return NULL;
	}
	return h;
}

/* The RFC 2473 4.1.1 limit an IPv6 packet carries already (a destination
 * options header right after its own with the option), and the offset of
 * its value into *off; -1: none. */
static int
tun_inner_tel(const struct rte_mbuf *m, uint32_t *off)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), end, i;

	if (p[6] != IPPROTO_DSTOPTS_ || len < IPV6_HDR_LEN + 8)
		return -1;
	end = IPV6_HDR_LEN + 8 + 8u * p[IPV6_HDR_LEN + 1];
	if (end > len)
		return -1;
	for (i = IPV6_HDR_LEN + 2; i < end;) {
		if (p[i] == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > end || i + 2 + p[i + 1] > end)
			return -1;
		if (p[i] == IPV6_OPT_TEL && p[i + 1] == 1) {
			*off = i + 2;
			return p[i + 2];
		}
		i += 2u + p[i + 1];
	}
	return -1;
}

/* The outer headers at p for inner packet of family iaf, whose traffic
 * class or TOS is tos and, IPv4, DF df; len the whole outer packet. */
static void
tun_write_hdr(struct sonde_stack *st, const struct tunnel *t, uint8_t *p, uint32_t len, uint8_t iaf,
	      uint8_t tos, uint16_t df, int tel)
{
	uint8_t *g;

	/* RFC 2003 3.1, RFC 2473 6.5, RFC 4213 3.5: the TOS or traffic class
	 * copied from the inner header; its ECN field too (RFC 6040 4.1,
	 * normal mode: copied as it is, CE included). */
	if (t->oaf == 4) {
		struct ipv4_view ip = {
			.ihl = IPV4_MIN_HDR_LEN,
			.tos = tos,
			.total_len = (uint16_t)len,
			.ident = st->ip_ident++,
			/* RFC 2003 3.1: DF copied from the inner header; IPv6
			 * inside (RFC 4213 3.2: the tunnel MTU is the path's) set. */
			.frag = iaf == 4 ? df : IPV4_FLAG_DF,
			.ttl = t->ttl,
			.proto = t->proto,
		};

		memcpy(&ip.src, t->local, 4);
		memcpy(&ip.dst, t->remote, 4);
		wire_ipv4_emit(p, &ip, 0);
		g = p + IPV4_MIN_HDR_LEN;
	} else {
		wire_put32(p, 6u << 28 | (uint32_t)tos << 20);
		wire_put16(p + 4, (uint16_t)(len - IPV6_HDR_LEN));
		p[6] = tel >= 0 ? IPPROTO_DSTOPTS_ : t->proto;
		p[7] = t->ttl;
		memcpy(p + 8, t->local, 16);
		memcpy(p + 24, t->remote, 16);
		g = p + IPV6_HDR_LEN;
		if (tel >= 0) {
			/* RFC 2473 5.1: the option, padded to 8 bytes by a PadN. */
			g[0] = t->proto;
			g[1] = 0;
			g[2] = IPV6_OPT_TEL;
			g[3] = 1;
			g[4] = (uint8_t)tel;
			g[5] = 1;
			g[6] = 1;
			g[7] = 0;
			g += TEL_LEN;
		}
	}
	if (t->proto == IPPROTO_GRE_) {
		/* RFC 2784 2.1, RFC 2890 2.1: no checksum, the key if any. */
		wire_put16(g, t->has_key ? GRE_K : 0);
		wire_put16(g + 2, iaf == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
		if (t->has_key)
			memcpy(g + 4, &t->key, 4);
	}
}

/* One inner packet (data at its IP header) in its outer headers, or
 * NULL when dropped. */
static struct rte_mbuf *
tun_encap(struct sonde_stack *st, const struct tunnel *t, struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	struct rte_mbuf *h;
	uint8_t iaf = pm->af, tos;
	uint16_t df = 0, hlen;
	int tel = t->tel;

	if (unlikely(!(t->inner & inner_bit(iaf)))) {
		pkt_drop(st, m, DROP_TUN_FAMILY);
		return NULL;
	}
	if (unlikely(++pm->depth > TUN_MAX_DEPTH)) {
		pkt_drop(st, m, DROP_TUN_NESTING);
		return NULL;
	}
	if (iaf == 4) {
		tos = ip[1];
		df = wire_get16(ip + 6) & IPV4_FLAG_DF;
	} else {
		tos = (uint8_t)(wire_get32(ip) >> 20);
		/* ESP's tunnel mode has no RFC 2473 option (esp.c frames a
		 * bare IPv6 header): the limit is not looked at there. */
		if (t->oaf == 6 && unlikely(ip[6] == IPPROTO_DSTOPTS_) && t->esp == NULL) {
			/* RFC 2473 4.1.1: a packet that has used up its limit is
			 * not encapsulated again (parameter problem to its
			 * source); one that has not goes on with one less. */
			uint32_t off = 0;
			int v = tun_inner_tel(m, &off);

			if (v == 0) {
				icmp6_error(st, m, ICMP6_PARAM_PROB, 0, off);
				pkt_drop(st, m, DROP_TUN_ENCAP_LIMIT);
				return NULL;
			}
			if (v > 0 && (tel < 0 || tel > v - 1))
				tel = v - 1;
		}
	}
	hlen = tun_hdr_len(t, tel);
	h = tun_room(st, m, hlen + ETH_HDR_LEN);
	if (unlikely(h == NULL)) {
		pkt_drop(st, m, DROP_NO_HEADROOM);
		return NULL;
	}
	m = h;
	pkt_prepend(m, hlen);
	tun_write_hdr(st, t, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_pkt_len(m), iaf, tos, df,
		      tel);
	pm = pkt_meta(m);
	pm->af = t->oaf;
	pm->l3_len = t->oaf == 6 ? IPV6_HDR_LEN + (tel >= 0 ? TEL_LEN : 0) : IPV4_MIN_HDR_LEN;
	pm->ifindex = SONDE_IF_NONE;
	pm->flags = 0;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	return m;
}

/* An ESP tunnel's outer packets to IP output, ESP to be applied between
 * write and send (esp.c).  Out of line: the loop of tun_xmit stays as it
 * was for the other tunnels (4 instructions a packet, bench/replay). */
static __rte_noinline void
tun_xmit_esp(struct sonde_stack *st, const struct sonde_if *ifp, struct rte_mbuf **out, uint16_t k)
{
	const struct tunnel *t = ifp->priv;

	for (uint16_t i = 0; i < k; i++) {
		pkt_meta(out[i])->flags |= PKT_XFRM;
		pkt_meta(out[i])->xfrm_if = (uint8_t)ifp->index;
	}
	ip_output_xfrm_burst(st, out, k, t->oaf);
}

/* IP packets routed to the tunnel: send and the capture for each inner
 * packet, then the outer headers and IP output towards the remote end. */
static void
tun_xmit(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, void *const *l2,
	 uint16_t n)
{
	const struct tunnel *t = ifp->priv;
	struct rte_mbuf *out[SONDE_BURST];
	const struct dst *d;
	uint16_t k = 0;
	bool loop;

	(void)l2;
	probe_burst_if(st, PROBE_SEND, pkts, n, ifp);
	ifp->tx_pkts += n;
	for (uint16_t i = 0; i < n; i++) {
		ifp->tx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		if (unlikely(ifp->pcap != NULL))
			pcap_capture_write(ifp->pcap, pkts[i], st->now);
	}
	d = t->oaf == 4 ? dst4(st, wire_load32(t->remote)) : dst6(st, t->remote, SONDE_IF_NONE);
	loop = (d->flags & DST_ROUTE) && d->out == ifp;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (unlikely(loop)) {
			pkt_drop(st, m, DROP_TUN_LOOP);
			continue;
		}
		m = tun_encap(st, t, m);
		if (m != NULL)
			out[k++] = m;
	}
	st->stats.tun_encap += k;
	if (k == 0)
		return;
	if (unlikely(t->esp != NULL)) {
		tun_xmit_esp(st, ifp, out, k);
		return;
	}
	if (t->oaf == 4)
		ipv4_output_burst(st, out, k);
	else
		ipv6_output_burst(st, out, k);
}

static bool
tun_resolve(struct sonde_stack *st, struct sonde_if *ifp, int af, const uint8_t *nh, void **l2)
{
	(void)st, (void)ifp, (void)af, (void)nh;
	*l2 = NULL; /* no neighbours: every packet leaves at once */
	return true;
}

static void
tun_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, int af,
	   const uint8_t *nh)
{
	void *l2 = NULL;

	(void)af, (void)nh;
	tun_xmit(st, ifp, &m, &l2, 1);
}

/* --- decapsulation --- */

/* The tunnel a packet from src to dst of protocol proto (and GRE key,
 * when has_key) belongs to; else NULL with the reason in *why. */
static struct tunnel *
tun_find(const struct tun_state *ts, uint8_t oaf, uint8_t proto, const uint8_t *src,
	 const uint8_t *dst, bool has_key, uint32_t key, int *why)
{
	size_t alen = oaf == 6 ? 16 : 4;

	*why = DROP_TUN_NO_MATCH;
	for (unsigned i = 0; i < ts->n; i++) {
		struct tunnel *t = ts->t[i];

		if (t->oaf != oaf || t->proto != proto || memcmp(t->local, dst, alen) != 0)
			continue;
		if (memcmp(t->remote, src, alen) != 0) {
			if (*why == DROP_TUN_NO_MATCH)
				*why = DROP_TUN_BAD_SOURCE;
			continue;
		}
		if (t->has_key != has_key || (has_key && t->key != key)) {
			*why = DROP_TUN_BAD_KEY;
			continue;
		}
		return t;
	}
	return NULL;
}

/* Whether a tunnel of protocol proto has local address dst. */
static bool
tun_any(const struct tun_state *ts, uint8_t oaf, uint8_t proto, const uint8_t *dst)
{
	for (unsigned i = 0; i < ts->n; i++) {
		const struct tunnel *t = ts->t[i];

		if (t->oaf == oaf && t->proto == proto &&
		    memcmp(t->local, dst, oaf == 6 ? 16 : 4) == 0)
			return true;
	}
	return false;
}

/* RFC 6040 4.2: the inner ECN field after decapsulation, from the outer
 * one; -1: drop (CE outside a packet that is not ECN-capable). */
static int
tun_ecn(uint8_t outer, uint8_t inner)
{
	if (outer == ECN_CE)
		return inner == 0 ? -1 : ECN_CE;
	if (outer == ECN_ECT1 && inner == ECN_ECT0)
		return ECN_ECT1;
	return inner;
}

/* The inner packet of m (data at it) gets ECN field e. */
static void
tun_set_ecn(struct rte_mbuf *m, uint8_t iaf, uint8_t e)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	if (iaf == 4) {
		uint8_t old = p[1];

		p[1] = (uint8_t)((old & ~ECN_MASK) | e);
		wire_put16(p + 10,
			   wire_cksum_adjust(wire_get16(p + 10), (wire_get16(p) & 0xff00) | old,
					     wire_get16(p)));
	} else {
		p[1] = (uint8_t)((p[1] & ~(ECN_MASK << 4)) | e << 4);
	}
}

/* The GRE header at off in p (len bytes; RFC 2784, RFC 2890's key): its key, and
 * the inner family into *iaf; 0, or the drop reason.  Version 0 and the
 * reserved bits zero; checksums and sequence numbers are not ours to
 * check or order: refused, counted. */
static __rte_always_inline int
tun_gre(const uint8_t *p, uint32_t len, uint32_t off, uint32_t *key, bool *has_key, uint8_t *iaf)
{
	uint16_t fl, type;

	if (len < off + 4)
		return DROP_GRE_BAD_HEADER;
	fl = wire_get16(p + off);
	type = wire_get16(p + off + 2);
	if (fl & (GRE_R | GRE_VER | GRE_RESERVED0))
		return DROP_GRE_BAD_HEADER;
	if (fl & GRE_C)
		return DROP_GRE_CHECKSUM;
	if (fl & GRE_S)
		return DROP_GRE_SEQUENCE;
	if (fl & GRE_K) {
		if (len < off + 8)
			return DROP_GRE_BAD_HEADER;
		memcpy(key, p + off + 4, 4);
		*has_key = true;
	}
	if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
		return DROP_GRE_PROTOCOL;
	*iaf = type == ETHERTYPE_IPV6 ? 6 : 4;
	return 0;
}

/* The ICMP answer to a packet of a tunnel protocol that came to no tunnel:
 * a protocol we do not have (RFC 1122 3.2.2.1; RFC 8200 4's parameter
 * problem at the next header), as for one nobody registered. */
static void
tun_unreach(struct sonde_stack *st, uint8_t oaf, struct rte_mbuf *m)
{
	if (oaf == 4)
		icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0);
	else
		icmp6_error(st, m, ICMP6_PARAM_PROB, 1, ipv6_nh_field(m));
}

/* The inner packet of t's m, off bytes in (data at the outer IP header),
 * of family iaf: checked, its ECN field from the outer one, data at it,
 * meta the tunnel's; t, or NULL when dropped.  Plain decapsulation and
 * ESP's (esp.c, the ESP and UDP headers off bytes in too) end here. */
/* Which linked stack owns the flow of the inner packet at p (len bytes in
 * the first segment, family iaf) that came in by port under (called only
 * when there are linked stacks; out of line, for a stack alone's sake): the queue
 * the port's RSS would give it (the outer packet's hash put it here), as
 * active opens over the tunnel chose their ports (sock.c, rss_under
 * below); -1 for this stack.  TCP and UDP only (ICMP and the rest: any
 * stack answers), and never a fragment: the pieces of one datagram must
 * meet in one stack's reassembly, which is this one's. */
static __rte_noinline int
tun_owner(const struct sonde_if *under, const uint8_t *p, uint32_t len, uint8_t iaf)
{
	uint16_t q, sport, dport; /* network order */
	uint32_t off;
	uint8_t proto;

	if (under == NULL || under->rss == NULL)
		return -1;
	if (iaf == 4) {
		off = (p[0] & 0xfu) * 4;
		proto = p[9];
		if (wire_get16(p + 6) & (IPV4_OFFSET_MASK | IPV4_FLAG_MF))
			return -1;
	} else {
		off = IPV6_HDR_LEN;
		proto = p[6];
	}
	if ((proto != IPPROTO_TCP_ && proto != IPPROTO_UDP_) || len < off + 4)
		return -1;
	memcpy(&sport, p + off, 2);
	memcpy(&dport, p + off + 2, 2);
	q = sock_rss_queue(under->rss, iaf, iaf == 6 ? p + 24 : p + 16, iaf == 6 ? p + 8 : p + 12,
			   dport, sport);
	return q == under->queue_id ? -1 : q;
}

/* rss_under: the port the outer packets come in by, the one the route to
 * the remote end leaves by. */
static const struct sonde_if *
tun_rss_under(struct sonde_stack *st, const struct sonde_if *ifp)
{
	const struct tunnel *t = ifp->priv;
	const struct dst *d =
		t->oaf == 4 ? dst4(st, wire_load32(t->remote)) : dst6(st, t->remote, SONDE_IF_NONE);

	return d->out != ifp ? d->out : NULL;
}

static __rte_always_inline struct tunnel *
tun_strip_in(struct sonde_stack *st, struct tunnel *t, struct rte_mbuf *m, uint32_t off,
	     uint8_t iaf, int16_t *owner)
{
	struct pkt_meta *pm = pkt_meta(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t otos, itos;
	int r, e;

	if (unlikely(!(t->inner & inner_bit(iaf)))) {
		r = DROP_TUN_BAD_INNER;
		goto drop;
	}
	if (unlikely(rte_pktmbuf_data_len(m) <
		     off + (iaf == 6 ? IPV6_HDR_LEN : IPV4_MIN_HDR_LEN))) {
		r = DROP_TUN_TRUNCATED;
		goto drop;
	}
	if (unlikely(p[off] >> 4 != iaf)) {
		r = DROP_TUN_BAD_INNER;
		goto drop;
	}
	if (unlikely(pm->depth >= TUN_MAX_DEPTH)) {
		r = DROP_TUN_TOO_DEEP;
		goto drop;
	}
	otos = pm->af == 6 ? (uint8_t)(wire_get32(p) >> 20) : p[1];
	itos = iaf == 6 ? (uint8_t)(wire_get32(p + off) >> 20) : p[off + 1];
	e = tun_ecn(otos & ECN_MASK, itos & ECN_MASK);
	if (unlikely(e < 0)) {
		r = DROP_TUN_ECN;
		goto drop;
	}
	pkt_adj(m, (uint16_t)off);
	if ((uint8_t)e != (itos & ECN_MASK))
		tun_set_ecn(m, iaf, (uint8_t)e);
	if (owner != NULL && unlikely(st->peer.n_stacks != 0))
		*owner = (int16_t)tun_owner(stack_if(st, pm->ifindex), p + off,
					    rte_pktmbuf_data_len(m), iaf);
	pm->depth++;
	pm->ifindex = t->ifp->index;
	pm->af = iaf;
	pm->flags = 0;
	pm->conn = NULL;
	pm->l3_len = 0;
	return t;
drop:
	pkt_drop(st, m, (enum drop_reason)r);
	return NULL;
}

/* tun_strip_in for esp.c (inline in tunnel.c's own decapsulation: called
 * from two places, LTO kept it out of line, 28 instructions a packet). */
struct tunnel *
tun_strip(struct sonde_stack *st, struct tunnel *t, struct rte_mbuf *m, uint32_t off, uint8_t iaf)
{
	return tun_strip_in(st, t, m, off, iaf, NULL);
}

/* One outer packet (data at its IP header, l3_len its length): its tunnel,
 * the inner packet with data at its header; NULL when dropped. */
static struct tunnel *
tun_decap(struct sonde_stack *st, uint8_t oaf, uint8_t proto, struct rte_mbuf *m, int16_t *owner)
{
	uint32_t off = pkt_meta(m)->l3_len, key = 0;
	const uint8_t *p;
	bool has_key = false;
	struct tunnel *t;
	uint8_t iaf;
	int r;

	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
		pkt_drop(st, m, DROP_TUN_TRUNCATED);
		return NULL;
	}
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	if (proto == IPPROTO_GRE_) {
		r = tun_gre(p, rte_pktmbuf_data_len(m), off, &key, &has_key, &iaf);
		if (unlikely(r != 0)) {
			/* Refused by GRE, unless it came to no tunnel at all. */
			if (!tun_any(st->tun, oaf, proto, oaf == 6 ? p + 24 : p + 16))
				r = DROP_TUN_NO_MATCH;
			goto drop;
		}
		off += has_key ? 8 : 4;
	} else {
		iaf = proto == IPPROTO_IPIP_ ? 4 : 6;
	}
	t = tun_find(st->tun, oaf, proto, oaf == 6 ? p + 8 : p + 12, oaf == 6 ? p + 24 : p + 16,
		     has_key, key, &r);
	if (unlikely(t == NULL))
		goto drop;
	if (unlikely(t->esp != NULL)) {
		/* Its packets come in ESP only (esp.c): a plain one is not
		 * taken, whoever sent it. */
		r = DROP_ESP_REQUIRED;
		goto drop;
	}
	return tun_strip_in(st, t, m, off, iaf, owner);
drop:
	if (r == DROP_TUN_NO_MATCH)
		tun_unreach(st, oaf, m);
	pkt_drop(st, m, (enum drop_reason)r);
	return NULL;
}

/* Decapsulated packets (tun_strip's) of tunnels ifs: counted, captured,
 * then runs of one tunnel and inner family to IP input on the tunnel. */
static __rte_always_inline void
tun_rx_in(struct sonde_stack *st, struct rte_mbuf **pkts, struct sonde_if **ifs, uint16_t k,
	  const int16_t *owner)
{
	uint8_t key[SONDE_BURST + RUN_PAD];
	uint16_t j, n = k;

	for (uint16_t i = 0; i < n; i++) {
		struct sonde_if *ifp = ifs[i];
		struct rte_mbuf *m = pkts[i];

		ifp->rx_pkts++;
		ifp->rx_bytes += rte_pktmbuf_pkt_len(m);
		if (unlikely(ifp->pcap != NULL))
			pcap_capture_write(ifp->pcap, m, st->now);
		key[i] = (uint8_t)(ifp->index << 1 | af_idx(pkt_meta(m)->af));
	}
	st->stats.tun_decap += n;
	/* Linked stacks: another's flows to IP input there (peer.c). */
	if (owner != NULL) {
		k = 0;
		for (uint16_t i = 0; i < n; i++) {
			if (owner[i] >= 0) {
				peer_handoff(st, (uint16_t)owner[i], pkts[i]);
				continue;
			}
			key[k] = key[i];
			ifs[k] = ifs[i];
			pkts[k++] = pkts[i];
		}
	}
	run_close(key, k);
	for (uint16_t i = 0; i < k; i += j) {
		j = run_len(key, i);
		st->l3_input[key[i] & 1](st, ifs[i], pkts + i, j);
	}
}

void
tun_rx(struct sonde_stack *st, struct rte_mbuf **pkts, struct sonde_if **ifs, uint16_t k)
{
	tun_rx_in(st, pkts, ifs, k, NULL);
}

/* A run of outer packets of protocol proto to us: each to its tunnel. */
static __rte_always_inline void
tun_input(struct sonde_stack *st, uint8_t oaf, uint8_t proto, struct rte_mbuf **pkts, uint16_t n)
{
	struct sonde_if *ifs[SONDE_BURST];
	int16_t owner[SONDE_BURST];
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct tunnel *t = tun_decap(st, oaf, proto, m, &owner[k]);

		if (t == NULL)
			continue;
		ifs[k] = t->ifp;
		pkts[k++] = m;
	}
	/* Alone, a stack owns every flow: no owner was looked at. */
	if (likely(st->peer.n_stacks == 0))
		tun_rx_in(st, pkts, ifs, k, NULL);
	else
		tun_rx_in(st, pkts, ifs, k, owner);
}

#define TUN_INPUT(name, oaf, proto)                                                  \
	static void name(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n) \
	{                                                                            \
		tun_input(st, oaf, proto, pkts, n);                                  \
	}
TUN_INPUT(tun_in4_ipip, 4, IPPROTO_IPIP_)
TUN_INPUT(tun_in4_ipv6, 4, IPPROTO_IPV6_)
TUN_INPUT(tun_in4_gre, 4, IPPROTO_GRE_)
TUN_INPUT(tun_in6_ipip, 6, IPPROTO_IPIP_)
TUN_INPUT(tun_in6_ipv6, 6, IPPROTO_IPV6_)
TUN_INPUT(tun_in6_gre, 6, IPPROTO_GRE_)

/* --- ICMP errors about outer packets --- */

#define TUN_PMTU_AGE (600ull * 1000000000ull) /* RFC 1191 6.3, RFC 8201 5.3 */

/* The path MTU went back up (its age): the tunnel's MTU as it was, unless
 * someone set another meanwhile. */
static void
tun_pmtu_expire(struct timer *tm, void *ctx)
{
	struct tunnel *t = container_of(tm, struct tunnel, pmtu_timer);
	struct sonde_stack *st = ctx;

	if (t->ifp->mtu == t->pmtu) {
		t->ifp->mtu = t->mtu_before;
		dst_invalidate(st);
	}
	t->pmtu = 0;
}

/* The underlay's path to the remote end takes path bytes (RFC 1191
 * fragmentation needed, RFC 8201 packet too big): the tunnel's MTU is that
 * less its headers (RFC 2003 4.1, RFC 2473 7.1), for ten minutes; at
 * least 1280 for a tunnel that carries IPv6 (RFC 4213 3.2: IPv6's
 * minimum; below that the outer packets are fragmented) and 68 else.
 * The new MTU, or 0 when it did not go down. */
uint16_t
tun_pmtu(struct sonde_stack *st, struct tunnel *t, uint32_t path)
{
	/* 552: Linux's min_pmtu, against a forged "fragmentation needed"
	 * that would leave an IPv4 tunnel 68 bytes for ten minutes. */
	uint32_t hdr = tun_hdr_len(t, t->tel), floor = t->inner & 2 ? 1280 : 552;
	uint32_t mtu = path > hdr + floor ? path - hdr : floor;

	/* ESP in UDP takes its share too (esp.h). */
	while (t->esp != NULL && mtu > floor && mtu + esp_overhead(mtu) > path - hdr)
		mtu--;
	if (path == 0 || mtu >= t->ifp->mtu)
		return 0;
	if (t->pmtu == 0)
		t->mtu_before = t->ifp->mtu;
	t->pmtu = (uint16_t)mtu;
	t->ifp->mtu = (uint16_t)mtu;
	dst_invalidate(st);
	st->stats.tun_pmtu++;
	timer_arm(&st->wheel, &t->pmtu_timer, st->now + TUN_PMTU_AGE);
	return (uint16_t)mtu;
}

/* What the sender of the inner packet is told of an error about the outer
 * one (RFC 2003 4.1; RFC 2473 8.2; RFC 4213 3.4 the same for IPv6 inside
 * IPv4): type and code of the inner family's ICMP, or false when it is
 * not relayed (port unreachable, source route failed, parameter problem:
 * about the outer header, ours). */
static bool
tun_relay_kind(const struct ip_err *e, uint8_t iaf, uint8_t *type, uint8_t *code)
{
	bool too_big = e->err == EMSGSIZE;
	bool v4 = e->af == 4;

	if (too_big) {
		*type = iaf == 4 ? ICMP_UNREACH : ICMP6_PACKET_TOO_BIG;
		*code = iaf == 4 ? ICMP_UNREACH_NEEDFRAG : 0;
		return true;
	}
	/* Unreachable: network or host as it was (protocol unreachable: no
	 * decapsulator there, the host); time exceeded in the tunnel: host
	 * unreachable, the packet reached its network (RFC 2003 4.1). */
	if ((v4 && e->type == ICMP_UNREACH &&
	     (e->code == ICMP_UNREACH_NET || e->code == ICMP_UNREACH_HOST ||
	      e->code == ICMP_UNREACH_PROTOCOL)) ||
	    (v4 && e->type == ICMP_TIMXCEED) ||
	    (!v4 && (e->type == ICMP6_DST_UNREACH || e->type == ICMP6_TIME_EXCEEDED))) {
		bool net = v4 && e->type == ICMP_UNREACH && e->code == ICMP_UNREACH_NET;

		*type = iaf == 4 ? ICMP_UNREACH : ICMP6_DST_UNREACH;
		*code = iaf == 4 ? (net ? ICMP_UNREACH_NET : ICMP_UNREACH_HOST)
				 : ICMP6_DST_UNREACH_ADDR;
		return true;
	}
	return false;
}

/* An ICMP error about an outer packet we sent (protocol proto): the
 * tunnel's path MTU, and the error relayed to the inner packet's sender
 * when the message quotes enough of it (its header and 8 bytes: routers
 * after RFC 1812 4.3.2.3 quote more than RFC 792's 8 bytes of the outer
 * datagram; with fewer there is no one to tell). */
static void
tun_err(struct sonde_stack *st, uint8_t proto, const struct ip_err *e)
{
	const uint8_t *o = e->ip, *src = e->af == 6 ? o + 8 : o + 12,
		      *dst = e->af == 6 ? o + 24 : o + 16;
	uint32_t off = e->l4_off, key = 0, info = 0;
	bool has_key = false;
	uint8_t iaf = proto == IPPROTO_IPIP_ ? 4 : 6, type, code;
	struct tunnel *t;
	struct rte_mbuf *m;
	uint16_t mtu = 0;
	char *p;
	int why;

	/* Our own GRE header, quoted: tun_gre refuses nothing we send. */
	if (proto == IPPROTO_GRE_) {
		if (tun_gre(o, e->len, off, &key, &has_key, &iaf) != 0)
			return;
		off += has_key ? 8 : 4;
	}
	/* Ours from local to remote: as tun_find looks at packets from remote. */
	t = tun_find(st->tun, e->af, proto, dst, src, has_key, key, &why);
	if (t == NULL || t->esp != NULL)
		return;
	if (e->err == EMSGSIZE) {
		mtu = tun_pmtu(st, t, e->info);
		if (mtu == 0)
			mtu = t->ifp->mtu;
		info = iaf == 6 ? RTE_MAX(mtu, (uint16_t)1280) : mtu;
	}
	if (e->len < off + (iaf == 6 ? IPV6_HDR_LEN : IPV4_MIN_HDR_LEN) + 8 || o[off] >> 4 != iaf ||
	    !tun_relay_kind(e, iaf, &type, &code))
		return;
	/* The inner packet as quoted, as if it had come to the tunnel's
	 * interface (the error's source is the tunnel's address). */
	m = rte_pktmbuf_alloc(st->pool);
	if (m == NULL)
		return;
	p = rte_pktmbuf_append(m, (uint16_t)(e->len - off));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(p, o + off, e->len - off);
	pkt_meta_init(m, t->ifp->index, iaf);
	st->stats.tun_icmp_relayed++;
	if (iaf == 4)
		icmp_error(st, m, type, code, info);
	else
		icmp6_error(st, m, type, code, info);
	rte_pktmbuf_free(m);
}

#define TUN_ERR(name, proto)                                             \
	static void name(struct sonde_stack *st, const struct ip_err *e) \
	{                                                                \
		tun_err(st, proto, e);                                   \
	}
TUN_ERR(tun_err_ipip, IPPROTO_IPIP_)
TUN_ERR(tun_err_ipv6, IPPROTO_IPV6_)
TUN_ERR(tun_err_gre, IPPROTO_GRE_)

/* --- the interface kind --- */

static int tun_create(struct sonde_stack *st, struct sonde_if *ifp,
		      const struct sonde_if_conf *conf);

const struct if_kind tun_kind = {
	.name = "tunnel",
	.l2_len = 0,
	.dlt = DLT_RAW,
	.resolve = tun_resolve,
	.xmit = tun_xmit,
	.output = tun_output,
	.create = tun_create,
	.rss_under = tun_rss_under,
};

static int
tun_create(struct sonde_stack *st, struct sonde_if *ifp, const struct sonde_if_conf *conf)
{
	const struct sonde_tunnel_conf *c = &conf->tunnel;
	struct tun_state *ts = st->tun;
	struct tunnel *t;
	int oaf, why;

	if ((unsigned)c->mode >= SONDE_TUNNEL_MODES)
		return -EINVAL;
	oaf = tun_oaf[c->mode];
	if (c->local.af != (oaf == 6 ? AF_INET6 : AF_INET) ||
	    c->remote.af != (oaf == 6 ? AF_INET6 : AF_INET) || c->encap_limit < -1 ||
	    c->encap_limit > 255 || (c->has_key && tun_proto[c->mode] != IPPROTO_GRE_))
		return -EINVAL;
	if (ts->n == SONDE_MAX_IFS)
		return -ENOSPC;
	t = rte_zmalloc("sonde_tunnel", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return -ENOMEM;
	t->ifp = ifp;
	t->mode = (uint8_t)c->mode;
	t->oaf = (uint8_t)oaf;
	t->proto = tun_proto[c->mode];
	t->inner = tun_inner[c->mode];
	t->ttl = c->ttl ? c->ttl : 64;
	t->tel = oaf == 6 ? (c->encap_limit == 0 ? TUN_TEL_DEFAULT : c->encap_limit) : -1;
	t->has_key = c->has_key;
	t->key = rte_cpu_to_be_32(c->key);
	memcpy(t->local, c->local.addr.v6, oaf == 6 ? 16 : 4);
	memcpy(t->remote, c->remote.addr.v6, oaf == 6 ? 16 : 4);
	if (tun_find(ts, t->oaf, t->proto, t->remote, t->local, t->has_key, t->key, &why)) {
		rte_free(t);
		return -EEXIST;
	}
	ifp->priv = t;
	timer_init(&t->pmtu_timer, tun_pmtu_expire);
	/* Linux's default: the Ethernet MTU less the outer headers. */
	ifp->mtu = (uint16_t)(1500 - tun_hdr_len(t, t->tel));
	if (c->esp != NULL) {
		int r;

		/* ESP's tunnel mode has no RFC 2473 option (Linux's XFRM puts
		 * none), and leaves room for ESP in UDP: the largest inner
		 * packet whose ESP packet fits in 1500. */
		t->tel = -1;
		ifp->mtu = (uint16_t)(1500 - tun_hdr_len(t, -1));
		while (ifp->mtu + esp_overhead(ifp->mtu) > 1500u - tun_hdr_len(t, -1))
			ifp->mtu--;
		r = esp_tun_create(st, t, c->esp);
		if (r != 0) {
			ifp->priv = NULL;
			rte_free(t);
			return r;
		}
	}
	ts->t[ts->n++] = t;
	return 0;
}

static void
tun_if_detach(struct sonde_stack *st, struct sonde_if *ifp)
{
	struct tun_state *ts = st->tun;

	if (ifp->kind != &tun_kind || ts == NULL)
		return;
	for (unsigned i = 0; i < ts->n; i++)
		if (ts->t[i] == ifp->priv) {
			ts->t[i] = ts->t[--ts->n];
			break;
		}
	if (ifp->priv != NULL) {
		struct tunnel *t = ifp->priv;

		if (timer_armed(&t->pmtu_timer))
			timer_cancel(&st->wheel, &t->pmtu_timer);
		esp_tun_free(st, t);
	}
	rte_free(ifp->priv);
	ifp->priv = NULL;
}

static int
tun_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	st->tun = rte_zmalloc("sonde_tun_state", sizeof(*st->tun), RTE_CACHE_LINE_SIZE);
	if (st->tun == NULL)
		return -ENOMEM;
	return if_kind_register(st, SONDE_IF_TUNNEL, &tun_kind)
		       ?: proto_ip_register(st, 4, IPPROTO_IPIP_, tun_in4_ipip)
		       ?: proto_ip_register(st, 4, IPPROTO_IPV6_, tun_in4_ipv6)
		       ?: proto_ip_register(st, 4, IPPROTO_GRE_, tun_in4_gre)
		       ?: proto_ip_register(st, 6, IPPROTO_IPIP_, tun_in6_ipip)
		       ?: proto_ip_register(st, 6, IPPROTO_IPV6_, tun_in6_ipv6)
		       ?: proto_ip_register(st, 6, IPPROTO_GRE_, tun_in6_gre)
		       ?: proto_ip_err_register(st, 4, IPPROTO_IPIP_, tun_err_ipip)
		       ?: proto_ip_err_register(st, 4, IPPROTO_IPV6_, tun_err_ipv6)
		       ?: proto_ip_err_register(st, 4, IPPROTO_GRE_, tun_err_gre)
		       ?: proto_ip_err_register(st, 6, IPPROTO_IPIP_, tun_err_ipip)
		       ?: proto_ip_err_register(st, 6, IPPROTO_IPV6_, tun_err_ipv6)
		       ?: proto_ip_err_register(st, 6, IPPROTO_GRE_, tun_err_gre);
}

static void
tun_fini(struct sonde_stack *st)
{
	rte_free(st->tun);
	st->tun = NULL;
}

const struct sonde_layer tun_layer = {
	.name = "tunnel",
	.init = tun_init,
	.fini = tun_fini,
	.if_detach = tun_if_detach,
};
