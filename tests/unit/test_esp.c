/*
 * test_esp: ESP over UDP between two stacks (tcp_pair.c's wire), each with
 * an ESP tunnel ip.tun0 to the other and the mirror of the other's SAs:
 * TCP through it, both outer families; what the wire carries (UDP 4500,
 * no plain inner packet); a replayed, a forged and a wrongly keyed packet,
 * each a counted drop with the tunnel still working after; a plain IPIP
 * packet to an ESP tunnel; sequence number exhaustion (RFC 4303 3.3.3);
 * NAT keepalives (RFC 3948 2.2) sent when idle and taken; every mbuf
 * back (pair_finish).  The crypto is DPDK's OpenSSL PMD, for real.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>
#include <rte_mbuf.h>

#include "sonde/socket.h"
#include "sonde/sonde.h"
#include "tcp_pair.h"
#include "unit.h"

#define TUN_A4 "192.168.77.1"
#define TUN_B4 "192.168.77.2"

static struct pair the_pair;

static const uint8_t key_ab[20] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
				    0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0xca, 0xfe, 0xba, 0xbe };
static const uint8_t key_ba[20] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
				    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0xde, 0xad, 0xbe, 0xef };

/* Stack st's side (b: B's) of the ESP tunnel, outer family oaf (4: ipip,
 * 6: ipip6), inner 192.168.77.0/30; conf tweaks by the test through c. */
static int
esp_side(struct pair *p, bool b, int oaf, const struct sonde_esp_conf *tweak)
{
	struct sonde_stack *st = b ? p->b : p->a;
	struct sonde_esp_conf c = tweak ? *tweak : (struct sonde_esp_conf){ 0 };
	struct sonde_if_conf ic = { .type = SONDE_IF_TUNNEL, .name = "ip.tun0" };
	struct sonde_prefix a;
	int ifi;

	c.out.spi = b ? 0x2002 : 0x1001;
	c.in.spi = b ? 0x1001 : 0x2002;
	c.out.alg = c.in.alg = SONDE_ESP_AES_GCM_128;
	memcpy(c.out.key, b ? key_ba : key_ab, 20);
	if (tweak == NULL || tweak->in.key[0] == 0)
		memcpy(c.in.key, b ? key_ab : key_ba, 20);
	ic.tunnel.mode = oaf == 6 ? SONDE_TUNNEL_IPIP6 : SONDE_TUNNEL_IPIP;
	assert_int_equal(sonde_prefix_parse(oaf == 6 ? (b ? "fd09::2" : "fd09::1")
						     : (b ? "10.9.0.2" : "10.9.0.1"),
					    &ic.tunnel.local),
			 0);
	assert_int_equal(sonde_prefix_parse(oaf == 6 ? (b ? "fd09::1" : "fd09::2")
						     : (b ? "10.9.0.1" : "10.9.0.2"),
					    &ic.tunnel.remote),
			 0);
	ic.tunnel.esp = &c;
	ifi = sonde_if_create(st, &ic);
	assert_true(ifi > 0);
	assert_int_equal(sonde_prefix_parse(b ? TUN_B4 "/30" : TUN_A4 "/30", &a), 0);
	assert_int_equal(sonde_addr_add(st, ifi, &a), 0);
	return ifi;
}

static void
esp_pair_pmds(struct pair *p, int oaf, const struct sonde_esp_conf *ta,
	      const struct sonde_esp_conf *tb, const char *pmd_a, const char *pmd_b)
{
	struct sonde_conf ca = { .crypto_pmd = pmd_a }, cb = { .crypto_pmd = pmd_b };

	pair_start2(p, &ca, &cb);
	esp_side(p, false, oaf, ta);
	esp_side(p, true, oaf, tb);
}

static void
esp_pair(struct pair *p, int oaf, const struct sonde_esp_conf *ta, const struct sonde_esp_conf *tb)
{
	pair_start(p, NULL);
	esp_side(p, false, oaf, ta);
	esp_side(p, true, oaf, tb);
}

