/*
 * test_udp_sock.c: UDP sockets (include/sonde/socket.h over
 * stack/transport/udp.c and sock.c), both families, against the test
 * network of packets.h: us 10.0.0.1 and fd00::1 on test0, host A 10.0.0.2
 * and fd00::2.
 *
 * Binding: a local address and port taken once (-EADDRINUSE), the
 * wildcard beside a specific address, ports picked in the dynamic range
 * (RFC 6335 6) by bind, connect and sendto alike.  Demux: the 4-tuple of
 * a connected socket, then the local address, then the wildcard, before
 * any built-in service; a connected socket takes only its peer's
 * datagrams (others find the wildcard, or a port unreachable); broadcast
 * and multicast datagrams find a socket bound to the group or the
 * wildcard.  recvfrom: one datagram, cut to the buffer, the sender;
 * MSG_PEEK leaves it; recv_mbuf hands the payload's mbufs.  send: the
 * datagram on the wire with a checksum verified from scratch (RFC 768,
 * RFC 8200 8.1), 3000 bytes as fragments, -EDESTADDRREQ, -EMSGSIZE,
 * -EHOSTUNREACH with the drop counted, zero copy from an mbuf with or
 * without headroom.  A zero checksum: taken over IPv4, refused over IPv6.
 * The bounds: rcvbuf, the stack's mbufs, SHUT_RD, each a counted drop.
 * ICMP errors: port unreachable (from A, or from ourselves over lo0) and
 * time exceeded reach a connected socket as its error, once, with ERR;
 * an unconnected socket hears nothing.  Events are edge-triggered.
 * Closing a socket, or destroying the stack with sockets open and
 * datagrams queued, gives every mbuf back (fx_finish).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "sonde/socket.h"

#include "packets.h"
#include "unit.h"

#define PORT 6000

static struct sockaddr_in
sin4(const char *addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = ip4(addr);
	return a;
}

static struct sockaddr_in6
sin6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	memcpy(&a.sin6_addr, ip6(addr).a, 16);
	return a;
}

/* A socket of the family of addr, bound to addr:port (NULL: unbound). */
static struct sonde_sock *
sock_at(struct unit_fx *fx, int af, const char *addr, uint16_t port)
{
	struct sonde_sock *s;

	assert_int_equal(sonde_socket(fx->st, af, SOCK_DGRAM, NULL, &s), 0);
	if (addr == NULL)
		return s;
	if (af == AF_INET) {
		struct sockaddr_in a = sin4(addr, port);

		assert_int_equal(sonde_bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	} else {
		struct sockaddr_in6 a = sin6(addr, port);

		assert_int_equal(sonde_bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	return s;
}

static int
connect4(struct sonde_sock *s, const char *addr, uint16_t port)
{
	struct sockaddr_in a = sin4(addr, port);

	return sonde_connect(s, (struct sockaddr *)&a, sizeof(a));
}

static int
connect6(struct sonde_sock *s, const char *addr, uint16_t port)
{
	struct sockaddr_in6 a = sin6(addr, port);

	return sonde_connect(s, (struct sockaddr *)&a, sizeof(a));
}

static uint16_t
local_port(const struct sonde_sock *s)
{
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);

	assert_int_equal(sonde_getsockname(s, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin6_port); /* the same offset in sockaddr_in */
}

/* A datagram src:sport -> dst:dport with n bytes of data, from A's MAC to
 * ours: IPv4 or IPv6 by the addresses, checksums set. */
static void
dgram(struct frame *f, const char *src, uint16_t sport, const char *dst, uint16_t dport,
      const void *data, size_t n)
{
	uint8_t *ip;

	if (strchr(src, ':') != NULL) {
		FRAME(f, pkt6_udp);
		ip = frame_ip(f);
		memcpy(ip + 8, ip6(src).a, 16);
		memcpy(ip + 24, ip6(dst).a, 16);
		wire_put16(ip + 40, sport);
		wire_put16(ip + 42, dport);
		memcpy(ip + 48, data, n);
		frame6_resize(f, (uint16_t)(UDP_HDR_LEN + n));
	} else {
		FRAME(f, pkt_udp);
		ip = frame_ip(f);
		frame_set_ip4(ip + 12, src);
		frame_set_ip4(ip + 16, dst);
		wire_put16(ip + 20, sport);
		wire_put16(ip + 22, dport);
		memcpy(ip + 28, data, n);
		frame_ip_resize(f, (uint16_t)(IPV4_MIN_HDR_LEN + UDP_HDR_LEN + n));
	}
}

/* Injects a datagram of the text data and polls. */
static void
inject_dgram(struct unit_fx *fx, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	     const char *data)
{
	struct frame f;

	dgram(&f, src, sport, dst, dport, data, strlen(data));
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
}

/* The next datagram of s must be data (text). */
static void
expect_recv(struct sonde_sock *s, const char *data)
{
	char buf[2048];
	ssize_t n = sonde_recv(s, buf, sizeof(buf), 0);

	assert_int_equal(n, strlen(data));
	assert_memory_equal(buf, data, (size_t)n);
}

static void
expect_empty(struct sonde_sock *s)
{
	char buf[16];

	assert_int_equal(sonde_recv(s, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(sonde_sock_readable(s), 0);
}

/* A host, both families, A known in both. */
static void
host(struct unit_fx *fx, const struct sonde_conf *conf)
{
	fx_host6(fx, conf);
	fx_learn_a(fx);
	fx_learn6_a(fx);
}

static void
test_bind(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *a, *b, *c;
	struct sockaddr_in6 six = sin6("fd00::1", PORT);
	struct sockaddr_in in = sin4("10.0.0.1", PORT), far = sin4("10.0.0.9", PORT);

	host(fx, NULL);
	a = sock_at(fx, AF_INET, "10.0.0.1", PORT);
	assert_int_equal(local_port(a), PORT);
	assert_int_equal(sonde_socket(fx->st, AF_INET, SOCK_DGRAM, NULL, &b), 0);
	assert_int_equal(sonde_bind(b, (struct sockaddr *)&in, sizeof(in)), -EADDRINUSE);
	assert_int_equal(sonde_bind(b, (struct sockaddr *)&far, sizeof(far)), -EADDRNOTAVAIL);
	assert_int_equal(sonde_bind(b, (struct sockaddr *)&six, sizeof(six)), -EAFNOSUPPORT);
	/* The wildcard beside a specific address: demux tells them apart. */
	in = sin4("0.0.0.0", PORT);
	assert_int_equal(sonde_bind(b, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(sonde_bind(b, (struct sockaddr *)&in, sizeof(in)), -EINVAL);
	/* The port is the family's own; a sockaddr_in is too short for it. */
	c = sock_at(fx, AF_INET6, "fd00::1", PORT);
	in = sin4("10.0.0.1", PORT);
	assert_int_equal(sonde_bind(c, (struct sockaddr *)&in, sizeof(in)), -EINVAL);
	/* Closed, the address is free again. */
	assert_int_equal(sonde_close(a), 0);
	a = sock_at(fx, AF_INET, "10.0.0.1", PORT);
	/* A group address or a broadcast of ours, for UDP. */
	sonde_close(sock_at(fx, AF_INET, "10.0.0.255", PORT));
	sonde_close(sock_at(fx, AF_INET, "224.0.0.251", 5353));
	sonde_close(sock_at(fx, AF_INET6, "ff02::fb", 5353));
	sonde_close(a);
	sonde_close(b);
	sonde_close(c);
	fx_finish(fx);
}

static void
expect_ephemeral(uint16_t port)
{
	assert_true(port >= 49152);
}

static void
test_ephemeral(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *s[64];
	struct sockaddr_in to = sin4("10.0.0.2", 9);

	host(fx, NULL);
	for (unsigned i = 0; i < 64; i++) {
		s[i] = sock_at(fx, i & 1 ? AF_INET6 : AF_INET, i & 1 ? "::" : "0.0.0.0", 0);
		expect_ephemeral(local_port(s[i]));
		for (unsigned j = 0; j < i; j++)
			if ((i & 1) == (j & 1))
				assert_int_not_equal(local_port(s[i]), local_port(s[j]));
	}
	for (unsigned i = 0; i < 64; i++)
		sonde_close(s[i]);
	/* connect and sendto bind an unbound socket the same way. */
	s[0] = sock_at(fx, AF_INET, NULL, 0);
	assert_int_equal(local_port(s[0]), 0);
	assert_int_equal(connect4(s[0], "10.0.0.2", 9), 0);
	expect_ephemeral(local_port(s[0]));
	s[1] = sock_at(fx, AF_INET, NULL, 0);
	assert_int_equal(sonde_sendto(s[1], "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	expect_ephemeral(local_port(s[1]));
	assert_int_not_equal(local_port(s[0]), local_port(s[1]));
	s[2] = sock_at(fx, AF_INET6, NULL, 0);
	assert_int_equal(connect6(s[2], "fd00::2", 9), 0);
	expect_ephemeral(local_port(s[2]));
	sonde_close(s[0]);
	sonde_close(s[1]);
	sonde_close(s[2]);
	fx_finish(fx);
}

/* The 4-tuple over the local address over the wildcard, sockets over the
 * built-in services. */
static void
test_demux(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *c, *w, *l, *w2, *echo;
	struct frame f;

	host(fx, NULL);
	fx_addr(fx, &fx->link[0], "10.0.0.9/24");
	fx_poll(fx);
	fx_tx_clear(&fx->link[0]);
	c = sock_at(fx, AF_INET, "10.0.0.1", PORT);
	assert_int_equal(connect4(c, "10.0.0.2", 40000), 0);
	w = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "to c");
	inject_dgram(fx, "10.0.0.2", 40001, "10.0.0.1", PORT, "to w: not c's peer");
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.9", PORT, "to w: not c's address");
	expect_recv(c, "to c");
	expect_empty(c);
	expect_recv(w, "to w: not c's peer");
	expect_recv(w, "to w: not c's address");
	expect_empty(w);

	l = sock_at(fx, AF_INET, "10.0.0.1", PORT + 1);
	w2 = sock_at(fx, AF_INET, "0.0.0.0", PORT + 1);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT + 1, "to l");
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.9", PORT + 1, "to w2");
	expect_recv(l, "to l");
	expect_recv(w2, "to w2");
	sonde_close(l);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT + 1, "to w2 now");
	expect_recv(w2, "to w2 now");
	assert_int_equal(fx_stat(fx, "udp.delivered"), 6);

	/* Without the wildcard, another peer's datagram to a connected
	 * socket's port finds nobody: port unreachable. */
	sonde_close(w);
	fx_snap(fx);
	dgram(&f, "10.0.0.2", 40001, "10.0.0.1", PORT, "nobody's", 8);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	expect_empty(c);
	assert_one_drop(fx, "drop.in.udp-no-port");
	assert_int_equal(fx->link[0].n_tx, 1);
	tx_icmp_error(&fx->link[0], 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH,
		      ICMP_UNREACH_PORT, 0, frame_ip(&f), f.len - ETH_HDR_LEN);
	fx_tx_clear(&fx->link[0]);

	/* A socket on a service's port takes its datagrams, then the
	 * service again once it is closed. */
	assert_int_equal(sonde_udp_service(fx->st, 7, SONDE_SERVICE_ECHO), 0);
	echo = sock_at(fx, AF_INET, "0.0.0.0", 7);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", 7, "mine");
	assert_int_equal(fx->link[0].n_tx, 0);
	expect_recv(echo, "mine");
	sonde_close(echo);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", 7, "echoed");
	assert_int_equal(fx->link[0].n_tx, 1);
	assert_int_equal(fx_stat(fx, "udp.echoed"), 1);
	sonde_close(c);
	sonde_close(w2);
	fx_finish(fx);
}

/* One datagram to a group finds one socket: bound to it, or the wildcard. */
static void
test_demux_group(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *w, *g, *w6;
	struct frame f;

	host(fx, NULL);
	w = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	w6 = sock_at(fx, AF_INET6, "::", PORT);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.255", PORT, "directed");
	dgram(&f, "10.0.0.2", 40000, "255.255.255.255", PORT, "limited", 7);
	memcpy(f.b, MAC_BCAST, 6);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	expect_recv(w, "directed");
	expect_recv(w, "limited");
	g = sock_at(fx, AF_INET, "10.0.0.255", PORT);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.255", PORT, "to g");
	expect_recv(g, "to g");
	expect_empty(w);

	dgram(&f, "fd00::2", 40000, "ff02::1", PORT, "all nodes", 9);
	memcpy(f.b, MAC_ALLNODES, 6);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	expect_recv(w6, "all nodes");
	assert_int_equal(fx->link[0].n_tx, 0);
	sonde_close(w);
	sonde_close(g);
	sonde_close(w6);
	fx_finish(fx);
}

static void
test_recvfrom(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *s, *s6;
	struct sockaddr_in from;
	struct sockaddr_in6 from6;
	socklen_t flen = sizeof(from);
	struct rte_mbuf *m;
	char buf[64];

	host(fx, NULL);
	s = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "hello sonde");
	inject_dgram(fx, "10.0.0.2", 40002, "10.0.0.1", PORT, "second");
	inject_dgram(fx, "10.0.0.2", 40003, "10.0.0.1", PORT, "third");
	assert_int_equal(sonde_sock_readable(s), 11 + 6 + 5);

	/* Peeked: still there. */
	assert_int_equal(sonde_recvfrom(s, buf, sizeof(buf), SONDE_MSG_PEEK, NULL, NULL), 11);
	assert_int_equal(sonde_sock_readable(s), 22);
	/* Cut to the buffer: the rest is lost, the sender told. */
	memset(&from, 0, sizeof(from));
	assert_int_equal(sonde_recvfrom(s, buf, 5, 0, (struct sockaddr *)&from, &flen), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(flen, sizeof(from));
	assert_int_equal(from.sin_family, AF_INET);
	assert_int_equal(from.sin_addr.s_addr, ip4("10.0.0.2"));
	assert_int_equal(ntohs(from.sin_port), 40000);
	assert_int_equal(sonde_sock_readable(s), 11);

	/* Zero copy: the payload's mbuf, the caller's. */
	assert_int_equal(sonde_recv_mbuf(s, &m, (struct sockaddr *)&from, &flen), 6);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 6);
	assert_memory_equal(rte_pktmbuf_mtod(m, char *), "second", 6);
	assert_int_equal(ntohs(from.sin_port), 40002);
	rte_pktmbuf_free(m);
	expect_recv(s, "third");
	expect_empty(s);
	assert_int_equal(sonde_recv_mbuf(s, &m, NULL, NULL), -EAGAIN);

	s6 = sock_at(fx, AF_INET6, "fd00::1", PORT);
	inject_dgram(fx, "fd00::2", 40000, "fd00::1", PORT, "six");
	flen = sizeof(from6);
	assert_int_equal(sonde_recvfrom(s6, buf, sizeof(buf), 0, (struct sockaddr *)&from6, &flen),
			 3);
	assert_int_equal(flen, sizeof(from6));
	assert_int_equal(from6.sin6_family, AF_INET6);
	assert_memory_equal(&from6.sin6_addr, ip6("fd00::2").a, 16);
	assert_int_equal(ntohs(from6.sin6_port), 40000);
	assert_int_equal(fx_stat(fx, "udp.delivered"), 4);
	sonde_close(s);
	sonde_close(s6);
	fx_finish(fx);
}

/* Frame i of link 0 must be the datagram from our sport to A:dport
 * carrying data (n bytes), IPv4 or IPv6, its checksum RFC 768's (IPv6:
 * never zero, RFC 8200 8.1), computed here from scratch. */
static void
expect_sent(struct unit_fx *fx, unsigned i, bool v6, uint16_t sport, uint16_t dport,
	    const void *data, size_t n)
{
	size_t len, hl = v6 ? IPV6_HDR_LEN : IPV4_MIN_HDR_LEN;
	const uint8_t *ip =
		v6 ? tx_ipv6(&fx->link[0], i, MAC_A, &len) : tx_ipv4(&fx->link[0], i, MAC_A, &len);
	const uint8_t *u = ip + hl;

	assert_int_equal(len, hl + UDP_HDR_LEN + n);
	assert_int_equal(ip[v6 ? 6 : 9], IPPROTO_UDP_);
	if (v6) {
		assert_ip6(ip + 8, "fd00::1");
		assert_ip6(ip + 24, "fd00::2");
		assert_int_not_equal(wire_get16(u + 6), 0);
		assert_int_equal(ref_cksum6(ip + 8, ip + 24, IPPROTO_UDP_, u, UDP_HDR_LEN + n), 0);
	} else {
		assert_ip4(ip + 12, "10.0.0.1");
		assert_ip4(ip + 16, "10.0.0.2");
		assert_int_equal(wire_get16(u + 6), ref_udp_cksum(ip));
	}
	assert_int_equal(wire_get16(u), sport);
	assert_int_equal(wire_get16(u + 2), dport);
	assert_int_equal(wire_get16(u + 4), UDP_HDR_LEN + n);
	assert_memory_equal(u + UDP_HDR_LEN, data, n);
}

static void
test_send4(void **state)
{
	static const char odd[] = "an odd length";
	struct unit_fx *fx = *state;
	struct sockaddr_in to = sin4("10.0.0.2", 9), nowhere = sin4("192.168.7.7", 9);
	struct sonde_sock *s;
	static char big[65508];
	struct rte_mbuf *m;

	host(fx, NULL);
	s = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	assert_int_equal(sonde_send(s, "x", 1, 0), -EDESTADDRREQ);
	assert_int_equal(sonde_sendto(s, odd, 13, 0, (struct sockaddr *)&to, sizeof(to)), 13);
	assert_int_equal(sonde_sendto(s, "", 0, 0, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(connect4(s, "10.0.0.2", 7777), 0);
	assert_int_equal(sonde_send(s, "connected", 9, 0), 9);
	fx_poll(fx); /* what the application sent leaves at the poll's flush */
	assert_int_equal(fx->link[0].n_tx, 3);
	expect_sent(fx, 0, false, PORT, 9, odd, 13);
	expect_sent(fx, 1, false, PORT, 9, "", 0);
	expect_sent(fx, 2, false, PORT, 7777, "connected", 9);
	assert_int_equal(fx_stat(fx, "udp.out"), 3);
	fx_tx_clear(&fx->link[0]);

	/* Zero copy, in the mbuf's headroom and, without any, in a segment
	 * of the headers' own. */
	for (int room = 1; room >= 0; room--) {
		m = rte_pktmbuf_alloc(unit_pool);
		if (!room)
			m->data_off = 0;
		memcpy(rte_pktmbuf_append(m, 4), "zero", 4);
		assert_int_equal(sonde_send_mbuf(s, m, NULL, 0), 4);
		fx_poll(fx);
		expect_sent(fx, 0, false, PORT, 7777, "zero", 4);
		fx_tx_clear(&fx->link[0]);
	}

	/* The largest IPv4 allows, and one byte more. */
	assert_int_equal(sonde_send(s, big, sizeof(big), 0), -EMSGSIZE);
	assert_int_equal(sonde_send(s, big, sizeof(big) - 1, 0), sizeof(big) - 1);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 45); /* 1480 bytes a fragment */
	fx_tx_clear(&fx->link[0]);

	/* No route: refused, the drop counted. */
	fx_snap(fx);
	assert_int_equal(sonde_sendto(s, "x", 1, 0, (struct sockaddr *)&nowhere, sizeof(nowhere)),
			 -EHOSTUNREACH);
	assert_one_drop(fx, "drop.out.no-route");
	assert_int_equal(fx_delta(fx, "udp.out"), 0);
	sonde_close(s);
	fx_finish(fx);
}

static void
test_send6(void **state)
{
	struct unit_fx *fx = *state;
	struct sockaddr_in6 to = sin6("fd00::2", 9), nowhere = sin6("fd99::7", 9);
	struct sonde_sock *s;
	static char big[65528];

	host(fx, NULL);
	s = sock_at(fx, AF_INET6, NULL, 0);
	assert_int_equal(sonde_sendto(s, "odd", 3, 0, (struct sockaddr *)&to, sizeof(to)), 3);
	fx_poll(fx);
	expect_sent(fx, 0, true, local_port(s), 9, "odd", 3);
	assert_int_equal(connect6(s, "fd00::2", 7777), 0);
	assert_int_equal(sonde_send(s, "even", 4, 0), 4);
	fx_poll(fx);
	expect_sent(fx, 1, true, local_port(s), 7777, "even", 4);
	fx_tx_clear(&fx->link[0]);
	assert_int_equal(sonde_send(s, big, sizeof(big), 0), -EMSGSIZE);
	fx_snap(fx);
	assert_int_equal(sonde_sendto(s, "x", 1, 0, (struct sockaddr *)&nowhere, sizeof(nowhere)),
			 -EHOSTUNREACH);
	assert_one_drop(fx, "drop.out.no-route");
	sonde_close(s);
	fx_finish(fx);
}

/* 3000 bytes leave as fragments of the link's MTU, which together are
 * the datagram, its checksum right over all of it. */
static void
test_send_frag(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct sonde_sock *s4, *s6;
	static uint8_t data[3000], dg[IPV6_HDR_LEN + UDP_HDR_LEN + 3000], sum[12 + 8 + 3000];
	const uint8_t *f;

	host(fx, NULL);
	l = &fx->link[0];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	s4 = sock_at(fx, AF_INET, NULL, 0);
	assert_int_equal(connect4(s4, "10.0.0.2", 9), 0);
	assert_int_equal(sonde_send(s4, data, sizeof(data), 0), sizeof(data));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 3);
	/* The datagram they should be: the first's header, whole. */
	f = tx_ipv4(l, 0, MAC_A, NULL);
	memcpy(dg, f, IPV4_MIN_HDR_LEN + UDP_HDR_LEN);
	wire_put16(dg + 2, IPV4_MIN_HDR_LEN + UDP_HDR_LEN + sizeof(data));
	memcpy(dg + IPV4_MIN_HDR_LEN + UDP_HDR_LEN, data, sizeof(data));
	tx_ipv4_fragments(l, 0, 3, MAC_A, dg, 1500);
	assert_int_equal(wire_get16(dg + 24), UDP_HDR_LEN + sizeof(data));
	memcpy(sum, dg + 12, 8);
	sum[9] = IPPROTO_UDP_;
	wire_put16(sum + 10, UDP_HDR_LEN + sizeof(data));
	memcpy(sum + 12, dg + IPV4_MIN_HDR_LEN, UDP_HDR_LEN + sizeof(data));
	assert_int_equal(ref_cksum(sum, sizeof(sum)), 0);
	fx_tx_clear(l);

	s6 = sock_at(fx, AF_INET6, NULL, 0);
	assert_int_equal(connect6(s6, "fd00::2", 9), 0);
	assert_int_equal(sonde_send(s6, data, sizeof(data), 0), sizeof(data));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 3);
	f = tx_ipv6(l, 0, MAC_A, NULL);
	memcpy(dg, f, IPV6_HDR_LEN);
	dg[6] = IPPROTO_UDP_;
	wire_put16(dg + 4, UDP_HDR_LEN + sizeof(data));
	memcpy(dg + IPV6_HDR_LEN, f + IPV6_HDR_LEN + 8, UDP_HDR_LEN);
	memcpy(dg + IPV6_HDR_LEN + UDP_HDR_LEN, data, sizeof(data));
	tx_ipv6_fragments(l, 0, 3, MAC_A, dg, 1500);
	assert_int_equal(ref_cksum6(dg + 8, dg + 24, IPPROTO_UDP_, dg + IPV6_HDR_LEN,
				    UDP_HDR_LEN + sizeof(data)),
			 0);
	sonde_close(s4);
	sonde_close(s6);
	fx_finish(fx);
}

/* RFC 768: zero means no checksum; RFC 8200 8.1: not over IPv6. */
static void
test_zero_checksum(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *s4, *s6;
	struct frame f;

	host(fx, NULL);
	s4 = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	s6 = sock_at(fx, AF_INET6, "::", PORT);
	dgram(&f, "10.0.0.2", 40000, "10.0.0.1", PORT, "none", 4);
	wire_put16(frame_ip(&f) + 26, 0);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	expect_recv(s4, "none");
	dgram(&f, "fd00::2", 40000, "fd00::1", PORT, "none", 4);
	wire_put16(frame_ip(&f) + 46, 0);
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	assert_one_drop(fx, "drop.in.udp-bad-checksum");
	expect_empty(s6);
	sonde_close(s4);
	sonde_close(s6);
	fx_finish(fx);
}

static void
test_rcvbuf(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *s;
	static char k[1001];
	char buf[1024];

	host(fx, NULL);
	memset(k, 'k', 1000);
	s = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	assert_int_equal(sonde_setsockopt(s, SONDE_SO_RCVBUF, 2048), 0);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, k);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, k);
	fx_snap(fx);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, k);
	assert_one_drop(fx, "drop.in.udp-receive-buffer-full");
	assert_int_equal(fx_delta(fx, "udp.delivered"), 0);
	assert_int_equal(sonde_sock_readable(s), 2000);
	/* Read, there is room again. */
	assert_int_equal(sonde_recv(s, buf, sizeof(buf), 0), 1000);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, k);
	assert_int_equal(sonde_sock_readable(s), 2000);
	sonde_close(s);
	fx_finish(fx);
}

