/*
 * ip.h: the IP layer, both families: input, forwarding, output, ICMP,
 * fragments, routes, addresses and the destination cache (private to
 * libsonde; transport and link layers call in through here).
 */
#ifndef SONDE_IP_H
#define SONDE_IP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_lpm.h>

#include "probes.h"
#include "runs.h"
#include "stack.h"

/* One of our addresses?  Every interface's, in one array (weak host model,
 * RFC 1122 3.3.4.2). */
static inline bool
ipv4_is_local(const struct sonde_stack *st, uint32_t addr)
{
	for (unsigned i = 0; i < st->n_local4; i++)
		if (st->local4[i] == addr)
			return true;
	return false;
}

/* The limited broadcast, or a directed broadcast of one of ifp's subnets. */
static inline bool
ipv4_is_broadcast(const struct sonde_stack *st, const struct sonde_if *ifp, uint32_t addr)
{
	(void)st;
	if (addr == 0xffffffff)
		return true;
	if (ifp == NULL)
		return false;
	for (unsigned j = 0; j < ifp->n_v4; j++)
		if (ifp->v4[j].bcast == addr && addr != 0)
			return true;
	return false;
}

/* One of our usable (not tentative, not duplicate) unicast addresses? */
static inline bool
ipv6_is_local(const struct sonde_stack *st, const uint8_t *a)
{
	for (unsigned i = 0; i < st->n_local6; i++)
		if (ipv6_addr_eq(st->local6[i], a))
			return true;
	return false;
}

static inline struct sonde_if_addr6 *
ipv6_if_find_addr(struct sonde_if *ifp, const uint8_t *a)
{
	for (unsigned j = 0; j < ifp->n_v6; j++)
		if (ipv6_addr_eq(ifp->v6[j].addr, a))
			return &ifp->v6[j];
	return NULL;
}

/* What input decided for a packet: deliver, forward, or a drop reason. */
#define IP_DELIVER 0
#define IP_FORWARD 1

/* The key a packet goes on by, after receive: below IP_KEY_FORWARD an
 * upper protocol (the packet to us, whole); forward; reassembly (IPv4: a
 * fragment; IPv6: extension headers to walk); IP_KEY_DROP + a drop reason.
 * Runs of one key go on together (runs.h). */
#define IP_KEY_FORWARD 256
#define IP_KEY_REASS 257
#define IP_KEY_DROP 512

/* A run of packets to us with upper protocol proto (data at the IP header,
 * its length with any extension headers in pkt_meta's l3_len) to the
 * handler registered for it; with none, to unknown, one by one. */
static __rte_always_inline void
ip_upper(struct sonde_stack *st, int af, uint8_t proto, struct rte_mbuf **pkts, uint16_t n,
	 pkt_one_fn unknown)
{
	ip_upper_fn fn = st->ip_proto[af_idx(af)][proto];

	if (likely(fn != NULL)) {
		fn(st, pkts, n);
		return;
	}
	for (uint16_t x = 0; x < n; x++)
		unknown(st, pkts[x]);
}

/* Each run of one key on its way (ipv4.c's top tells the keys): to the
 * upper protocol registered for it (read fires for the run), to
 * forwarding, to reassembly (IPv6: the walk of extension headers), or to
 * its drop.  Inline, each family calling it with its own handlers, so
 * each gets code of its own, with direct calls. */
