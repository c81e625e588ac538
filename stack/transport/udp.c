/*
 * udp.c: UDP for both families (RFC 768, RFC 1122 4.1.3, RFC 8200 8.1) and
 * the built-in services: echo (RFC 862) and discard (RFC 863).  A port with
 * no service is answered with an ICMP or ICMPv6 port unreachable (RFC 1122
 * 4.1.3.1, RFC 4443 3.1) unless the datagram was broadcast or multicast.
 * Datagrams come a run at a time from IP; echoes are turned around in
 * their own mbufs and go back out as one burst.  The socket API comes with
 * the transport issue; its demux goes where the service table is.
 */
#include <errno.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "ip.h"
#include "peer.h"
#include "sock.h"
#include "stack.h"

/* Ports whose datagrams are never echoed: the classic echo/chargen loop,
 * and 0 (no port to answer to). */
#define UDP_PORT_ECHO 7
#define UDP_PORT_CHARGEN 19
#define UDP_PORTS_QUIET (1u << 0 | 1u << UDP_PORT_ECHO | 1u << UDP_PORT_CHARGEN)

/* The datagram at p (off bytes into m), len bytes (a chain, if
 * reassembled), against its checksum: 0 or the drop reason.  psum_nolen is
 * the pseudo-header's sum without the length. */
static __rte_always_inline int
udp_check(const struct rte_mbuf *m, const uint8_t *p, uint32_t off, uint16_t len,
	  uint32_t psum_nolen, bool v6)
{
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	uint16_t cksum = wire_get16(p + 6), sum;

	if (ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return 0;
	/* RFC 768: zero means no checksum; RFC 8200 8.1: not for IPv6. */
	if (cksum == 0 && !v6)
		return 0;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD || cksum == 0)
		return DROP_UDP_BAD_CHECKSUM;
	if (likely(off + len <= rte_pktmbuf_data_len(m)))
		sum = wire_sum_fold(wire_sum(p, len, psum_nolen + rte_cpu_to_be_16(len)));
	else if (pkt_sum(m, off, len, psum_nolen + rte_cpu_to_be_16(len), &sum) != 0)
		return DROP_UDP_BAD_CHECKSUM;
	return sum == 0xffff ? 0 : DROP_UDP_BAD_CHECKSUM;
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

enum udp_verdict { UDP_NO_SERVICE, UDP_TAKEN, UDP_ECHO };

/* UDP_ECHO: the ports are turned around (RFC 862, in place: the checksum
 * needs no change, as the ports and the pseudo-header's addresses only
 * trade places in its sum) and the caller sends it back.  silent: it came
 * to a group (one datagram must not fan out), or from a source that names
 * no host (RFC 1122 3.2.1.3, RFC 4291 2.5.2: 0.0.0.0 and :: are never
 * destinations): no echo.  Never to the echo or chargen port (the loop). */
static __rte_always_inline enum udp_verdict
udp_service(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *p, uint16_t len, bool silent)
{
	uint16_t sport = wire_get16(p);

	switch (st->udp_service[wire_get16(p + 2)]) {
	case SONDE_SERVICE_ECHO:
		if (!silent && (sport > UDP_PORT_CHARGEN || !((UDP_PORTS_QUIET >> sport) & 1))) {
			uint32_t ports = wire_load32(p);

			if (unlikely(pkt_l4_len(m) > len))
				udp_trim(m, pkt_meta(m)->l3_len + (uint32_t)len);
			ports = ports >> 16 | ports << 16;
			memcpy(p, &ports, 4);
			st->stats.udp_echoed++;
			return UDP_ECHO;
		}
		/* fallthrough */
	case SONDE_SERVICE_DISCARD:
		st->stats.udp_discarded++;
		rte_pktmbuf_free(m);
		return UDP_TAKEN;
	default: return UDP_NO_SERVICE;
	}
}

/* What is wrong with the datagram at p (off bytes into m): its header cut
 * short, or a length that is not what IP carries. */
static __rte_always_inline int
udp_parse(const struct rte_mbuf *m, const uint8_t *p, uint32_t off, uint16_t *len)
{
	uint32_t iplen = rte_pktmbuf_pkt_len(m) - off;

	/* The header is read only once it is known to be there, in the
	 * first segment (and so in the packet: data_len <= pkt_len). */
	if (unlikely(rte_pktmbuf_data_len(m) < off + UDP_HDR_LEN))
		return DROP_UDP_TRUNCATED;
	*len = wire_get16(p + 4);
	/* Shorter than its header, or longer than what IP carries: one
	 * unsigned compare (iplen is at least the header, above). */
	if (unlikely((uint32_t)(*len - UDP_HDR_LEN) > iplen - UDP_HDR_LEN))
		return DROP_UDP_BAD_LENGTH;
	return 0;
}

/* A datagram no service took: port unreachable (not to a group), then the
 * drop. */
static void
udp_unreach(struct sonde_stack *st, struct rte_mbuf *m, int r, bool v6)
{
	bool group = pkt_meta(m)->flags & PKT_GROUP;

	if (r) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	if (v6)
		icmp6_error(st, m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0);
	else if (!group)
		icmp_error(st, m, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	pkt_drop(st, m, DROP_UDP_NO_PORT);
}

/* One function for both families, made twice by the compiler: the
 * pseudo-header, the zero checksum, what makes a source silent and how a
 * reply turns are the family's. */
static __rte_always_inline void
udp_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n, bool v6)
{
	struct ip_out out;

	ip_out_init(&out);
	st->stats.udp_in += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t off = pkt_meta(m)->l3_len, psum;
		uint8_t *p = pkt_l4(m);
		bool silent;
		uint16_t len;
		int r;

		if (v6) {
			if (ipv6_addr_is_multicast(ip + 24))
				pkt_meta(m)->flags |= PKT_IP_BCAST; /* to a group, for UDP */
			psum = wire_pseudo6_sum(ip + 8, ip + 24, 0, IPPROTO_UDP_);
			silent = ipv6_addr_is_unspecified(ip + 8);
		} else {
			psum = wire_pseudo4_sum(wire_load32(ip + 12), wire_load32(ip + 16), 0,
						IPPROTO_UDP_);
			silent = wire_load32(ip + 12) == 0;
		}
		r = udp_parse(m, p, off, &len);
		if (r == 0)
			r = udp_check(m, p, off, len, psum, v6);
		if (r == 0) {
			if (unlikely(probe_gate(st)) && st->udp_service[wire_get16(p + 2)])
				probe_udp(st, PROBE_UDP_RECEIVE, m, NULL); /* a service takes it */
			switch (udp_service(st, m, p, len,
					    silent || (pkt_meta(m)->flags & PKT_GROUP))) {
			case UDP_ECHO:
				if (v6) {
					ipv6_turn(st, m, NULL);
					probe_udp(st, PROBE_UDP_SEND, m, NULL);
					ipv6_out_add(st, &out, m);
				} else {
					ipv4_turn(st, m);
					probe_udp(st, PROBE_UDP_SEND, m, NULL);
					ipv4_out_add(st, &out, m);
				}
				continue;
			case UDP_TAKEN: continue;
			case UDP_NO_SERVICE: break;
			}
		}
		udp_unreach(st, m, r, v6);
	}
	ip_out_send(st, &out, v6 ? 6 : 4);
}