/* conf.sock_mbufs bounds what every socket holds together. */
static void
test_sock_mbufs(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_conf conf = { .sock_mbufs = 2 };
	struct sonde_sock *a, *b;

	host(fx, &conf);
	a = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	b = sock_at(fx, AF_INET6, "::", PORT);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "one");
	inject_dgram(fx, "fd00::2", 40000, "fd00::1", PORT, "two");
	fx_snap(fx);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "three");
	assert_one_drop(fx, "drop.in.socket-mbufs-full");
	expect_recv(b, "two");
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "four");
	expect_recv(a, "one");
	expect_recv(a, "four");
	expect_empty(a);
	sonde_close(a);
	sonde_close(b);
	fx_finish(fx);
}

static void
test_shut_rd(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *s;

	host(fx, NULL);
	s = sock_at(fx, AF_INET, "10.0.0.1", PORT);
	assert_int_equal(connect4(s, "10.0.0.2", 40000), 0);
	assert_int_equal(sonde_shutdown(s, SHUT_RD), 0);
	fx_snap(fx);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "unread");
	assert_one_drop(fx, "drop.in.udp-read-shutdown");
	expect_empty(s);
	assert_int_equal(fx->link[0].n_tx, 0);
	sonde_close(s);
	fx_finish(fx);
}