static __rte_always_inline void
ip_dispatch(struct sonde_stack *st, int af, struct sonde_if *ifp, struct rte_mbuf **pkts,
	    uint16_t *key, uint16_t n, pkt_burst_fn forward, pkt_burst_fn reass,
	    pkt_one_fn no_protocol)
{
	uint64_t *delivered = af == 4 ? &st->stats.ipv4_in_delivered : &st->stats.ipv6_in_delivered;
	uint16_t j;

	run_close16(key, n);
	for (uint16_t i = 0; i < n; i += j) {
		uint16_t kv = key[i];

		j = run_len16(key, i);
		if (likely(kv < IP_KEY_FORWARD)) {
			*delivered += j;
			probe_burst_if(st, PROBE_READ, pkts + i, j, ifp);
			ip_upper(st, af, (uint8_t)kv, pkts + i, j, no_protocol);
		} else if (kv == IP_KEY_FORWARD) {
			forward(st, ifp, pkts + i, j);
		} else if (kv == IP_KEY_REASS) {
			reass(st, ifp, pkts + i, j);
		} else {
			for (uint16_t x = i; x < i + j; x++)
				pkt_drop(st, pkts[x], (enum drop_reason)(kv - IP_KEY_DROP));
		}
	}
}

/* --- route.c --- */

/* The next hop for dst, or NULL. */
static inline const struct route_nh *
route4_lookup(const struct sonde_stack *st, uint32_t dst)
{
	uint32_t idx;

	if (rte_lpm_lookup(st->lpm4, rte_be_to_cpu_32(dst), &idx) == 0)
		return &st->nh[idx];
	return st->default4 >= 0 ? &st->nh[st->default4] : NULL;
}

const struct route_nh *route6_lookup(const struct sonde_stack *st, const uint8_t *dst);
int route4_add(struct sonde_stack *st, uint32_t dst, uint8_t plen, uint32_t gw, uint16_t ifindex);
int route6_add(struct sonde_stack *st, const uint8_t *dst, uint8_t plen, const uint8_t *gw,
	       uint16_t ifindex);
int route_del(struct sonde_stack *st, int af, const uint8_t *dst, uint8_t plen);
/* Every route through interface ifindex, gone. */
void route_del_if(struct sonde_stack *st, uint16_t ifindex);

/* --- addr.c --- */

/* Call after any IPv4 address is added or removed, or any IPv6 address
 * changes state: the per-stack arrays of usable addresses, rebuilt. */
void ipv4_local_rebuild(struct sonde_stack *st);
void ipv6_local_rebuild(struct sonde_stack *st);
/* The address of ifp to use towards peer: one on peer's subnet, else the first. */
uint32_t ipv4_if_addr(const struct sonde_if *ifp, uint32_t peer);
bool ipv6_select_source(const struct sonde_if *ifp, const uint8_t *dst, uint8_t *src);
bool ipv6_if_joined(const struct sonde_stack *st, const struct sonde_if *ifp, const uint8_t *a);
extern const uint8_t ipv6_all_nodes[16];

/* --- ipv4.c --- */

/*
 * Output in bursts.  A layer that answers a burst fills an ip_out, a
 * packet at a time in its own loop (ipv4_out_add, ipv6_out_add: the route
 * by the destination cache), then sends it (ip_out_send: write for the
 * burst, then the interfaces, a run each).  A packet that cannot go the
 * burst's way (no route, too big, a next hop to resolve) takes the slow
 * path at once, write and all.
 */
struct ip_out {
	struct rte_mbuf *pkts[SONDE_BURST];
	struct sonde_if *out[SONDE_BURST];
	void *l2[SONDE_BURST];
	uint8_t oix[SONDE_BURST + RUN_PAD];
	uint16_t n;
	/* The destination of the packet before, and what the destination
	 * cache said of it (ready to leave), good while st->dst_gen is
	 * last_gen: a burst of answers to one peer looks it up once. */
	uint32_t last_gen; /* 0: none (the cache's generations start at 1) */
	uint32_t last_tag;
	uint8_t last_addr[16];
	struct sonde_if *last_out;
	void *last_l2;
	uint32_t last_mtu;
	/* Its packets are an ESP tunnel's (PKT_XFRM, ip_output_xfrm_burst):
	 * transformed after write, before the interfaces. */
	bool xfrm;
};

static __rte_always_inline void
ip_out_init(struct ip_out *o)
{
	o->n = 0;
	o->last_gen = 0;
	o->xfrm = false;
}