static struct sockaddr_in
tun_addr(bool b, uint16_t port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, b ? TUN_B4 : TUN_A4, &in.sin_addr);
	return in;
}

/* A UDP socket on A, to B's echo service through the tunnel. */
static struct sonde_sock *
udp_to_b(struct pair *p)
{
	struct sockaddr_in to = tun_addr(true, 7);
	struct sonde_sock *s;

	assert_int_equal(sonde_udp_service(p->b, 7, SONDE_SERVICE_ECHO), 0);
	assert_int_equal(sonde_socket(p->a, AF_INET, SOCK_DGRAM, NULL, &s), 0);
	assert_int_equal(sonde_connect(s, (struct sockaddr *)&to, sizeof(to)), 0);
	return s;
}

/* One echo through the tunnel: sent, answered (within 50 ms; echoes of
 * what went before are read and passed over). */
static bool
echo_ok(struct pair *p, struct sonde_sock *s, const char *msg)
{
	char buf[64];

	pair_drain(p);
	assert_int_equal(sonde_send(s, msg, strlen(msg), 0), (ssize_t)strlen(msg));
	for (int i = 0; i < 50; i++) {
		ssize_t n;

		pair_wait(p, MS);
		while ((n = sonde_recv(s, buf, sizeof(buf), 0)) >= 0)
			if (n == (ssize_t)strlen(msg) && memcmp(buf, msg, (size_t)n) == 0)
				return true;
	}
	return false;
}

/* The i-th frame waiting on the wire to B, its UDP payload's offset. */
static struct rte_mbuf *
wire_frame_to_b(struct pair *p, unsigned i)
{
	assert_true(p->to_b.tail - p->to_b.head > i);
	return p->to_b.q[(p->to_b.head + i) % PAIR_Q];
}

static void
wire_push_to_b(struct pair *p, struct rte_mbuf *m)
{
	p->to_b.q[p->to_b.tail++ % PAIR_Q] = m;
}

/* A TCP connection from A to B's port 80 through the ESP tunnel, bytes
 * each way, checked; then what both ends counted: every packet through
 * each tunnel went out in ESP and came in from it (as many as the tunnels
 * counted), none refused.  The pair is finished. */
static void
esp_tcp_both_ways(struct pair *p, uint64_t bytes)
{
	struct sockaddr_in b = tun_addr(true, 80);
	struct sonde_sock *ls, *cs, *ss;
	struct pair_flow f[2];

	assert_int_equal(sonde_socket(p->b, AF_INET, SOCK_STREAM, NULL, &ls), 0);
	assert_int_equal(sonde_bind(ls, (struct sockaddr *)&b, sizeof(b)), 0);
	assert_int_equal(sonde_listen(ls, 4), 0);
	assert_int_equal(sonde_socket(p->a, AF_INET, SOCK_STREAM, NULL, &cs), 0);
	assert_int_equal(sonde_connect(cs, (struct sockaddr *)&b, sizeof(b)), -EINPROGRESS);
	ss = pair_accept(p, ls);
	assert_non_null(ss);
	f[0] = (struct pair_flow){ .tx = cs, .rx = ss, .total = bytes };
	f[1] = (struct pair_flow){ .tx = ss, .rx = cs, .total = bytes };
	assert_true(pair_flows(p, f, 2, MS, 30 * SEC));
	assert_false(f[0].bad || f[1].bad);
	assert_true(sonde_stat(p->a, "esp.out") > bytes / 1448);
	for (int i = 0; i < 2; i++) {
		struct sonde_stack *me = i ? p->b : p->a, *other = i ? p->a : p->b;

		assert_int_equal(sonde_stat(me, "esp.out"), sonde_stat(me, "tunnel.encap"));
		assert_int_equal(sonde_stat(other, "esp.in"), sonde_stat(me, "esp.out"));
		assert_int_equal(sonde_stat(other, "tunnel.decap"), sonde_stat(other, "esp.in"));
		assert_int_equal(sonde_stat(me, "drop.in.esp-replay"), 0);
		assert_int_equal(sonde_stat(me, "drop.in.esp-auth-failed"), 0);
	}
	sonde_close(cs);
	sonde_close(ss);
	sonde_close(ls);
	pair_wait(p, 100 * MS);
	pair_finish(p);
}

