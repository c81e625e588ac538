/*
 * udp.c: UDP for both families (RFC 768, RFC 1122 4.1.3, RFC 8200 8.1) and
 * the built-in services: echo (RFC 862) and discard (RFC 863).  A port with
 * no service is answered with an ICMP or ICMPv6 port unreachable (RFC 1122
 * 4.1.3.1, RFC 4443 3.1) unless the datagram was broadcast or multicast.
 * The socket API comes with the transport issue; its demux goes where the
 * service table is.
 */
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "stack.h"

/* Ports whose datagrams are never echoed: the classic echo/chargen loop. */
#define UDP_PORT_ECHO 7
#define UDP_PORT_CHARGEN 19

/* The datagram at m's data (a chain, if reassembled) verifies against the
 * pseudo-header sum psum. */
static bool
udp_cksum_ok(const struct rte_mbuf *m, uint32_t len, uint32_t psum)
{
	uint16_t sum;

	return pkt_sum(m, 0, len, psum, &sum) == 0 && sum == 0xffff;
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

/* Cuts m to the datagram's len bytes (RFC 768: what IP carries past them
 * is not UDP's).  A reassembled datagram is a chain, and
 * rte_pktmbuf_trim() only takes from its last segment: the segments past
 * the end go. */
static void
udp_trim(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m, *tail, *next;
	uint32_t left = len;
	uint16_t segs = 1;

	if (rte_pktmbuf_pkt_len(m) <= len)
		return;
	while (left > seg->data_len) {
		left -= seg->data_len;
		seg = seg->next;
		segs++;
	}
	seg->data_len = (uint16_t)left;
	tail = seg->next;
	seg->next = NULL;
	while (tail != NULL) {
		next = tail->next;
		rte_pktmbuf_free_seg(tail);
		tail = next;
	}
	m->pkt_len = len;
	m->nb_segs = segs;
}

/* RFC 862 in place: swap the ports.  The checksum needs no change: the
 * ports and the pseudo-header's addresses only trade places in its sum. */
static bool
udp_echo_turn(struct sonde_stack *st, struct rte_mbuf *m, const struct udp_view *u)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	if (u->sport == 0 || u->sport == UDP_PORT_ECHO || u->sport == UDP_PORT_CHARGEN)
		return false;
	udp_trim(m, u->len);
	wire_put16(p, u->dport);
	wire_put16(p + 2, u->sport);
	st->stats.udp_echoed++;
	return true;
}

enum udp_verdict { UDP_NO_SERVICE, UDP_TAKEN, UDP_ECHO };

/* UDP_ECHO: m is turned around and the caller sends it back.  silent:
 * it came to a group (one datagram must not fan out), or from a source
 * that names no host (RFC 1122 3.2.1.3, RFC 4291 2.5.2: 0.0.0.0 and ::
 * are never destinations): no echo. */
static enum udp_verdict
udp_service(struct sonde_stack *st, struct rte_mbuf *m, const struct udp_view *u, bool silent)
{
	switch (st->udp_service[u->dport]) {
	case SONDE_SERVICE_ECHO:
		if (!silent && udp_echo_turn(st, m, u))
			return UDP_ECHO;
		/* fallthrough */
	case SONDE_SERVICE_DISCARD:
		st->stats.udp_discarded++;
		rte_pktmbuf_free(m);
		return UDP_TAKEN;
	default: return UDP_NO_SERVICE;
	}
}

void
udp_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip)
{
	bool group = m->hash.usr; /* set by eth_input or ipv4_input */
	struct udp_view u;
	int r;

	st->stats.udp_in++;
	r = udp_check(m, &u, wire_pseudo4_sum(ip->src, ip->dst, 0, IPPROTO_UDP_), false);
	if (r == 0) {
		switch (udp_service(st, m, &u, group || ip->src == 0)) {
		case UDP_ECHO:
			ipv4_output(st, m, ip->dst, ip->src, IPPROTO_UDP_, 64, ip->tos);
			return;
		case UDP_TAKEN: return;
		case UDP_NO_SERVICE: break;
		}
	}
	rte_pktmbuf_prepend(m, m->l3_len);
	if (r) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	if (!group)
		icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	pkt_drop(st, m, DROP_UDP_NO_PORT);
}

void
udp6_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv6_view *ip)
{
	const struct sonde_if *inif = stack_if(st, m->port);
	bool group = m->hash.usr || ipv6_addr_is_multicast(ip->dst);
	struct udp_view u;
	int r;

	st->stats.udp_in++;
	r = udp_check(m, &u, wire_pseudo6_sum(ip->src, ip->dst, 0, IPPROTO_UDP_), true);
	if (r == 0) {
		switch (udp_service(st, m, &u, group || ipv6_addr_is_unspecified(ip->src))) {
		case UDP_ECHO:
			ipv6_output(st, m, ip->dst, ip->src, IPPROTO_UDP_, 64, ip->tclass,
				    inif && inif->kind == IF_KIND_PORT ? inif->index : -1);
			return;
		case UDP_TAKEN: return;
		case UDP_NO_SERVICE: break;
		}
	}
	rte_pktmbuf_prepend(m, m->l3_len);
	if (r) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	icmp6_error(st, m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0);
	pkt_drop(st, m, DROP_UDP_NO_PORT);
}