/* Host A answers frame i of link 0 (an IPv4 datagram of ours, sent since
 * the last poll: the next sends it) with an ICMP error of type and code
 * quoting all of it. */
static void
icmp4_answer(struct unit_fx *fx, unsigned i, uint8_t type, uint8_t code)
{
	size_t len;
	const uint8_t *q;
	struct frame f;
	uint8_t *ip;

	fx_poll(fx); /* what the socket sent leaves */
	q = tx_ipv4(&fx->link[0], i, MAC_A, &len);
	FRAME(&f, pkt_echo_req);
	ip = frame_ip(&f);
	memcpy(ip + IPV4_MIN_HDR_LEN + ICMP_HDR_LEN, q, len);
	ip[20] = type;
	ip[21] = code;
	wire_put32(ip + 24, 0);
	frame_ip_resize(&f, (uint16_t)(IPV4_MIN_HDR_LEN + ICMP_HDR_LEN + len));
	fx_tx_clear(&fx->link[0]);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
}

static void
icmp6_answer(struct unit_fx *fx, unsigned i, uint8_t type, uint8_t code)
{
	size_t len;
	const uint8_t *q;
	struct frame f;
	uint8_t *ip;

	fx_poll(fx);
	q = tx_ipv6(&fx->link[0], i, MAC_A, &len);
	FRAME(&f, pkt6_echo_req);
	ip = frame_ip(&f);
	memcpy(ip + IPV6_HDR_LEN + ICMP_HDR_LEN, q, len);
	ip[40] = type;
	ip[41] = code;
	wire_put32(ip + 44, 0);
	frame6_resize(&f, (uint16_t)(ICMP_HDR_LEN + len));
	fx_tx_clear(&fx->link[0]);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
}