/* TCP over ESP, both outer families: 512 KiB each way. */
static void
test_esp_tcp(void **state)
{
	(void)state;
	for (int oaf = 4; oaf <= 6; oaf += 2) {
		esp_pair(&the_pair, oaf, NULL, NULL);
		esp_tcp_both_ways(&the_pair, 512 * 1024);
	}
}

/* intel-ipsec-mb's AES-GCM PMD on one end, OpenSSL's on the other: the
 * same ESP on the wire, TCP through it both ways. */
static void
test_esp_pmds(void **state)
{
	(void)state;
	esp_pair_pmds(&the_pair, 4, NULL, NULL, "crypto_aesni_gcm", "crypto_openssl");
	esp_tcp_both_ways(&the_pair, 256 * 1024);
}

/* An echo's ESP packet on the wire: UDP 4500 to 4500, the SPI, sequence
 * number 1, nothing of the inner packet in clear; its length what ESP
 * makes of the inner packet (RFC 4303 2.4 padding to 4, the 16-byte ICV). */
static void
test_esp_wire(void **state)
{
	(void)state;
	struct pair *p = &the_pair;
	struct sonde_sock *s;
	const uint8_t *f;
	const char *msg = "sonde-esp-wire-check";
	struct rte_mbuf *m;
	uint32_t inner, ct;

	esp_pair(p, 4, NULL, NULL);
	s = udp_to_b(p);
	p->hold = true;
	assert_int_equal(sonde_send(s, msg, strlen(msg), 0), (ssize_t)strlen(msg));
	pair_poll(p);
	m = wire_frame_to_b(p, 0);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(f[14 + 9], 17); /* UDP */
	assert_int_equal(f[14 + 20] << 8 | f[14 + 21], 4500);
	assert_int_equal(f[14 + 22] << 8 | f[14 + 23], 4500);
	assert_int_equal(f[14 + 28] << 24 | f[14 + 29] << 16 | f[14 + 30] << 8 | f[14 + 31],
			 0x1001);
	assert_int_equal(f[14 + 32] << 24 | f[14 + 33] << 16 | f[14 + 34] << 8 | f[14 + 35], 1);
	inner = 20 + 8 + (uint32_t)strlen(msg);
	ct = (inner + 2 + 3) & ~3u;
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 20 + 8 + 8 + 8 + ct + 16);
	assert_null(memmem(f, rte_pktmbuf_data_len(m), msg, strlen(msg)));
	p->hold = false;
	pair_wait(p, 10 * MS);
	assert_int_equal(sonde_stat(p->b, "esp.in"), 1);
	sonde_close(s);
	pair_finish(p);
}

/* A replayed packet (a copy of one B took), a forged one (a ciphertext
 * byte flipped) and one under the wrong key: counted drops by reason,
 * and the tunnel answers after each. */
