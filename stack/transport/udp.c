/*
 * udp.c: UDP for both families (RFC 768, RFC 1122 4.1.3, RFC 8200 8.1) and
 * the built-in services: echo (RFC 862) and discard (RFC 863).  A port with
 * no service is answered with an ICMP or ICMPv6 port unreachable (RFC 1122
 * 4.1.3.1, RFC 4443 3.1) unless the datagram was broadcast or multicast.
 * Datagrams come a run at a time from IP; echoes are turned around in
 * their own mbufs and go back out as one burst.
 *
 * Sockets (include/sonde/socket.h, tables in sock.c): a datagram goes to
 * the socket of its 4-tuple, its local address or the wildcard before
 * any built-in service of its port, queued whole from its IP header (the
 * sender is read there) until recvfrom.  Sending builds the header in
 * front of the payload, sums it in software and hands it to IP, which
 * routes and fragments.  ICMP errors about what a connected socket sent
 * come back to it as its error (BSD's so_error).
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

enum udp_verdict { UDP_NO_SERVICE, UDP_TAKEN, UDP_ECHO, UDP_ENCAP };

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
	default:
		/* Out of the switch's cases: echo's way stays as short as it
		 * was (8 instructions a packet less, bench/replay udp4_echo). */
		return st->udp_service[wire_get16(p + 2)] == UDP_SERVICE_ENCAP ? UDP_ENCAP
									       : UDP_NO_SERVICE;
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

/* --- sockets --- */

/* The room a datagram needs in front of its payload: its UDP header, the
 * IP header (IPv6's, the larger) and the link header. */
#define UDP_HEADROOM (UDP_HDR_LEN + IPV6_HDR_LEN + ETH_HDR_LEN)
/* RFC 768: a 16-bit length; IPv4's total length holds its header too,
 * IPv6's payload length only what follows its own (RFC 8200 3). */
#define UDP_MAX4 (65535 - IPV4_MIN_HDR_LEN - UDP_HDR_LEN)
#define UDP_MAX6 (65535 - UDP_HDR_LEN)

/* Where one datagram goes, and from where. */
struct udp_dst {
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* network order */
	uint16_t ifhint;       /* a link-local destination's interface, or SONDE_IF_NONE */
};

static unsigned
udp_alen(uint8_t af)
{
	return af == 6 ? 16 : 4;
}

/* The error an ICMP message left on s, once (BSD's so_error): 0 or it. */
static int
udp_take_error(struct sonde_sock *s)
{
	int r = s->error;

	s->error = 0;
	return r;
}

/* Whether the datagram from src:sport is for s: any is for an unconnected
 * one, only its peer's for a connected one (RFC 768 leaves this to the
 * interface; BSD's and Linux's connect() filter so). */
static bool
udp_from_peer(const struct sonde_sock *s, const uint8_t *src, uint16_t sport)
{
	return !(s->flags & SOCK_F_CONNECTED) ||
	       (s->key.rport == sport && memcmp(s->key.raddr, src, udp_alen(s->af)) == 0);
}

/* The socket for the datagram at p (IP header ip): by 4-tuple, local
 * address, then the wildcard (sock_lookup).  A bound entry of a socket
 * connected to another peer only reserves its port: no match, and one
 * bound to the address leaves the wildcard to try.  A datagram to a
 * broadcast or multicast address finds a socket bound to it or to the
 * wildcard (one: no fan-out). */
static __rte_always_inline struct sonde_sock *
udp_demux(struct sonde_stack *st, const uint8_t *ip, const uint8_t *p, bool v6)
{
	static const uint8_t any[16];
	const uint8_t *src = v6 ? ip + 8 : ip + 12, *dst = v6 ? ip + 24 : ip + 16;
	uint8_t af = v6 ? 6 : 4;
	struct sonde_sock *s;
	uint16_t sport, dport;

	if (likely(st->sk->udp_bound == 0))
		return NULL;
	memcpy(&sport, p, 2);
	memcpy(&dport, p + 2, 2);
	s = sock_lookup(st, IPPROTO_UDP, af, dst, dport, src, sport);
	if (s == NULL || udp_from_peer(s, src, sport))
		return s;
	if (memcmp(s->key.laddr, any, 16) == 0)
		return NULL;
	s = sock_lookup_bound(st, IPPROTO_UDP, af, any, dport);
	return s != NULL && udp_from_peer(s, src, sport) ? s : NULL;
}