/* What o remembers of d, for the next packet to the same address. */
static __rte_always_inline void
ip_out_remember(struct sonde_stack *st, struct ip_out *o, const struct dst *d)
{
	o->last_gen = st->dst_gen;
	o->last_tag = d->tag;
	memcpy(o->last_addr, d->addr, 16);
	o->last_out = d->out;
	o->last_l2 = d->l2;
	o->last_mtu = d->mtu;
}

void ipv4_output_slow(struct sonde_stack *st, struct rte_mbuf *m, const struct dst *d);
void ipv6_output_slow(struct sonde_stack *st, struct rte_mbuf *m, const struct dst *d);
void ipv6_output_written(struct sonde_stack *st, struct rte_mbuf *m, const struct dst *d);
void ip_out_send(struct sonde_stack *st, struct ip_out *o, int af);

/* The NIC of the interface it leaves by fills the header checksum (and
 * wants the field zero). */
static inline void
ipv4_offload(struct rte_mbuf *m, uint8_t *p)
{
	wire_put16(p + 10, 0);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	m->l3_len = (uint8_t)((p[0] & 0xf) * 4);
}

static __rte_always_inline void
ip_out_put(struct ip_out *o, struct rte_mbuf *m, struct sonde_if *out, void *l2)
{
	pkt_meta(m)->ifindex = out->index;
	o->pkts[o->n] = m;
	o->out[o->n] = out;
	o->oix[o->n] = (uint8_t)out->index;
	o->l2[o->n++] = l2;
}

/* m, its IPv4 header written (data at it, meta.af 4), into o. */
static __rte_always_inline void
ipv4_out_add(struct sonde_stack *st, struct ip_out *o, struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t a = wire_load32(p + 16);

	/* Only the receive flags go: EXTERNAL says whose buffer this is
	 * (rte_pktmbuf_reset() keeps it too). */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	if (unlikely(o->last_gen != st->dst_gen || o->last_tag != 4 ||
		     wire_load32(o->last_addr) != a)) {
		const struct dst *d = dst4(st, a);

		if (unlikely(!(d->flags & DST_READY))) {
			ipv4_output_slow(st, m, d);
			return;
		}
		ip_out_remember(st, o, d);
	}
	if (unlikely(rte_pktmbuf_pkt_len(m) > o->last_mtu || wire_load32(p + 12) == 0)) {
		ipv4_output_slow(st, m, dst4(st, a));
		return;
	}
	if (unlikely(o->last_out->csum_tx_ipv4))
		ipv4_offload(m, p);
	ip_out_put(o, m, o->last_out, o->last_l2);
}

/* m, its IPv6 header written (data at it, meta.af 6, meta.ifindex the
 * interface a link-local destination is on), into o. */
static __rte_always_inline void
ipv6_out_add(struct sonde_stack *st, struct ip_out *o, struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t scope = pkt_meta(m)->ifindex;

	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	if (unlikely(o->last_gen != st->dst_gen || o->last_tag != dst_tag6(p + 24, scope) ||
		     !ipv6_addr_eq(o->last_addr, p + 24))) {
		const struct dst *d = dst6(st, p + 24, scope);

		if (unlikely(!(d->flags & DST_READY))) {
			ipv6_output_slow(st, m, d);
			return;
		}
		ip_out_remember(st, o, d);
	}
	if (unlikely(rte_pktmbuf_pkt_len(m) > o->last_mtu)) {
		ipv6_output_slow(st, m, dst6(st, p + 24, scope));
		return;
	}
	ip_out_put(o, m, o->last_out, o->last_l2);
}

/* Packets whose IPv4 header is written (data at it, meta.af 4), to their
 * destinations: route, MTU, write, then their interfaces. */