static void
test_esp_hostile(void **state)
{
	(void)state;
	struct sonde_esp_conf wrong = { 0 };
	struct pair *p = &the_pair;
	struct rte_mbuf *m, *copy;
	struct sonde_sock *s;

	esp_pair(p, 4, NULL, NULL);
	s = udp_to_b(p);
	assert_true(echo_ok(p, s, "first"));

	/* Replay. */
	p->hold = true;
	assert_int_equal(sonde_send(s, "again", 5, 0), 5);
	pair_poll(p);
	m = wire_frame_to_b(p, 0);
	copy = rte_pktmbuf_copy(m, unit_pool, 0, UINT32_MAX);
	assert_non_null(copy);
	wire_push_to_b(p, copy);
	p->hold = false;
	pair_wait(p, 10 * MS);
	assert_int_equal(sonde_stat(p->b, "drop.in.esp-replay"), 1);
	assert_true(echo_ok(p, s, "after replay"));

	/* Forged: a byte of the ciphertext flipped. */
	p->hold = true;
	assert_int_equal(sonde_send(s, "forged", 6, 0), 6);
	pair_poll(p);
	m = wire_frame_to_b(p, 0);
	rte_pktmbuf_mtod(m, uint8_t *)[14 + 20 + 8 + 16 + 3] ^= 0x40;
	p->hold = false;
	pair_wait(p, 10 * MS);
	assert_int_equal(sonde_stat(p->b, "drop.in.esp-auth-failed"), 1);
	assert_true(echo_ok(p, s, "after forgery"));
	sonde_close(s);
	pair_finish(p);

	/* B with the wrong inbound key: A's packets fail their ICV. */
	memset(wrong.in.key, 0x5a, 20);
	esp_pair(p, 4, NULL, &wrong);
	s = udp_to_b(p);
	assert_false(echo_ok(p, s, "wrong key"));
	assert_true(sonde_stat(p->b, "drop.in.esp-auth-failed") >= 1);
	assert_int_equal(sonde_stat(p->b, "esp.in"), 0);
	sonde_close(s);
	pair_finish(p);
}

/* A plain IPIP packet from A's address to B's ESP tunnel: not taken
 * (esp-required), whoever sent it. */