/* Queues datagram m (len bytes of UDP, checked) on s, whole from its IP
 * header: recvfrom reads the sender there.  The receive buffer counts
 * payload bytes; like Linux, an empty queue takes one datagram whatever
 * its size, or a buffer smaller than a datagram would never take any. */
static void
udp_deliver(struct sonde_stack *st, struct sonde_sock *s, struct rte_mbuf *m, uint16_t len)
{
	uint32_t bytes = len - UDP_HDR_LEN;

	pkt_meta(m)->conn = s; /* the drop probes name the socket too */
	if (unlikely(s->flags & SOCK_F_SHUT_RD)) {
		pkt_drop(st, m, DROP_UDP_SHUT_RD);
		return;
	}
	if (s->rq_head != NULL && s->rq_bytes + bytes > s->rcvbuf) {
		pkt_drop(st, m, DROP_UDP_RCVBUF);
		return;
	}
	udp_trim(m, pkt_meta(m)->l3_len + (uint32_t)len);
	if (!sock_mbufs_ok(st->sk, m->nb_segs)) {
		pkt_drop(st, m, DROP_SOCK_MBUFS);
		return;
	}
	sock_rq_append(s, m, bytes);
	st->stats.udp_delivered++;
	sock_post(s, SONDE_EV_IN);
}

/* The local port, picked (RFC 6056) and bound on the wildcard for a
 * socket that sends or connects unbound, as BSD does. */
static int
udp_autobind(struct sonde_sock *s)
{
	int r;

	if (s->flags & SOCK_F_BOUND)
		return 0;
	r = sock_pick_port(s);
	if (r == 0)
		r = sock_hash_bound(s);
	if (r)
		s->key.lport = 0;
	return r;
}

/* s's key now names its peer: the source (the bound address, else by the
 * route, which must be there: -ENETUNREACH), the port if unbound, then
 * into both tables, the bound one by the address the datagrams come to. */
static int
udp_connect_hash(struct sonde_sock *s, bool bound)
{
	static const uint8_t any[16];
	uint8_t src[16];
	int r;

	s->ifhint = SONDE_IF_NONE;
	r = sock_source(s->st, s->af, s->key.raddr, &s->ifhint, src);
	if (r)
		return r;
	if (memcmp(s->key.laddr, any, 16) == 0)
		memcpy(s->key.laddr, src, udp_alen(s->af));
	if (!bound) {
		r = sock_pick_port(s);
		if (r)
			return r;
	}
	r = sock_hash_bound(s);
	if (r)
		return r;
	r = sock_hash_connected(s);
	if (r)
		sock_unhash_bound(s);
	return r;
}

/* RFC 768 has no connect: BSD's, which fixes the peer (send's default, the
 * only one received from) and the source.  A second one re-targets and
 * keeps the source, as Linux does.  On failure s is as it was. */
int
udp_connect(struct sonde_sock *s, const uint8_t *raddr, uint16_t rport)
{
	struct sock_key old = s->key;
	uint16_t flags = s->flags, ifhint = s->ifhint;
	int r;

	if (flags & SOCK_F_CONNECTED)
		sock_unhash_connected(s);
	if (flags & SOCK_F_BOUND)
		sock_unhash_bound(s);
	memcpy(s->key.raddr, raddr, 16);
	s->key.rport = rport;
	r = udp_connect_hash(s, flags & SOCK_F_BOUND);
	if (r == 0)
		return 0;
	s->key = old;
	s->ifhint = ifhint;
	s->flags = flags & (uint16_t) ~(SOCK_F_BOUND | SOCK_F_CONNECTED);
	if ((flags & SOCK_F_BOUND) && sock_hash_bound(s) == 0 && (flags & SOCK_F_CONNECTED))
		sock_hash_connected(s);
	return r;
}

