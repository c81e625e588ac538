/*
 * icmp.c: ICMP for IPv4 (RFC 792), with RFC 1122 3.2.2's rules for hosts
 * and RFC 1812 4.3.2's for routers: echo reply, destination unreachable,
 * time exceeded; errors rate-limited and never sent about an ICMP error, a
 * broadcast or multicast, a non-initial fragment or a non-unicast source.
 * Echo requests are answered a burst at a time, each turned around in its
 * own mbuf.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "ip.h"
#include "probes.h"
#include "stack.h"

/* RFC 1812 4.3.2.3: quote as much of the packet as fits in 576 bytes. */
#define ICMP_ERR_MAX 576

static bool
icmp_type_is_error(uint8_t t)
{
	return t == ICMP_UNREACH || t == ICMP_SOURCEQUENCH || t == ICMP_REDIRECT ||
	       t == ICMP_TIMXCEED || t == ICMP_PARAMPROB;
}

/* An echo request turned into its reply, in place (RFC 792): 0 or why not. */
static int
icmp_echo(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *p)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);

	/* RFC 1122 3.2.2.6 allows silence for broadcast echo; Linux's
	 * default too (icmp_echo_ignore_broadcasts). */
	if (pkt_meta(m)->flags & PKT_GROUP)
		return DROP_ICMP_BROADCAST;
	/* RFC 1122 3.2.1.3: 0.0.0.0 is never a destination. */
	if (wire_load32(ip + 12) == 0)
		return DROP_BAD_SOURCE;
	/* Only the type changes, and the checksum with it (RFC 1624). */
	p[0] = ICMP_ECHOREPLY;
	wire_put16(p + 2, wire_cksum_adjust_hi(wire_get16(p + 2), ICMP_ECHO, ICMP_ECHOREPLY));
	ipv4_turn(st, m);
	return 0;
}

static void
icmp_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	struct ip_out out;
	uint16_t replies = 0; /* counted once a burst: the loop keeps no counter in memory */

	ip_out_init(&out);
	st->stats.icmp_in += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *p = pkt_l4(m);
		uint32_t off = pkt_meta(m)->l3_len, len = pkt_l4_len(m);
		struct icmp_view ic;
		uint16_t sum;
		int r;

		r = wire_icmp_parse_hdr(p, rte_pktmbuf_data_len(m) - off, &ic);
		/* Over the whole message: a reassembled one is a chain of mbufs. */
		if (r == 0 && (pkt_sum(m, off, len, 0, &sum) != 0 || sum != 0xffff))
			r = DROP_ICMP_BAD_CHECKSUM;
		if (r == 0 && ic.type == ICMP_ECHO) {
			r = icmp_echo(st, m, p);
			if (r == 0) {
				replies++;
				ipv4_out_add(st, &out, m);
				continue;
			}
		}
		if (r) {
			pkt_drop(st, m, (enum drop_reason)r);
			continue;
		}
		/* Replies and errors end here until sockets can take them. */
		rte_pktmbuf_free(m);
	}
	st->stats.icmp_echo_replies += replies;
	st->stats.icmp_out += replies;
	ip_out_send(st, &out, 4);
}

static bool
icmp_error_allowed(struct sonde_stack *st, const struct rte_mbuf *m, const uint8_t *h, uint32_t len)
{
	const struct pkt_meta *pm = pkt_meta_c(m);
	const struct sonde_if *inif = stack_if(st, pm->ifindex);
	uint32_t src, dst, hs, hd;
	uint8_t ihl;

	if (len < IPV4_MIN_HDR_LEN || (pm->flags & PKT_GROUP))
		return false;
	ihl = (uint8_t)((h[0] & 0xf) * 4);
	memcpy(&src, h + 12, 4);
	memcpy(&dst, h + 16, 4);
	hs = rte_be_to_cpu_32(src);
	hd = rte_be_to_cpu_32(dst);
	if (hs == 0 || hs == 0xffffffff || (hs >> 28) == 0xe || (hs >> 24) == 127 ||
	    ipv4_is_broadcast(st, inif, src))
		return false;
	if ((hd >> 28) == 0xe || ipv4_is_broadcast(st, inif, dst))
		return false;
	if (wire_get16(h + 6) & IPV4_OFFSET_MASK)
		return false;
	if (h[9] == IPPROTO_ICMP_ && (len <= ihl || icmp_type_is_error(h[ihl])))
		return false;
	return true;
}

