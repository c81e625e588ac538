/*
 * udp.c: UDP input (RFC 768, RFC 1122 4.1.3).  No ports are open yet (the
 * socket API and built-in services come later): every datagram to us is
 * validated, then answered with ICMP port unreachable (RFC 1122 4.1.3.1)
 * unless it was broadcast.
 */
#include <rte_mbuf.h>

#include "stack.h"

void
udp_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	struct udp_view u;
	enum drop_reason r;

	st->stats.udp_in++;
	r = (enum drop_reason)wire_udp_parse(p, len, &u);
	if (r)
		goto drop;
	/* RFC 768: a zero checksum means the sender computed none. */
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
	    (ck != RTE_MBUF_F_RX_L4_CKSUM_GOOD && u.cksum != 0 &&
	     wire_udp4_cksum(ip->src, ip->dst, p, u.len) != 0)) {
		r = DROP_UDP_BAD_CHECKSUM;
		goto drop;
	}
	rte_pktmbuf_prepend(m, m->l3_len);
	if (!m->hash.usr && !ipv4_is_broadcast(st, stack_if(st, m->port), ip->dst))
		icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	pkt_drop(st, m, DROP_UDP_NO_PORT);
	return;
drop:
	rte_pktmbuf_prepend(m, m->l3_len);
	pkt_drop(st, m, r);
}