/* Whether s's local address can be a datagram's source: bound to one of
 * ours, not the wildcard or a group it takes datagrams to. */
static bool
udp_src_usable(const struct sonde_sock *s)
{
	const uint8_t *a = s->key.laddr;
	uint32_t a4;

	if (s->af == 6)
		return !ipv6_addr_is_unspecified(a) && !ipv6_addr_is_multicast(a);
	memcpy(&a4, a, 4);
	return ipv4_is_local(s->st, a4) || (a4 != 0 && IN_LOOPBACK_H(rte_be_to_cpu_32(a4)));
}

/* Where a datagram of len bytes to sa (NULL: the peer) goes: its
 * addresses and ports into d, an unbound s bound first.  The source is
 * the bound address, else the route's, a datagram at a time (a route
 * may change); with no route, none, and IP drops it as no-route. */
static int
udp_route(struct sonde_sock *s, size_t len, const struct sockaddr *sa, socklen_t alen,
	  struct udp_dst *d)
{
	unsigned al = udp_alen(s->af);
	int r;

	if (s->error)
		return udp_take_error(s);
	if (s->flags & SOCK_F_SHUT_WR)
		return -EPIPE;
	if (len > (s->af == 6 ? UDP_MAX6 : UDP_MAX4))
		return -EMSGSIZE;
	memset(d, 0, sizeof(*d));
	d->ifhint = s->ifhint;
	if (sa == NULL) {
		if (!(s->flags & SOCK_F_CONNECTED))
			return -EDESTADDRREQ;
		memcpy(d->dst, s->key.raddr, al);
		d->dport = s->key.rport;
	} else {
		r = sock_addr_from(s->af, sa, alen, d->dst, &d->dport);
		if (r)
			return r;
		if (d->dport == 0)
			return -EINVAL;
		if (!(s->flags & SOCK_F_CONNECTED) || memcmp(d->dst, s->key.raddr, al) != 0)
			d->ifhint = SONDE_IF_NONE;
	}
	r = udp_autobind(s);
	if (r)
		return r;
	d->sport = s->key.lport;
	if (udp_src_usable(s))
		memcpy(d->src, s->key.laddr, al);
	else if ((r = sock_source(s->st, s->af, d->dst, &d->ifhint, d->src)) == -EADDRNOTAVAIL)
		return r;
	return 0;
}

/* Sends m (data at the payload, headroom for the headers) to d: the UDP
 * header and its checksum in software over the chain (RFC 768, with the
 * pseudo-header; RFC 8200 8.1 for IPv6), then IP, which consumes m. */
static int
udp_output(struct sonde_sock *s, struct rte_mbuf *m, const struct udp_dst *d)
{
	struct sonde_stack *st = s->st;
	uint32_t ulen = rte_pktmbuf_pkt_len(m) + UDP_HDR_LEN, psum;
	uint8_t *u = (uint8_t *)rte_pktmbuf_prepend(m, UDP_HDR_LEN);
	uint16_t sum = 0; /* pkt_sum cannot fail: the chain holds ulen bytes */
	int r;

	memcpy(u, &d->sport, 2);
	memcpy(u + 2, &d->dport, 2);
	wire_put16(u + 4, (uint16_t)ulen);
	wire_put16(u + 6, 0);
	if (s->af == 6)
		psum = wire_pseudo6_sum(d->src, d->dst, ulen, IPPROTO_UDP_);
	else
		psum = wire_pseudo4_sum(wire_load32(d->src), wire_load32(d->dst), (uint16_t)ulen,
					IPPROTO_UDP_);
	pkt_sum(m, 0, ulen, psum, &sum);
	sum = (uint16_t)~sum;
	/* RFC 768: a sum of zero is sent as all ones (zero: no checksum). */
	if (sum == 0)
		sum = 0xffff;
	memcpy(u + 6, &sum, 2); /* as summed: in the words' own byte order */
	if (s->af == 6)
		r = ipv6_output_conn(st, m, s, d->src, d->dst, IPPROTO_UDP_, 64, 0,
				     d->ifhint == SONDE_IF_NONE ? -1 : (int)d->ifhint);
	else
		r = ipv4_output_conn(st, m, s, wire_load32(d->src), wire_load32(d->dst),
				     IPPROTO_UDP_, 64, 0);
	if (r == 0)
		st->stats.udp_out++;
	return r;
}

