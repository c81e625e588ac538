/*
 * udp.c: UDP input for both families (RFC 768, RFC 1122 4.1.3, RFC 8200
 * 8.1).  No ports are open yet (the socket API and built-in services come
 * later): every datagram to us is validated, then answered with an ICMP or
 * ICMPv6 port unreachable (RFC 1122 4.1.3.1, RFC 4443 3.1) unless it was
 * broadcast or multicast.
 */
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "stack.h"

/* The datagram at m's data (a chain, if reassembled) verifies against the
 * pseudo-header sum psum. */
static bool
udp_cksum_ok(const struct rte_mbuf *m, uint32_t len, uint32_t psum)
{
	uint16_t body;

	if (rte_raw_cksum_mbuf(m, 0, len, &body) != 0)
		return false;
	return __rte_raw_cksum_reduce(psum + body) == 0xffff;
}

static int
udp_check(const struct rte_mbuf *m, struct udp_view *u, uint32_t psum_nolen, bool v6)
{
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	int r;

	r = wire_udp_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_pkt_len(m), u);
	if (r)
		return r;
	if (rte_pktmbuf_data_len(m) < UDP_HDR_LEN)
		return DROP_UDP_TRUNCATED;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return 0;
	/* RFC 768: zero means no checksum; RFC 8200 8.1: not for IPv6. */
	if (u->cksum == 0 && !v6)
		return 0;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD || u->cksum == 0 ||
	    !udp_cksum_ok(m, u->len, psum_nolen + rte_cpu_to_be_16(u->len)))
		return DROP_UDP_BAD_CHECKSUM;
	return 0;
}

void
udp_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip)
{
	struct udp_view u;
	int r;

	st->stats.udp_in++;
	r = udp_check(m, &u, wire_pseudo4_sum(ip->src, ip->dst, 0, IPPROTO_UDP_), false);
	rte_pktmbuf_prepend(m, m->l3_len);
	if (r) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	if (!m->hash.usr && !ipv4_is_broadcast(st, stack_if(st, m->port), ip->dst))
		icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	pkt_drop(st, m, DROP_UDP_NO_PORT);
}

void
udp6_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv6_view *ip)
{
	struct udp_view u;
	int r;

	st->stats.udp_in++;
	r = udp_check(m, &u, wire_pseudo6_sum(ip->src, ip->dst, 0, IPPROTO_UDP_), true);
	rte_pktmbuf_prepend(m, m->l3_len);
	if (r) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	icmp6_error(st, m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0);
	pkt_drop(st, m, DROP_UDP_NO_PORT);
}