void ipv4_output_burst(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n);
/* The same for an ESP tunnel's outer packets (family af, each PKT_XFRM):
 * st->xfrm_out transforms them after write fires for them as they are,
 * before send (stack/tunnel/esp.c). */
void ip_output_xfrm_burst(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n, int af);
/* Prepends an IPv4 header to m (data at the transport header) and sends it.
 * src 0 picks the outgoing interface's address. */
int ipv4_output(struct sonde_stack *st, struct rte_mbuf *m, uint32_t src, uint32_t dst,
		uint8_t proto, uint8_t ttl, uint8_t tos);
/* The same for a transport's socket or connection conn: the packet's
 * pkt_meta conn (ipv4_output's metadata is written whole, conn NULL), for
 * the probes.  Both consume m, whatever they return: 0, or -EHOSTUNREACH
 * (no route), -EADDRNOTAVAIL (src 0 and the interface has no address),
 * -ENOBUFS (no headroom for the header), each a counted drop. */
int ipv4_output_conn(struct sonde_stack *st, struct rte_mbuf *m, void *conn, uint32_t src,
		     uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos);
void ipv4_turn_options(struct rte_mbuf *m);

/* m (data at the request's IPv4 header) turned into the header of its
 * reply (ipv4_output(st, m, dst, src, proto, 64, tos) would write: RFC 1122
 * 3.2.1.7 our TTL, a new ident, no DF, no options), in place; data at the
 * new header.  Inline: every echo takes it. */
static __rte_always_inline void
ipv4_turn(struct sonde_stack *st, struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	uint32_t src, dst, w0, w1, w2;
	uint16_t tot, ck;
	uint8_t *p;

	if (unlikely(pm->l3_len != IPV4_MIN_HDR_LEN))
		ipv4_turn_options(m);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	tot = (uint16_t)m->pkt_len;
	src = wire_load32(p + 12);
	dst = wire_load32(p + 16);
	w0 = rte_cpu_to_be_32(0x45u << 24 | (uint32_t)p[1] << 16 | tot);
	w1 = rte_cpu_to_be_32((uint32_t)st->ip_ident++ << 16);
	w2 = rte_cpu_to_be_32(64u << 24 | (uint32_t)p[9] << 16);
	ck = (uint16_t)~wire_sum_fold((uint64_t)w0 + w1 + w2 + src + dst);
	memcpy(p, &w0, 4);
	memcpy(p + 4, &w1, 4);
	memcpy(p + 8, &w2, 4);
	memcpy(p + 10, &ck, 2); /* as summed: in the words' own byte order */
	memcpy(p + 12, &dst, 4);
	memcpy(p + 16, &src, 4);
	pm->flags = 0;
}
/* To next hop nh on ifp, resolving as needed (fragments, the slow path). */
void ipv4_send_nh(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh);

/* --- ipv6.c --- */

void ipv6_output_burst(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n);
/* Prepends an IPv6 header to m (data at the upper-layer header) and sends
 * it, fragmenting at the source when it exceeds the path MTU.  ifhint names
 * the interface for link-local and multicast destinations (-1: none). */
int ipv6_output(struct sonde_stack *st, struct rte_mbuf *m, const uint8_t *src, const uint8_t *dst,
		uint8_t nxt, uint8_t hlim, uint8_t tclass, int ifhint);
/* The same for socket or connection conn, as ipv4_output_conn(); the
 * same errors (-EADDRNOTAVAIL: from :: where that is not allowed). */
int ipv6_output_conn(struct sonde_stack *st, struct rte_mbuf *m, void *conn, const uint8_t *src,
		     const uint8_t *dst, uint8_t nxt, uint8_t hlim, uint8_t tclass, int ifhint);
void ipv6_turn_ext(struct rte_mbuf *m);

/* The offset of the field that named a delivered packet's upper layer:
 * the IPv6 header's own when there is no extension header, else where
 * the walk left it (pkt_meta's scratch[0]). */