ssize_t
udp_send(struct sonde_sock *s, const void *buf, size_t len, const struct sockaddr *sa,
	 socklen_t alen)
{
	struct rte_mbuf *m;
	struct udp_dst d;
	int r;

	r = udp_route(s, len, sa, alen, &d);
	if (r)
		return r;
	m = sock_copy_in(s->st, buf, len, UDP_HEADROOM);
	if (m == NULL)
		return -ENOBUFS;
	r = udp_output(s, m, &d);
	return r ? r : (ssize_t)len;
}

/* m with room for the headers in front: its own headroom when it is
 * direct, not shared and has enough, else a segment of their own in
 * front of it; NULL when the pool has none. */
static struct rte_mbuf *
udp_headroom(struct sonde_stack *st, struct rte_mbuf *m)
{
	struct rte_mbuf *h;

	if (RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
	    rte_pktmbuf_headroom(m) >= UDP_HEADROOM)
		return m;
	h = rte_pktmbuf_alloc(st->pool);
	if (h == NULL)
		return NULL;
	h->next = m;
	h->nb_segs = (uint16_t)(m->nb_segs + 1);
	h->pkt_len = m->pkt_len;
	return h;
}

ssize_t
udp_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m, const struct sockaddr *sa, socklen_t alen)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct udp_dst d;
	int r;

	r = udp_route(s, len, sa, alen, &d);
	if (r)
		return r;
	if (m->nb_segs >= RTE_MBUF_MAX_NB_SEGS)
		return -EMSGSIZE;
	m = udp_headroom(s->st, m);
	if (m == NULL)
		return -ENOBUFS;
	/* IP has it now: its errors are drops, counted, m with them. */
	r = udp_output(s, m, &d);
	return r ? r : (ssize_t)len;
}

/* Takes s's first datagram off its queue. */
static struct rte_mbuf *
udp_dequeue(struct sonde_sock *s)
{
	struct rte_mbuf *m = s->rq_head;

	s->rq_head = pkt_qnext(m);
	if (s->rq_head == NULL)
		s->rq_tail = NULL;
	s->rq_bytes -= pkt_l4_len(m) - UDP_HDR_LEN;
	s->rq_mbufs -= m->nb_segs;
	sock_mbufs_sub(s->st, m->nb_segs);
	return m;
}

/* The sender of queued datagram m, into from. */
static void
udp_sender(const struct sonde_sock *s, const struct rte_mbuf *m, struct sockaddr *from,
	   socklen_t *flen)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *u = ip + pkt_meta_c(m)->l3_len;
	uint8_t addr[16] = { 0 };
	uint16_t port;

	memcpy(addr, ip + (s->af == 6 ? 8 : 12), udp_alen(s->af));
	memcpy(&port, u, 2);
	sock_addr_to(s->af, addr, port, from, flen);
}

/* An empty queue gives an error an ICMP message left, once, else
 * -EAGAIN: queued datagrams come first (BSD's soreceive). */
static ssize_t
udp_empty(struct sonde_sock *s)
{
	return s->error ? udp_take_error(s) : -EAGAIN;
}

