/*
 * icmp.c: ICMP for IPv4 (RFC 792), with RFC 1122 3.2.2's rules for hosts
 * and RFC 1812 4.3.2's for routers: echo reply, destination unreachable,
 * time exceeded; errors rate-limited and never sent about an ICMP error, a
 * broadcast or multicast, a non-initial fragment or a non-unicast source.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

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

/* Data back at the IP header, then dropped: drop probes see the whole packet. */
static void
icmp_drop(struct sonde_stack *st, struct rte_mbuf *m, enum drop_reason r)
{
	rte_pktmbuf_prepend(m, m->l3_len);
	pkt_drop(st, m, r);
}

void
icmp_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip)
{
	struct icmp_view ic;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t sum;
	int r;

	st->stats.icmp_in++;
	r = wire_icmp_parse_hdr(p, rte_pktmbuf_data_len(m), &ic);
	/* Over the whole message: a reassembled one is a chain of mbufs. */
	if (r == 0 && (pkt_sum(m, 0, rte_pktmbuf_pkt_len(m), 0, &sum) != 0 || sum != 0xffff))
		r = DROP_ICMP_BAD_CHECKSUM;
	if (r) {
		icmp_drop(st, m, (enum drop_reason)r);
		return;
	}
	switch (ic.type) {
	case ICMP_ECHO:
		/* RFC 1122 3.2.2.6 allows silence for broadcast echo; Linux's
		 * default too (icmp_echo_ignore_broadcasts). */
		if (m->hash.usr) { /* a link-layer or IP broadcast */
			icmp_drop(st, m, DROP_ICMP_BROADCAST);
			return;
		}
		/* RFC 1122 3.2.1.3: 0.0.0.0 is never a destination. */
		if (ip->src == 0) {
			icmp_drop(st, m, DROP_BAD_SOURCE);
			return;
		}
		/* The reply is the request turned around, in the same mbuf;
		 * only the type changes, so does the checksum (RFC 1624). */
		p[0] = ICMP_ECHOREPLY;
		wire_put16(p + 2, wire_cksum_adjust(ic.cksum, (uint16_t)(ICMP_ECHO << 8 | ic.code),
						    (uint16_t)(ICMP_ECHOREPLY << 8 | ic.code)));
		st->stats.icmp_echo_replies++;
		st->stats.icmp_out++;
		ipv4_output(st, m, ip->dst, ip->src, IPPROTO_ICMP_, 64, ip->tos);
		return;
	default:
		/* Replies and errors end here until sockets can take them. */
		rte_pktmbuf_free(m);
		return;
	}
}

static bool
icmp_error_allowed(struct sonde_stack *st, const struct rte_mbuf *m, const uint8_t *h, uint32_t len)
{
	const struct sonde_if *inif = stack_if(st, m->port);
	uint32_t src, dst, hs, hd;
	uint8_t ihl;

	if (len < IPV4_MIN_HDR_LEN || m->hash.usr)
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
	ipv4_output(st, e, ipv4_is_local(st, dst) ? dst : ipv4_if_addr(stack_if(st, m->port), src),
		    src, IPPROTO_ICMP_, 64, 0);
}