static inline uint32_t
ipv6_nh_field(const struct rte_mbuf *m)
{
	const struct pkt_meta *pm = pkt_meta_c(m);

	return pm->l3_len == IPV6_HDR_LEN ? 6 : pm->scratch[0];
}

/* As ipv4_turn(), for IPv6: from src (NULL: the address the request was
 * sent to), the traffic class kept, flow label 0 and hop limit 64 (as
 * ipv6_output()), no extension headers.  The in-interface stays the hint
 * for a link-local destination (not lo0: what came over it goes back over
 * it by the route). */
static __rte_always_inline void
ipv6_turn(struct sonde_stack *st, struct rte_mbuf *m, const uint8_t *src)
{
	struct pkt_meta *pm = pkt_meta(m);
	uint64_t s0, s1, d0, d1;
	uint8_t *p;

	if (unlikely(pm->l3_len != IPV6_HDR_LEN))
		ipv6_turn_ext(m);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	wire_put32(p, 6u << 28 | (wire_get32(p) & 0x0ff00000));
	wire_put16(p + 4, (uint16_t)(m->pkt_len - IPV6_HDR_LEN));
	p[7] = 64;
	memcpy(&s0, p + 8, 8);
	memcpy(&s1, p + 16, 8);
	memcpy(&d0, src ? src : p + 24, 8);
	memcpy(&d1, src ? src + 8 : p + 32, 8);
	memcpy(p + 8, &d0, 8);
	memcpy(p + 16, &d1, 8);
	memcpy(p + 24, &s0, 8);
	memcpy(p + 32, &s1, 8);
	pm->flags = 0;
	if (pm->ifindex == st->lo->index)
		pm->ifindex = SONDE_IF_NONE;
}
void ipv6_send_nh(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
		  const uint8_t *nh);
/* Where a packet to dst leaves (link-local and multicast ones by ifhint),
 * its next hop into nh; NULL: no route. */
struct sonde_if *ipv6_route(struct sonde_stack *st, const uint8_t *dst, int ifhint, uint8_t *nh);

/* --- icmp.c, icmp6.c --- */

/* Sends an ICMP error about m (data at its IP header; borrowed) per RFC 1122
 * 3.2.2 and RFC 1812 4.3.2.7: never about an ICMP error, a broadcast or
 * multicast, a non-initial fragment or a source that is not unicast. */
void icmp_error(struct sonde_stack *st, const struct rte_mbuf *m, uint8_t type, uint8_t code,
		uint32_t info);
/* The same for ICMPv6, per RFC 4443 2.4. */
void icmp6_error(struct sonde_stack *st, const struct rte_mbuf *m, uint8_t type, uint8_t code,
		 uint32_t info);
/* ICMP errors about what we sent go to the transport that sent it by
 * st->ip_err (proto_ip_err_register, struct ip_err in stack.h): icmp.c
 * and icmp6.c check the quote and map the type and code to an errno. */
/* ICMPv6 messages of one type, one at a time (data at the ICMPv6 header;
 * the IPv6 header before it), to a handler that consumes them. */
int icmp6_register(struct sonde_stack *st, uint8_t type, pkt_one_fn fn);
void pmtu6_set(struct sonde_stack *st, const uint8_t *dst, uint32_t mtu);
/* The path MTU towards dst that packet too big taught us, or UINT32_MAX. */
uint32_t pmtu6_get(struct sonde_stack *st, const uint8_t *dst);

/* --- frag.c --- */

int frag4_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh);
int frag6_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
		 const uint8_t *nh, uint32_t mtu);

/* --- reass.c: reassembly of both families, reached only through the
 * reass_fn it registers (stack.h); its layer is below. --- */

/* The layers this folder gives the stack (stack/layers.c). */
extern const struct sonde_layer route_layer, addr_layer, ipv4_layer, ipv6_layer, icmp_layer,
	icmp6_layer, frag_layer, reass_layer;

#endif