static void
udp4_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	udp_input(st, pkts, n, false);
}

static void
udp6_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	udp_input(st, pkts, n, true);
}

int
sonde_udp_service(struct sonde_stack *st, uint16_t port, enum sonde_service kind)
{
	struct sonde_prefix p = { .plen = (uint8_t)kind };

	if (port == 0 || kind > SONDE_SERVICE_DISCARD)
		return -EINVAL;
	st->udp_service[port] = (uint8_t)kind;
	p.addr.v4 = port;
	peer_post_cmd(st, PEER_SERVICE, -1, &p, NULL);
	return 0;
}

static int
udp_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	return proto_ip_register(st, 4, IPPROTO_UDP_, udp4_input)
		       ?: proto_ip_register(st, 6, IPPROTO_UDP_, udp6_input);
}

const struct sonde_layer udp_layer = {
	.name = "udp",
	.init = udp_init,
};

/* --- sockets (SCAFFOLD until the UDP socket commit) --- */

int
udp_connect(struct sonde_sock *s, const uint8_t *raddr, uint16_t rport)
{
	(void)s, (void)raddr, (void)rport;
	return -EOPNOTSUPP;
}

ssize_t
udp_send(struct sonde_sock *s, const void *buf, size_t len, const struct sockaddr *sa,
	 socklen_t alen)
{
	(void)s, (void)buf, (void)len, (void)sa, (void)alen;
	return -EOPNOTSUPP;
}

ssize_t
udp_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m, const struct sockaddr *sa, socklen_t alen)
{
	(void)s, (void)m, (void)sa, (void)alen;
	return -EOPNOTSUPP;
}

ssize_t
udp_recv(struct sonde_sock *s, void *buf, size_t len, int flags, struct sockaddr *from,
	 socklen_t *flen)
{
	(void)s, (void)buf, (void)len, (void)flags, (void)from, (void)flen;
	return -EOPNOTSUPP;
}

ssize_t
udp_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **m, struct sockaddr *from, socklen_t *flen)
{
	(void)s, (void)m, (void)from, (void)flen;
	return -EOPNOTSUPP;
}