ssize_t
udp_recv(struct sonde_sock *s, void *buf, size_t len, int flags, struct sockaddr *from,
	 socklen_t *flen)
{
	struct rte_mbuf *m = s->rq_head;
	uint32_t off, n;
	const void *p;

	if (m == NULL)
		return udp_empty(s);
	off = pkt_meta(m)->l3_len + UDP_HDR_LEN;
	n = (uint32_t)RTE_MIN((size_t)(rte_pktmbuf_pkt_len(m) - off), len);
	p = rte_pktmbuf_read(m, off, n, buf);
	if (p != buf && n > 0)
		memcpy(buf, p, n);
	udp_sender(s, m, from, flen);
	if (!(flags & SONDE_MSG_PEEK))
		rte_pktmbuf_free(udp_dequeue(s));
	return n; /* the rest of a longer datagram is lost, as for BSD */
}

ssize_t
udp_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **mp, struct sockaddr *from, socklen_t *flen)
{
	struct rte_mbuf *m;

	if (s->rq_head == NULL)
		return udp_empty(s);
	m = udp_dequeue(s);
	udp_sender(s, m, from, flen);
	/* In the first segment: udp_parse saw the header there. */
	pkt_adj(m, (uint16_t)(pkt_meta(m)->l3_len + UDP_HDR_LEN));
	*mp = m;
	return rte_pktmbuf_pkt_len(m);
}

/* An ICMP error about a datagram we sent: for the connected socket of its
 * 4-tuple, an error its next send or recv returns (BSD's udp_notify;
 * unconnected ones are not told, having no peer the error is about).
 * Packet too big and fragmentation needed are not: IP fragments to the
 * path MTU it learnt (UDP sets no DF). */
static void
udp_err(struct sonde_stack *st, const struct ip_err *e)
{
	const uint8_t *ip = e->ip, *u = ip + e->l4_off;
	const uint8_t *src = e->af == 6 ? ip + 8 : ip + 12, *dst = e->af == 6 ? ip + 24 : ip + 16;
	struct sonde_sock *s;
	uint16_t sport, dport;

	memcpy(&sport, u, 2);
	memcpy(&dport, u + 2, 2);
	/* About an ESP packet of ours (its port an encapsulation's): ESP's. */
	if (st->udp_service[rte_be_to_cpu_16(sport)] == UDP_SERVICE_ENCAP && st->udp_encap_err) {
		st->udp_encap_err(st, e);
		return;
	}
	if (e->err == EMSGSIZE)
		return;
	s = sock_lookup(st, IPPROTO_UDP, e->af, src, sport, dst, dport);
	if (s == NULL || !(s->flags & SOCK_F_CONNECTED) || !udp_from_peer(s, dst, dport))
		return;
	s->error = -e->err;
	sock_post(s, SONDE_EV_ERR);
}

/* --- input and the layer --- */

/* One function for both families, made twice by the compiler: the
 * pseudo-header, the zero checksum, what makes a source silent and how a
 * reply turns are the family's. */
static __rte_always_inline void
udp_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n, bool v6)
{
	struct rte_mbuf *encap[SONDE_BURST];
	struct ip_out out;
	uint16_t ne = 0;

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
			struct sonde_sock *s = udp_demux(st, ip, p, v6);

			if (s != NULL) {
				probe_udp(st, PROBE_UDP_RECEIVE, m, s);
				udp_deliver(st, s, m, len);
				continue;
			}
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
			case UDP_ENCAP:
				/* IPv4 datagrams with a zero checksum are taken
				 * (RFC 3948 2.1); the ICV guards ESP's bytes. */
				encap[ne++] = m;
				continue;
			case UDP_NO_SERVICE: break;
			}
		}
		udp_unreach(st, m, r, v6);
	}
	if (unlikely(ne != 0))
		st->udp_encap(st, encap, ne);
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
	if (st->udp_service[port] == UDP_SERVICE_ENCAP)
		return -EADDRINUSE; /* an ESP tunnel's */
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
		       ?: proto_ip_register(st, 6, IPPROTO_UDP_, udp6_input)
		       ?: proto_ip_err_register(st, 4, IPPROTO_UDP_, udp_err)
		       ?: proto_ip_err_register(st, 6, IPPROTO_UDP_, udp_err);
}

const struct sonde_layer udp_layer = {
	.name = "udp",
	.init = udp_init,
};