/* The events since the last call must be exactly ev for s. */
static void
expect_event(struct unit_fx *fx, struct sonde_sock *s, uint32_t ev)
{
	struct sonde_event e[4];

	assert_int_equal(sonde_events(fx->st, e, 4), 1);
	assert_ptr_equal(e[0].sock, s);
	assert_int_equal(e[0].events, ev);
}

static void
expect_no_event(struct unit_fx *fx)
{
	struct sonde_event e[4];

	assert_int_equal(sonde_events(fx->st, e, 4), 0);
}

static void
test_icmp_errors(void **state)
{
	struct unit_fx *fx = *state;
	struct sockaddr_in to = sin4("10.0.0.2", 9);
	struct sonde_sock *c, *u, *c6;
	char buf[8];

	host(fx, NULL);
	c = sock_at(fx, AF_INET, NULL, 0);
	assert_int_equal(connect4(c, "10.0.0.2", 9), 0);
	assert_int_equal(sonde_send(c, "knock", 5, 0), 5);
	icmp4_answer(fx, 0, ICMP_UNREACH, ICMP_UNREACH_PORT);
	expect_event(fx, c, SONDE_EV_ERR);
	assert_int_equal(sonde_sock_error(c), -ECONNREFUSED);
	/* Once: the next send returns it, the one after goes. */
	assert_int_equal(sonde_send(c, "again", 5, 0), -ECONNREFUSED);
	assert_int_equal(sonde_sock_error(c), 0);
	assert_int_equal(sonde_send(c, "again", 5, 0), 5);
	/* Time exceeded, read by recv on an empty queue. */
	icmp4_answer(fx, 0, ICMP_TIMXCEED, 0);
	expect_event(fx, c, SONDE_EV_ERR);
	assert_int_equal(sonde_recv(c, buf, sizeof(buf), 0), -EHOSTUNREACH);
	assert_int_equal(sonde_recv(c, buf, sizeof(buf), 0), -EAGAIN);
	/* Net unreachable. */
	assert_int_equal(sonde_send(c, "again", 5, 0), 5);
	icmp4_answer(fx, 0, ICMP_UNREACH, ICMP_UNREACH_NET);
	expect_event(fx, c, SONDE_EV_ERR);
	assert_int_equal(sonde_sock_error(c), -ENETUNREACH);

	/* An unconnected socket hears nothing (it has no one peer). */
	u = sock_at(fx, AF_INET, NULL, 0);
	assert_int_equal(sonde_sendto(u, "knock", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
	icmp4_answer(fx, 0, ICMP_UNREACH, ICMP_UNREACH_PORT);
	expect_no_event(fx);
	assert_int_equal(sonde_sock_error(u), 0);

	c6 = sock_at(fx, AF_INET6, NULL, 0);
	assert_int_equal(connect6(c6, "fd00::2", 9), 0);
	assert_int_equal(sonde_send(c6, "knock", 5, 0), 5);
	icmp6_answer(fx, 0, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT);
	expect_event(fx, c6, SONDE_EV_ERR);
	assert_int_equal(sonde_send(c6, "knock", 5, 0), -ECONNREFUSED);
	assert_int_equal(sonde_send(c6, "knock", 5, 0), 5);
	icmp6_answer(fx, 0, ICMP6_TIME_EXCEEDED, 0);
	expect_event(fx, c6, SONDE_EV_ERR);
	assert_int_equal(sonde_sock_error(c6), -EHOSTUNREACH);
	/* Packet too big: IP fragments to it from now on; no error. */
	assert_int_equal(sonde_recv(c6, buf, sizeof(buf), 0), -EHOSTUNREACH);
	assert_int_equal(sonde_send(c6, "knock", 5, 0), 5);
	icmp6_answer(fx, 0, ICMP6_PACKET_TOO_BIG, 0);
	expect_no_event(fx);
	assert_int_equal(sonde_sock_error(c6), 0);
	sonde_close(c);
	sonde_close(u);
	sonde_close(c6);
	fx_finish(fx);
}

/* To ourselves over lo0: the datagram, and the port unreachable we answer
 * a port nobody has. */
static void
test_loopback(void **state)
{
	struct unit_fx *fx = *state;
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct sonde_sock *a, *b;
	char buf[16];

	host(fx, NULL);
	a = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	b = sock_at(fx, AF_INET, NULL, 0);
	assert_int_equal(connect4(b, "10.0.0.1", PORT), 0);
	assert_int_equal(sonde_send(b, "self", 4, 0), 4);
	fx_poll(fx);
	assert_int_equal(sonde_recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen),
			 4);
	assert_int_equal(from.sin_addr.s_addr, ip4("10.0.0.1"));
	assert_int_equal(ntohs(from.sin_port), local_port(b));
	expect_event(fx, a, SONDE_EV_IN);
	sonde_close(a);
	assert_int_equal(sonde_send(b, "self", 4, 0), 4);
	fx_poll(fx); /* the datagram, port unreachable */
	fx_poll(fx); /* the ICMP error */
	expect_event(fx, b, SONDE_EV_ERR);
	assert_int_equal(sonde_sock_error(b), -ECONNREFUSED);
	assert_int_equal(fx->link[0].n_tx, 0);
	sonde_close(b);
	fx_finish(fx);
}

/* Edge-triggered: one event for what came until it is drained, the next
 * for what comes after. */
static void
test_events(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *s, *t;
	struct sonde_event e[4];
	int tag;

	host(fx, NULL);
	assert_int_equal(sonde_socket(fx->st, AF_INET, SOCK_DGRAM, &tag, &s), 0);
	t = sock_at(fx, AF_INET, "0.0.0.0", PORT + 1);
	{
		struct sockaddr_in a = sin4("0.0.0.0", PORT);

		assert_int_equal(sonde_bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "one");
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "two");
	assert_int_equal(sonde_events(fx->st, e, 4), 1);
	assert_ptr_equal(e[0].sock, s);
	assert_ptr_equal(e[0].udata, &tag);
	assert_int_equal(e[0].events, SONDE_EV_IN);
	expect_no_event(fx);
	expect_recv(s, "one");
	expect_no_event(fx);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "three");
	expect_event(fx, s, SONDE_EV_IN);
	expect_recv(s, "two");
	expect_recv(s, "three");
	expect_empty(s);
	/* A socket closed with its event pending: taken out of the list. */
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT + 1, "gone");
	sonde_close(t);
	expect_no_event(fx);
	sonde_close(s);
	fx_finish(fx);
}