void
icmp_error(struct sonde_stack *st, const struct rte_mbuf *m, uint8_t type, uint8_t code,
	   uint32_t info)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct icmp_view ic = { .type = type, .code = code, .rest = info };
	struct rte_mbuf *e;
	const void *q;
	uint32_t quote, src, dst;
	uint8_t *p;

	if (!icmp_error_allowed(st, m, h, rte_pktmbuf_data_len(m)))
		return;
	if (!ratelimit_ok(&st->icmp_rl, st->now)) {
		st->stats.icmp_ratelimited++;
		return;
	}
	e = rte_pktmbuf_alloc(st->pool);
	if (e == NULL)
		return;
	quote = RTE_MIN(len, (uint32_t)(ICMP_ERR_MAX - IPV4_MIN_HDR_LEN - ICMP_HDR_LEN));
	p = (uint8_t *)rte_pktmbuf_append(e, (uint16_t)(ICMP_HDR_LEN + quote));
	if (p == NULL) {
		rte_pktmbuf_free(e);
		return;
	}
	q = rte_pktmbuf_read(m, 0, quote, p + ICMP_HDR_LEN);
	if (q == NULL) {
		rte_pktmbuf_free(e);
		return;
	}
	if (q != p + ICMP_HDR_LEN)
		memcpy(p + ICMP_HDR_LEN, q, quote);
	wire_icmp_emit(p, ICMP_HDR_LEN + quote, &ic);
	memcpy(&src, h + 12, 4);
	memcpy(&dst, h + 16, 4);
	st->stats.icmp_errors_out++;
	st->stats.icmp_out++;
	/* From the address the packet was sent to when it is ours, else from
	 * the interface it came in on (RFC 1812 4.3.2.4). */
	ipv4_output(st, e,
		    ipv4_is_local(st, dst)
			    ? dst
			    : ipv4_if_addr(stack_if(st, pkt_meta_c(m)->ifindex), src),
		    src, IPPROTO_ICMP_, 64, 0);
}

int
sonde_ping(struct sonde_stack *st, const struct sonde_prefix *dst, uint16_t id, uint16_t seq,
	   uint16_t len)
{
	struct icmp_view ic = { .type = ICMP_ECHO, .rest = (uint32_t)id << 16 | seq };
	struct rte_mbuf *m;
	struct sonde_if *ifp;
	uint8_t src[16], nh[16];
	uint16_t ck;
	uint8_t *p;

	if (dst->af != AF_INET && dst->af != AF_INET6)
		return -EAFNOSUPPORT;
	probe_gate_update(st);
	m = rte_pktmbuf_alloc(st->pool);
	if (m == NULL)
		return -ENOBUFS;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ICMP_HDR_LEN + len));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	for (uint16_t i = 0; i < len; i++)
		p[ICMP_HDR_LEN + i] = (uint8_t)(0x10 + i);
	if (dst->af == AF_INET) {
		wire_icmp_emit(p, ICMP_HDR_LEN + len, &ic);
		st->stats.icmp_out++;
		return ipv4_output(st, m, 0, dst->addr.v4, IPPROTO_ICMP_, 64, 0);
	}
	/* As IPv4: with no route or no source address, the request is
	 * built from :: and IP drops it (drop-out, no-route or no-source). */
	ifp = ipv6_route(st, dst->addr.v6, -1, nh);
	if (ifp == st->lo)
		memcpy(src, dst->addr.v6, 16);
	else if (ifp == NULL || !ipv6_select_source(ifp, dst->addr.v6, src))
		memset(src, 0, 16);
	ic.type = ICMP6_ECHO_REQUEST;
	wire_icmp_emit(p, ICMP_HDR_LEN + len, &ic); /* then the pseudo-header: */
	wire_put16(p + 2, 0);
	ck = (uint16_t)~__rte_raw_cksum_reduce(
		wire_pseudo6_sum(src, dst->addr.v6, ICMP_HDR_LEN + len, IPPROTO_ICMPV6_) +
		rte_raw_cksum(p, ICMP_HDR_LEN + len));
	wire_put16(p + 2, rte_be_to_cpu_16(ck));
	st->stats.icmp6_out++;
	return ipv6_output(st, m, src, dst->addr.v6, IPPROTO_ICMPV6_, 64, 0, -1);
}

static int
icmp_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	st->icmp_rl.rate = conf->icmp_rate ? conf->icmp_rate : 100;
	st->icmp_rl.burst = conf->icmp_burst ? conf->icmp_burst : 50;
	st->icmp_rl.tokens_ns = (1000000000ull / st->icmp_rl.rate) * st->icmp_rl.burst;
	st->icmp6_rl = st->icmp_rl;
	return proto_ip_register(st, 4, IPPROTO_ICMP_, icmp_input);
}

const struct sonde_layer icmp_layer = {
	.name = "icmp",
	.init = icmp_init,
};
