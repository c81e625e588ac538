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

/* What input decided for a packet: deliver, forward, or a drop reason
 * (the drop waits until receive has fired for the burst). */
#define IP_DELIVER 0
#define IP_FORWARD 1

/* The burst after receive: each run of one class to deliver or forward,
 * or dropped with its reason.  cls has room for RUN_PAD more. */
static __rte_always_inline void
ip_class_runs(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint8_t *cls,
	      uint16_t n, pkt_burst_fn deliver, pkt_burst_fn forward)
{
	uint16_t j;

	run_close(cls, n);
	for (uint16_t i = 0; i < n; i += j) {
		j = run_len(cls, i);
		if (likely(cls[i] == IP_DELIVER))
			deliver(st, ifp, pkts + i, j);
		else if (cls[i] == IP_FORWARD)
			forward(st, ifp, pkts + i, j);
		else
			for (uint16_t x = i; x < i + j; x++)
				pkt_drop(st, pkts[x], (enum drop_reason)cls[x]);
	}
}

/* Each run of packets with one upper protocol (data at its header) to the
 * handler registered for it; those with none to unknown, one by one.
 * proto has room for RUN_PAD more. */
static __rte_always_inline void
ip_upper_runs(struct sonde_stack *st, int af, struct rte_mbuf **pkts, uint8_t *proto, uint16_t n,
	      pkt_one_fn unknown)
{
	uint16_t j;

	run_close(proto, n);
	for (uint16_t i = 0; i < n; i += j) {
		ip_upper_fn fn = st->ip_proto[af_idx(af)][proto[i]];

		j = run_len(proto, i);
		if (likely(fn != NULL)) {
			fn(st, pkts + i, j);
			continue;
		}
		for (uint16_t x = i; x < i + j; x++)
			unknown(st, pkts[x]);
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

/* Packets whose IPv4 header is written (data at it, meta.af 4), to their
 * destinations: route, MTU, write, then their interfaces. */
void ipv4_output_burst(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n);
/* Prepends an IPv4 header to m (data at the transport header) and sends it.
 * src 0 picks the outgoing interface's address. */
int ipv4_output(struct sonde_stack *st, struct rte_mbuf *m, uint32_t src, uint32_t dst,
		uint8_t proto, uint8_t ttl, uint8_t tos);
void ipv4_turn_options(struct rte_mbuf *m);

/* m (data at the upper header, the request's IPv4 header before it) turned
 * into the header of its reply (ipv4_output(st, m, dst, src, proto, 64, tos)
 * would write: RFC 1122 3.2.1.7 our TTL, a new ident, no DF, no options),
 * in place; data at the new header.  Inline: every echo takes it. */
static __rte_always_inline void
ipv4_turn(struct sonde_stack *st, struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	uint32_t src, dst, w0, w1, w2;
	uint16_t tot, ck;
	uint8_t *p;

	if (unlikely(pm->l3_len != IPV4_MIN_HDR_LEN))
		ipv4_turn_options(m);
	pkt_prepend(m, IPV4_MIN_HDR_LEN); /* where the request's header was */
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
/* As ipv4_turn(), for IPv6: from src (NULL: the address the request was
 * sent to), traffic class tclass, hop limit 64, no extension headers; the
 * in-interface is the hint for a link-local destination. */
void ipv6_turn(struct sonde_stack *st, struct rte_mbuf *m, const uint8_t *src);
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