static void
test_esp_required(void **state)
{
	(void)state;
	struct pair *p = &the_pair;
	struct sonde_if_conf ic = { .type = SONDE_IF_TUNNEL, .name = "plain" };
	struct sonde_prefix a;
	struct sonde_sock *s;
	struct sockaddr_in to = tun_addr(true, 7);
	int ifi;

	pair_start(p, NULL);
	esp_side(p, true, 4, NULL);
	/* A has a plain ipip tunnel to B instead. */
	ic.tunnel.mode = SONDE_TUNNEL_IPIP;
	assert_int_equal(sonde_prefix_parse("10.9.0.1", &ic.tunnel.local), 0);
	assert_int_equal(sonde_prefix_parse("10.9.0.2", &ic.tunnel.remote), 0);
	ifi = sonde_if_create(p->a, &ic);
	assert_true(ifi > 0);
	assert_int_equal(sonde_prefix_parse(TUN_A4 "/30", &a), 0);
	assert_int_equal(sonde_addr_add(p->a, ifi, &a), 0);
	assert_int_equal(sonde_udp_service(p->b, 7, SONDE_SERVICE_ECHO), 0);
	assert_int_equal(sonde_socket(p->a, AF_INET, SOCK_DGRAM, NULL, &s), 0);
	assert_int_equal(sonde_sendto(s, "plain", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
	pair_wait(p, 10 * MS);
	assert_int_equal(sonde_stat(p->b, "drop.in.esp-required"), 1);
	assert_int_equal(sonde_stat(p->b, "tunnel.decap"), 0);
	sonde_close(s);
	pair_finish(p);
}

/* RFC 4303 3.3.3: A's outbound SA at 2^32 - 2 sends one more packet
 * (number 2^32 - 1) and then none: counted drops. */
static void
test_esp_seq_exhausted(void **state)
{
	(void)state;
	struct sonde_esp_conf ta = { .out.seq = UINT32_MAX - 1 };
	struct pair *p = &the_pair;
	struct sonde_sock *s;

	esp_pair(p, 4, &ta, NULL);
	s = udp_to_b(p);
	assert_true(echo_ok(p, s, "last one"));
	assert_false(echo_ok(p, s, "one too many"));
	assert_false(echo_ok(p, s, "and another"));
	assert_int_equal(sonde_stat(p->a, "drop.out.esp-seq-exhausted"), 2);
	assert_int_equal(sonde_stat(p->a, "esp.out"), 1);
	sonde_close(s);
	pair_finish(p);
}

/* RFC 3948 2.2: an idle tunnel sends a keepalive each interval (one
 * byte, 0xFF, UDP 4500), the other end takes it; traffic puts them off. */
static void
test_esp_keepalive(void **state)
{
	(void)state;
	struct sonde_esp_conf k = { .keepalive = 5 };
	struct pair *p = &the_pair;

	esp_pair(p, 6, &k, &k);
	pair_wait(p, 4 * SEC);
	assert_int_equal(sonde_stat(p->a, "esp.keepalive_out"), 0);
	pair_wait(p, 2 * SEC);
	assert_int_equal(sonde_stat(p->a, "esp.keepalive_out"), 1);
	assert_int_equal(sonde_stat(p->b, "esp.keepalive_in"), 1);
	pair_wait(p, 5 * SEC);
	assert_int_equal(sonde_stat(p->a, "esp.keepalive_out"), 2);
	assert_int_equal(sonde_stat(p->b, "esp.keepalive_in"), 2);
	/* Both ways, and taken as keepalives: no port unreachable. */
	assert_int_equal(sonde_stat(p->a, "esp.keepalive_in"), 2);
	assert_int_equal(sonde_stat(p->a, "drop.in.udp-no-port") +
				 sonde_stat(p->b, "drop.in.udp-no-port"),
			 0);
	pair_finish(p);
}

/* What the API refuses: ESP on GRE, a low SPI, a port a service has. */
static void
test_esp_conf(void **state)
{
	(void)state;
	struct pair *p = &the_pair;
	struct sonde_esp_conf c = { 0 };
	struct sonde_if_conf ic = { .type = SONDE_IF_TUNNEL, .name = "bad" };

	c.out.alg = c.in.alg = SONDE_ESP_AES_GCM_128;
	c.out.spi = 0x1000;
	c.in.spi = 0x2000;
	pair_start(p, NULL);
	ic.tunnel.mode = SONDE_TUNNEL_GRE;
	assert_int_equal(sonde_prefix_parse("10.9.0.1", &ic.tunnel.local), 0);
	assert_int_equal(sonde_prefix_parse("10.9.0.2", &ic.tunnel.remote), 0);
	ic.tunnel.esp = &c;
	assert_int_equal(sonde_if_create(p->a, &ic), -EINVAL);
	ic.tunnel.mode = SONDE_TUNNEL_IPIP;
	c.in.spi = 255;
	assert_int_equal(sonde_if_create(p->a, &ic), -EINVAL);
	c.in.spi = 0x2000;
	assert_int_equal(sonde_udp_service(p->a, 4500, SONDE_SERVICE_ECHO), 0);
	assert_int_equal(sonde_if_create(p->a, &ic), -EADDRINUSE);
	assert_int_equal(sonde_udp_service(p->a, 4500, SONDE_SERVICE_NONE), 0);
	assert_true(sonde_if_create(p->a, &ic) > 0);
	/* Now the port is the tunnel's. */
	assert_int_equal(sonde_udp_service(p->a, 4500, SONDE_SERVICE_ECHO), -EADDRINUSE);
	assert_int_equal(sonde_if_destroy(p->a, sonde_if_find(p->a, "bad")), 0);
	assert_int_equal(sonde_udp_service(p->a, 4500, SONDE_SERVICE_ECHO), 0);
	pair_finish(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		pair_test(test_esp_wire),	   pair_test(test_esp_tcp),
		pair_test(test_esp_hostile),	   pair_test(test_esp_required),
		pair_test(test_esp_seq_exhausted), pair_test(test_esp_keepalive),
		pair_test(test_esp_conf),	   pair_test(test_esp_pmds),
	};

	unit_init_mem("esp", 512);
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	unit_fini();
	return r;
}