/* Closing a socket with datagrams queued frees them. */
static void
test_close_queued(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *s;

	host(fx, NULL);
	s = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	for (int i = 0; i < 5; i++)
		inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "queued");
	assert_int_equal(sonde_sock_readable(s), 30);
	sonde_close(s);
	/* The stack's count went with them: one more still fits. */
	s = sock_at(fx, AF_INET, "0.0.0.0", PORT);
	inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "fresh");
	expect_recv(s, "fresh");
	sonde_close(s);
	fx_finish(fx);
}

/* Destroying the stack with sockets open, of every kind, frees them. */
static void
test_destroy_open(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_sock *s;

	host(fx, NULL);
	sock_at(fx, AF_INET, NULL, 0);
	sock_at(fx, AF_INET6, NULL, 0);
	sock_at(fx, AF_INET, "0.0.0.0", PORT);
	sock_at(fx, AF_INET6, "fd00::1", PORT);
	s = sock_at(fx, AF_INET, "10.0.0.1", PORT + 1);
	assert_int_equal(connect4(s, "10.0.0.2", 40000), 0);
	s = sock_at(fx, AF_INET6, NULL, 0);
	assert_int_equal(connect6(s, "fd00::2", 40000), 0);
	for (int i = 0; i < 3; i++) {
		inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT, "left");
		inject_dgram(fx, "10.0.0.2", 40000, "10.0.0.1", PORT + 1, "left");
		inject_dgram(fx, "fd00::2", 40000, "fd00::1", PORT, "left");
		inject_dgram(fx, "fd00::2", 40000, "fd00::1", local_port(s), "left");
	}
	assert_int_equal(fx_stat(fx, "udp.delivered"), 12);
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_bind),	       T(test_ephemeral), T(test_demux),      T(test_demux_group),
		T(test_recvfrom),      T(test_send4),	  T(test_send6),      T(test_send_frag),
		T(test_zero_checksum), T(test_rcvbuf),	  T(test_sock_mbufs), T(test_shut_rd),
		T(test_icmp_errors),   T(test_loopback),  T(test_events),     T(test_close_queued),
		T(test_destroy_open),
	};
#undef T
	int r;

	unit_init("udp_sock");
	r = cmocka_run_group_tests_name("udp_sock", tests, NULL, NULL);
	unit_fini();
	return r;
}
