/*
 * test_probe_fire.c: what the probes report, probe by probe, argument by
 * argument.  This test links the recording build of the library
 * (tests/unit/record/meson.build, probe_record.h): every probe call leaves
 * a copy of its six arguments, in firing order, and each test asserts the
 * exact sequence a frame fires and the fields against the frames that went
 * in and came out (read from the frames, not restated): an echo answered
 * (ICMP, ICMPv6, UDP echo in both families), a forwarded packet, a bad
 * checksum, martian sources, no route (ours, and an answer's), a closed
 * UDP port, pings through lo0, a datagram in fragments answered in
 * fragments, a ping waiting for ARP, Neighbor Discovery, and bursts.  test_probes.c checks that the
 * probes change nothing; this one that they say the right thing, and that every probe site is
 * there: with one of the stack's probe calls deleted, a test here fails.
 *
 * Every record is also held to what docs/probes.md promises of any probe:
 * arg1 (csinfo_t) NULL but for a socket's datagrams, and then that
 * socket's (a UDP socket sending); arg4 set and arg5 NULL for IPv4,
 * the reverse for IPv6; the ip provider's probe followed at once by its
 * family's with the same arguments; a reason only on drop probes; if_local
 * set on lo0 alone; padding zero; the text addresses those of the header;
 * an IPv4 header's checksum valid for the fields reported.
 *
 * PROBE_FIRE_PRINT=1 in the environment prints every sequence recorded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde/socket.h"

#include "packets.h"
#include "probe_record.h"
#include "unit.h"

#define STACK_ID 7 /* reported as if_ipstack */
#define PORT_ECHO 7

/* A NULL-terminated list of "provider:probe" names. */
#define FIRED(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct probe_rec *
rec(unsigned i)
{
	const struct probe_rec *r = probe_record_get(i);

	assert_non_null(r);
	return r;
}

/* The protocol names docs/probes.md gives, for the ones these frames use. */
static const char *
protostr(uint8_t p)
{
	switch (p) {
	case 1: return "ICMP";
	case 17: return "UDP";
	case 44: return "FRAG";
	case 58: return "ICMPV6";
	}
	fail_msg("no name here for protocol %u", p);
	return NULL;
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The IPv4 header record r reports, rebuilt from its fields (without
 * options), carries a valid checksum: the probe saw a finished header. */
static void
check_v4_cksum(const struct probe_rec *r)
{
	const struct ipv4info_t *v = r->v4;
	uint8_t h[20];

	if (v->ipv4_ihl != 20 || strcmp(r->pkt->pkt_reason, "bad-checksum") == 0)
		return;
	h[0] = (uint8_t)(v->ipv4_ver << 4 | v->ipv4_ihl / 4);
	h[1] = v->ipv4_tos;
	wire_put16(h + 2, v->ipv4_length);
	wire_put16(h + 4, v->ipv4_ident);
	wire_put16(h + 6, (uint16_t)((v->ipv4_flags & 4 ? 0x4000 : 0) |
				     (v->ipv4_flags & 2 ? 0x2000 : 0) | v->ipv4_offset / 8));
	h[8] = v->ipv4_ttl;
	h[9] = v->ipv4_protocol;
	wire_put16(h + 10, v->ipv4_checksum);
	memcpy(h + 12, &v->ipv4_src, 4);
	memcpy(h + 16, &v->ipv4_dst, 4);
	assert_int_equal(ref_cksum(h, sizeof(h)), 0);
}

/* The socket whose packets a test records (csinfo_t's cs_addr), or NULL:
 * none may have a connection. */
static const void *expect_cs;

/* What every record must be, whatever fired it. */
static void
check_common(const struct probe_rec *r)
{
	bool drop = strncmp(r->probe, "drop-", 5) == 0;
	char fam[8];

	assert_non_null(r->pkt);
	/* A socket's packets only, and then the one the test expects. */
	if (r->cs != NULL) {
		assert_non_null(expect_cs);
		assert_int_equal(r->cs->cs_addr, (uintptr_t)expect_cs);
		assert_int_not_equal(r->cs->cs_cid, 0);
		assert_int_equal(r->cs->cs_pid, getpid());
		assert_int_equal(r->cs->cs_zoneid, STACK_ID);
	}
	assert_non_null(r->ip);
	assert_non_null(r->ifi);
	snprintf(fam, sizeof(fam), "ipv%u", r->ip->ip_ver);
	assert_true(strcmp(r->provider, "ip") == 0 || strcmp(r->provider, fam) == 0);
	if (r->ip->ip_ver == 4) {
		assert_non_null(r->v4);
		assert_null(r->v6);
		assert_string_equal(r->ip->ip_saddr, r->v4->ipv4_saddr);
		assert_string_equal(r->ip->ip_daddr, r->v4->ipv4_daddr);
		assert_true(all_zero(&r->v4->ipv4_pad, sizeof(r->v4->ipv4_pad)));
		check_v4_cksum(r);
	} else {
		assert_int_equal(r->ip->ip_ver, 6);
		assert_null(r->v4);
		assert_non_null(r->v6);
		assert_string_equal(r->ip->ip_saddr, r->v6->ipv6_saddr);
		assert_string_equal(r->ip->ip_daddr, r->v6->ipv6_daddr);
		assert_true(all_zero(&r->v6->ipv6_pad, sizeof(r->v6->ipv6_pad)));
	}
	assert_int_equal(r->pkt->pkt_reason[0] != '\0', drop);
	assert_int_equal(r->pkt->pkt_pad, 0);
	assert_true(all_zero(r->ip->ip_pad, sizeof(r->ip->ip_pad)));
	assert_true(all_zero(r->ifi->if_pad, sizeof(r->ifi->if_pad)));
	assert_int_equal(r->ifi->if_local, strcmp(r->ifi->if_name, "lo0") == 0);
	assert_int_equal(r->ifi->if_ipstack, STACK_ID);
}

/* The probes fired since probe_record_start() must be exactly want, and
 * each record what any record must be.  Prints what fired when not. */
static void
expect_fired(const char *const *want)
{
	unsigned n = 0, got = probe_record_count();
	bool same = probe_record_lost() == 0;
	char name[32];

	for (; want[n]; n++) {
		if (n >= got)
			same = false;
		if (!same)
			continue;
		snprintf(name, sizeof(name), "%s:%s", rec(n)->provider, rec(n)->probe);
		same = strcmp(name, want[n]) == 0;
	}
	if (!same || n != got) {
		print_error("want:\n");
		for (unsigned i = 0; want[i]; i++)
			print_error("  %3u %s\n", i, want[i]);
		print_error("fired:\n");
		probe_record_print();
		fail_msg("the probes fired are not the ones expected");
	}
	if (getenv("PROBE_FIRE_PRINT")) {
		print_message("fired:\n");
		probe_record_print();
	}
	for (unsigned i = 0; i < got; i++) {
		const struct probe_rec *r = rec(i), *f;

		check_common(r);
		if (strcmp(r->provider, "ip") != 0)
			continue;
		/* ip:::X is followed by ipv4:::X or ipv6:::X, with the same
		 * arguments (probes.c fills them once for both). */
		assert_true(i + 1 < got);
		f = rec(i + 1);
		assert_string_equal(f->probe, r->probe);
		assert_memory_equal(&f->pkt_copy, &r->pkt_copy, sizeof(r->pkt_copy));
		assert_memory_equal(&f->ip_copy, &r->ip_copy, sizeof(r->ip_copy));
		assert_memory_equal(&f->if_copy, &r->if_copy, sizeof(r->if_copy));
		assert_memory_equal(&f->v4_copy, &r->v4_copy, sizeof(r->v4_copy));
		assert_memory_equal(&f->v6_copy, &r->v6_copy, sizeof(r->v6_copy));
		assert_true(f->v4 ? r->v4 != NULL : r->v4 == NULL);
		assert_true(f->v6 ? r->v6 != NULL : r->v6 == NULL);
	}
}

/* Record r's IPv4 arguments are the header at ip (RFC 791's fields). */
static void
check_v4(const struct probe_rec *r, const uint8_t *ip)
{
	const struct ipv4info_t *v = r->v4;
	unsigned ihl = (ip[0] & 0xf) * 4u;
	uint16_t frag = wire_get16(ip + 6);
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	assert_non_null(v);
	assert_int_equal(r->ip->ip_ver, 4);
	assert_int_equal(v->ipv4_ver, ip[0] >> 4);
	assert_int_equal(v->ipv4_ihl, ihl);
	assert_int_equal(v->ipv4_tos, ip[1]);
	assert_int_equal(v->ipv4_length, wire_get16(ip + 2));
	assert_int_equal(v->ipv4_ident, wire_get16(ip + 4));
	/* DTrace's flag values: DF 4, MF 2 (the header's bits 0x4000, 0x2000). */
	assert_int_equal(v->ipv4_flags, (frag & 0x4000 ? 4 : 0) | (frag & 0x2000 ? 2 : 0));
	assert_int_equal(v->ipv4_offset, (frag & 0x1fff) * 8);
	assert_int_equal(v->ipv4_ttl, ip[8]);
	assert_int_equal(v->ipv4_protocol, ip[9]);
	assert_string_equal(v->ipv4_protostr, protostr(ip[9]));
	assert_int_equal(v->ipv4_checksum, wire_get16(ip + 10));
	assert_memory_equal(&v->ipv4_src, ip + 12, 4);
	assert_memory_equal(&v->ipv4_dst, ip + 16, 4);
	assert_non_null(inet_ntop(AF_INET, ip + 12, s, sizeof(s)));
	assert_non_null(inet_ntop(AF_INET, ip + 16, d, sizeof(d)));
	assert_string_equal(r->ip->ip_saddr, s);
	assert_string_equal(r->ip->ip_daddr, d);
	assert_int_equal(r->ip->ip_plength, wire_get16(ip + 2) - ihl);
	assert_true(v->ipv4_hdr != 0);
}

/* Record r's IPv6 arguments are the fixed header at ip (RFC 8200 3). */
static void
check_v6(const struct probe_rec *r, const uint8_t *ip)
{
	const struct ipv6info_t *v = r->v6;
	uint32_t w = wire_get32(ip);
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	assert_non_null(v);
	assert_int_equal(r->ip->ip_ver, 6);
	assert_int_equal(v->ipv6_ver, w >> 28);
	assert_int_equal(v->ipv6_tclass, (w >> 20) & 0xff);
	assert_int_equal(v->ipv6_flow, w & 0xfffff);
	assert_int_equal(v->ipv6_plen, wire_get16(ip + 4));
	assert_int_equal(v->ipv6_nexthdr, ip[6]);
	assert_string_equal(v->ipv6_nextstr, protostr(ip[6]));
	assert_int_equal(v->ipv6_hlim, ip[7]);
	assert_memory_equal(v->ipv6_src, ip + 8, 16);
	assert_memory_equal(v->ipv6_dst, ip + 24, 16);
	/* glibc writes RFC 5952 text, as docs/probes.md promises. */
	assert_non_null(inet_ntop(AF_INET6, ip + 8, s, sizeof(s)));
	assert_non_null(inet_ntop(AF_INET6, ip + 24, d, sizeof(d)));
	assert_string_equal(r->ip->ip_saddr, s);
	assert_string_equal(r->ip->ip_daddr, d);
	assert_int_equal(r->ip->ip_plength, wire_get16(ip + 4));
	assert_true(v->ipv6_hdr != 0);
}

/* The IP header at ip, of either family. */
static void
check_hdr(const struct probe_rec *r, const uint8_t *ip)
{
	if (ip[0] >> 4 == 6)
		check_v6(r, ip);
	else
		check_v4(r, ip);
}

/* Record r is of packet m (NULL: any), len bytes on the wire, on ifp
 * (NULL: none). */
static void
check_pkt(const struct unit_fx *fx, const struct probe_rec *r, const void *m, uint32_t len,
	  const struct sonde_if *ifp)
{
	if (m != NULL)
		assert_int_equal(r->pkt->pkt_addr, (uintptr_t)m);
	assert_int_equal(r->pkt->pkt_len, len);
	if (ifp == NULL) {
		assert_string_equal(r->ifi->if_name, "none");
		assert_int_equal(r->ifi->if_addr, 0);
		return;
	}
	assert_string_equal(r->ifi->if_name, ifp->name);
	assert_int_equal(r->ifi->if_addr, (uintptr_t)ifp);
	assert_int_equal(r->ifi->if_local, ifp == fx->st->lo);
}

static void
check_reason(const struct probe_rec *r, const char *reason)
{
	assert_string_equal(r->pkt->pkt_reason, reason);
}

static const struct sonde_conf conf = { .stack_id = STACK_ID };

/* IPv4 host with A known. */
static void
host4(struct unit_fx *fx)
{
	fx_host(fx, &conf);
	fx_learn_a(fx);
}

/* The same with IPv6 too, A known in both, and the UDP echo service. */
static void
host46(struct unit_fx *fx)
{
	fx_host6(fx, &conf);
	fx_learn_a(fx);
	fx_learn6_a(fx);
	assert_int_equal(sonde_udp_service(fx->st, PORT_ECHO, SONDE_SERVICE_ECHO), 0);
}

/* Injects frame p on test0, polls once with the probes recording. */
static struct rte_mbuf *
inject_recorded(struct unit_fx *fx, const uint8_t *p, size_t len)
{
	struct rte_mbuf *m;

	probe_record_start();
	m = fx_inject(fx, &fx->link[0], p, len);
	fx_poll(fx);
	probe_record_stop();
	return m;
}

/* Request p (to us on test0, answered by one frame to A) fires receive and
 * read of the request, write and send of the answer, of its family: on
 * test0, the request's header at receive and read, the answer's (as sent)
 * at write and send, each on the wire with its Ethernet header; in_place:
 * the answer is the request turned around in its mbuf. */
static void
expect_answered(struct unit_fx *fx, const uint8_t *p, size_t len, bool in_place)
{
	struct unit_link *l = &fx->link[0];
	const uint8_t *req = p + ETH_HDR_LEN, *reply;
	struct rte_mbuf *m;
	size_t rlen;

	m = inject_recorded(fx, p, len);
	assert_int_equal(l->n_tx, 1);
	reply = tx_frame(l, 0, &rlen) + ETH_HDR_LEN;
	if (req[0] >> 4 == 6)
		expect_fired(FIRED("ip:receive", "ipv6:receive", "ipv6:read", "ipv6:write",
				   "ip:send", "ipv6:send"));
	else
		expect_fired(FIRED("ip:receive", "ipv4:receive", "ipv4:read", "ipv4:write",
				   "ip:send", "ipv4:send"));
	check_pkt(fx, rec(0), m, (uint32_t)len, l->ifp);
	check_hdr(rec(0), req);
	check_pkt(fx, rec(2), m, (uint32_t)len, l->ifp);
	check_hdr(rec(2), req);
	assert_string_equal(rec(2)->ifi->if_name, "test0");
	/* The same mbuf at write and send (unfragmented): the one sent. */
	check_pkt(fx, rec(3), l->tx[0], (uint32_t)rlen, l->ifp);
	check_hdr(rec(3), reply);
	check_pkt(fx, rec(4), l->tx[0], (uint32_t)rlen, l->ifp);
	check_hdr(rec(4), reply);
	if (in_place)
		assert_ptr_equal(l->tx[0], m);
	else
		assert_ptr_not_equal(l->tx[0], m);
	assert_string_equal(rec(4)->ifi->if_name, "test0");
	assert_int_equal(rec(4)->ifi->if_local, 0);
	fx_tx_clear(l);
}

static void
test_echo4(void **state)
{
	struct unit_fx *fx = *state;

	host4(fx);
	expect_answered(fx, pkt_echo_req, sizeof(pkt_echo_req), true);
	/* Read from the frames, and also as said: A's ping and our reply. */
	assert_string_equal(rec(0)->ip->ip_saddr, "10.0.0.2");
	assert_string_equal(rec(0)->ip->ip_daddr, "10.0.0.1");
	assert_string_equal(rec(5)->ip->ip_saddr, "10.0.0.1");
	assert_string_equal(rec(5)->ip->ip_daddr, "10.0.0.2");
	assert_int_equal(rec(0)->pkt->pkt_len, 98);
	assert_int_equal(rec(0)->v4->ipv4_flags, 4); /* DF */
	assert_string_equal(rec(5)->v4->ipv4_protostr, "ICMP");
	assert_int_equal(rec(5)->v4->ipv4_ttl, 64);
	fx_finish(fx);
}

static void
test_echo6(void **state)
{
	struct unit_fx *fx = *state;

	host46(fx);
	expect_answered(fx, pkt6_echo_req, sizeof(pkt6_echo_req), true);
	assert_string_equal(rec(0)->ip->ip_saddr, "fd00::2");
	assert_string_equal(rec(5)->ip->ip_saddr, "fd00::1");
	assert_string_equal(rec(5)->v6->ipv6_nextstr, "ICMPV6");
	fx_finish(fx);
}

static void
test_udp_echo(void **state)
{
	struct unit_fx *fx = *state;

	host46(fx);
	expect_answered(fx, pkt_udp_echo, sizeof(pkt_udp_echo), true);
	assert_string_equal(rec(5)->v4->ipv4_protostr, "UDP");
	expect_answered(fx, pkt6_udp_echo, sizeof(pkt6_udp_echo), true);
	assert_string_equal(rec(5)->v6->ipv6_nextstr, "UDP");
	fx_finish(fx);
}

/* Forwarded: receive on test0, send on test1, never read or write; the
 * same mbuf, its TTL one less at send. */
static void
test_forward(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_conf c = conf;
	struct unit_link *l1;
	struct rte_mbuf *m;
	const uint8_t *out;
	size_t len;

	fx_router(fx, &c, 1500);
	fx_learn_a(fx);
	fx_learn_b(fx);
	l1 = &fx->link[1];
	m = inject_recorded(fx, pkt_fwd_udp, sizeof(pkt_fwd_udp));
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(l1->n_tx, 1);
	out = tx_ipv4(l1, 0, MAC_B, &len);
	expect_fired(FIRED("ip:receive", "ipv4:receive", "ip:send", "ipv4:send"));
	check_pkt(fx, rec(0), m, sizeof(pkt_fwd_udp), fx->link[0].ifp);
	check_hdr(rec(0), pkt_fwd_udp + ETH_HDR_LEN);
	assert_string_equal(rec(0)->ifi->if_name, "test0");
	check_pkt(fx, rec(2), m, (uint32_t)(ETH_HDR_LEN + len), l1->ifp);
	check_hdr(rec(2), out);
	assert_string_equal(rec(2)->ifi->if_name, "test1");
	assert_int_equal(rec(2)->v4->ipv4_ttl, rec(0)->v4->ipv4_ttl - 1);
	assert_string_equal(rec(2)->ip->ip_daddr, "10.1.0.2");
	fx_finish(fx);
}

/* A header that fails validation is not received: drop-in alone. */
static void
test_bad_checksum(void **state)
{
	struct unit_fx *fx = *state;
	struct rte_mbuf *m;
	struct frame f;

	host4(fx);
	FRAME(&f, pkt_echo_req);
	frame_ip(&f)[8] = 63; /* a changed TTL without a new checksum */
	m = inject_recorded(fx, f.b, f.len);
	assert_int_equal(fx->link[0].n_tx, 0);
	expect_fired(FIRED("ipv4:drop-in"));
	check_reason(rec(0), "bad-checksum");
	check_pkt(fx, rec(0), m, (uint32_t)f.len, fx->link[0].ifp);
	check_hdr(rec(0), frame_ip(&f));
	fx_finish(fx);
}

/* A martian source is received (the header is valid), then dropped. */
static void
test_martian(void **state)
{
	struct unit_fx *fx = *state;
	struct rte_mbuf *m;
	struct frame f;

	host46(fx);
	FRAME(&f, pkt_echo_req);
	frame_set_ip4(frame_ip(&f) + 12, "127.0.0.1");
	frame_fix(&f);
	m = inject_recorded(fx, f.b, f.len);
	expect_fired(FIRED("ip:receive", "ipv4:receive", "ipv4:drop-in"));
	check_pkt(fx, rec(0), m, (uint32_t)f.len, fx->link[0].ifp);
	check_pkt(fx, rec(2), m, (uint32_t)f.len, fx->link[0].ifp);
	check_hdr(rec(2), frame_ip(&f));
	check_reason(rec(2), "bad-source");
	assert_string_equal(rec(2)->ip->ip_saddr, "127.0.0.1");

	FRAME(&f, pkt6_echo_req);
	frame6_set_src(&f, "ff02::1");
	m = inject_recorded(fx, f.b, f.len);
	expect_fired(FIRED("ip:receive", "ipv6:receive", "ipv6:drop-in"));
	check_pkt(fx, rec(2), m, (uint32_t)f.len, fx->link[0].ifp);
	check_hdr(rec(2), frame_ip(&f));
	check_reason(rec(2), "bad-source");
	assert_int_equal(fx->link[0].n_tx, 0);
	fx_finish(fx);
}

/* A ping to dst, which has no route: drop-out no-route, on no interface
 * (no link header in pkt_len), from src (none could be chosen), never
 * written. */
static void
expect_ping_no_route(struct unit_fx *fx, const char *dst, const char *src)
{
	bool v6 = strchr(dst, ':') != NULL;
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(dst, &p), 0);
	probe_record_start();
	assert_int_equal(sonde_ping(fx->st, &p, 0x77, 1, 32), -EHOSTUNREACH);
	probe_record_stop();
	expect_fired(FIRED(v6 ? "ipv6:drop-out" : "ipv4:drop-out"));
	check_reason(rec(0), "no-route");
	check_pkt(fx, rec(0), NULL, (v6 ? 40 : 20) + 8 + 32, NULL);
	assert_string_equal(rec(0)->ip->ip_saddr, src);
	assert_string_equal(rec(0)->ip->ip_daddr, dst);
	if (v6) {
		assert_int_equal(rec(0)->v6->ipv6_nexthdr, 58);
		assert_int_equal(rec(0)->v6->ipv6_hlim, 64);
	} else {
		assert_int_equal(rec(0)->v4->ipv4_length, 20 + 8 + 32);
		assert_int_equal(rec(0)->v4->ipv4_protocol, 1);
		assert_int_equal(rec(0)->v4->ipv4_ttl, 64);
	}
	assert_int_equal(fx->link[0].n_tx, 0);
}

static void
test_no_route(void **state)
{
	struct unit_fx *fx = *state;

	host46(fx);
	expect_ping_no_route(fx, "10.2.0.1", "0.0.0.0");
	expect_ping_no_route(fx, "fd09::1", "::");
	fx_finish(fx);
}

/* An answer with no route back: received and read, then dropped on the
 * way out, never written, on no interface (if_name "none", no link
 * header in pkt_len), though it answers a packet that came in on one. */
static void
test_no_route_back(void **state)
{
	struct unit_fx *fx = *state;
	struct rte_mbuf *m;
	struct frame f;

	host46(fx);
	/* An echo request from 10.9.0.2, on test0 but on no route of ours. */
	FRAME(&f, pkt_echo_req);
	frame_set_ip4(frame_ip(&f) + 12, "10.9.0.2");
	frame_fix(&f);
	m = inject_recorded(fx, f.b, f.len);
	expect_fired(FIRED("ip:receive", "ipv4:receive", "ipv4:read", "ipv4:drop-out"));
	check_pkt(fx, rec(2), m, (uint32_t)f.len, fx->link[0].ifp);
	check_hdr(rec(2), frame_ip(&f));
	/* The reply, turned around in the request's mbuf. */
	assert_int_equal(rec(3)->pkt->pkt_addr, (uintptr_t)m);
	check_reason(rec(3), "no-route");
	check_pkt(fx, rec(3), m, (uint32_t)f.len - 14, NULL);
	assert_string_equal(rec(3)->ip->ip_saddr, "10.0.0.1");
	assert_string_equal(rec(3)->ip->ip_daddr, "10.9.0.2");
	assert_int_equal(rec(3)->v4->ipv4_protocol, 1);

	/* A closed port from fd05::2: the port unreachable has no route. */
	FRAME(&f, pkt6_udp);
	frame6_set_src(&f, "fd05::2");
	m = inject_recorded(fx, f.b, f.len);
	expect_fired(
		FIRED("ip:receive", "ipv6:receive", "ipv6:read", "ipv6:drop-out", "ipv6:drop-in"));
	check_reason(rec(3), "no-route");
	assert_true(rec(3)->pkt->pkt_addr != (uintptr_t)m);
	assert_string_equal(rec(3)->ip->ip_daddr, "fd05::2");
	assert_string_equal(rec(3)->v6->ipv6_nextstr, "ICMPV6");
	check_pkt(fx, rec(3), NULL, 40 + 8 + (uint32_t)f.len - 14, NULL);
	check_reason(rec(4), "udp-no-port");
	check_pkt(fx, rec(4), m, (uint32_t)f.len, fx->link[0].ifp);
	check_hdr(rec(4), frame_ip(&f));
	assert_int_equal(fx->link[0].n_tx, 0);
	fx_finish(fx);
}

/* A UDP datagram to a port with no service: receive, read, the port
 * unreachable's write and send (a new packet), then the datagram's drop. */
static void
expect_port_unreachable(struct unit_fx *fx, const uint8_t *p, size_t len)
{
	struct unit_link *l = &fx->link[0];
	const uint8_t *req = p + ETH_HDR_LEN, *err;
	const char *v = req[0] >> 4 == 6 ? "ipv6" : "ipv4";
	char n[6][24];
	struct rte_mbuf *m;
	size_t elen;

	snprintf(n[0], sizeof(n[0]), "%s:receive", v);
	snprintf(n[1], sizeof(n[1]), "%s:read", v);
	snprintf(n[2], sizeof(n[2]), "%s:write", v);
	snprintf(n[3], sizeof(n[3]), "%s:send", v);
	snprintf(n[4], sizeof(n[4]), "%s:drop-in", v);
	m = inject_recorded(fx, p, len);
	assert_int_equal(l->n_tx, 1);
	err = tx_frame(l, 0, &elen) + ETH_HDR_LEN;
	expect_fired(FIRED("ip:receive", n[0], n[1], n[2], "ip:send", n[3], n[4]));
	check_pkt(fx, rec(0), m, (uint32_t)len, l->ifp);
	check_hdr(rec(0), req);
	check_pkt(fx, rec(2), m, (uint32_t)len, l->ifp);
	check_hdr(rec(2), req);
	check_pkt(fx, rec(3), l->tx[0], (uint32_t)elen, l->ifp);
	check_hdr(rec(3), err);
	check_pkt(fx, rec(5), l->tx[0], (uint32_t)elen, l->ifp);
	check_hdr(rec(5), err);
	assert_true(rec(5)->pkt->pkt_addr != (uintptr_t)m);
	assert_string_equal(rec(5)->ip->ip_daddr, rec(0)->ip->ip_saddr);
	/* The datagram dropped is the one received, whole, at its IP header. */
	check_pkt(fx, rec(6), m, (uint32_t)len, l->ifp);
	check_hdr(rec(6), req);
	check_reason(rec(6), "udp-no-port");
	fx_tx_clear(l);
}

static void
test_udp_no_port(void **state)
{
	struct unit_fx *fx = *state;

	host46(fx);
	expect_port_unreachable(fx, pkt_udp, sizeof(pkt_udp));
	assert_string_equal(rec(3)->v4->ipv4_protostr, "ICMP");
	expect_port_unreachable(fx, pkt6_udp, sizeof(pkt6_udp));
	assert_string_equal(rec(3)->v6->ipv6_nextstr, "ICMPV6");
	fx_finish(fx);
}

/* Records first..first+n-1 are packet m's through lo0, of IP length len,
 * all from and to addr. */
static void
check_lo(struct unit_fx *fx, unsigned first, unsigned n, uint64_t m, uint32_t len, const char *addr)
{
	for (unsigned i = first; i < first + n; i++) {
		const struct probe_rec *r = rec(i);

		/* lo0 has no link header: the IP packet's length. */
		check_pkt(fx, r, (const void *)(uintptr_t)m, len, fx->st->lo);
		assert_string_equal(r->ifi->if_name, "lo0");
		assert_int_equal(r->ifi->if_local, 1);
		assert_string_equal(r->ip->ip_saddr, addr);
		assert_string_equal(r->ip->ip_daddr, addr);
	}
}

/* A ping to one of our own addresses: write, local-send; at the next poll
 * local-receive and read, and the reply's write and local-send; at the
 * one after, the reply's local-receive and read.  Nothing on test0. */
static void
expect_ping_lo(struct unit_fx *fx, const char *addr, int v)
{
	struct sonde_prefix p;
	char n[4][24];
	uint64_t req, rep;
	uint32_t len = (v == 6 ? 40 : 20) + 8 + 24;

	snprintf(n[0], sizeof(n[0]), "ipv%d:write", v);
	snprintf(n[1], sizeof(n[1]), "ipv%d:local-send", v);
	snprintf(n[2], sizeof(n[2]), "ipv%d:local-receive", v);
	snprintf(n[3], sizeof(n[3]), "ipv%d:read", v);
	assert_int_equal(sonde_prefix_parse(addr, &p), 0);
	probe_record_start();
	assert_int_equal(sonde_ping(fx->st, &p, 0x99, 1, 24), 0);
	expect_fired(FIRED(n[0], "ip:local-send", n[1]));
	req = rec(0)->pkt->pkt_addr;
	check_lo(fx, 0, 3, req, len, addr);
	probe_record_start();
	fx_poll(fx);
	expect_fired(FIRED("ip:local-receive", n[2], n[3], n[0], "ip:local-send", n[1]));
	check_lo(fx, 0, 3, req, len, addr);
	/* The reply: the request turned around in its mbuf. */
	rep = rec(3)->pkt->pkt_addr;
	assert_int_equal(rep, req);
	check_lo(fx, 3, 3, rep, len, addr);
	probe_record_start();
	fx_poll(fx);
	probe_record_stop();
	expect_fired(FIRED("ip:local-receive", n[2], n[3]));
	check_lo(fx, 0, 3, rep, len, addr);
	assert_int_equal(fx->link[0].n_tx, 0);
}

static void
test_loopback(void **state)
{
	struct unit_fx *fx = *state;

	host46(fx);
	expect_ping_lo(fx, "10.0.0.1", 4);
	assert_int_equal(rec(0)->v4->ipv4_protocol, 1);
	expect_ping_lo(fx, "fd00::1", 6);
	assert_int_equal(rec(0)->v6->ipv6_nexthdr, 58);
	fx_finish(fx);
}

/* A datagram in fragments, polled one by one: receive for each, then read
 * once for the whole datagram, its answer written once (too big for the
 * link: it takes the slow way) and sent in fragments, each its own mbuf. */
static void
expect_fragmented(struct unit_fx *fx, const uint8_t *const *frags, const size_t *lens, unsigned n)
{
	struct unit_link *l = &fx->link[0];
	const uint8_t *ip0 = frags[0] + ETH_HDR_LEN;
	const char *v = ip0[0] >> 4 == 6 ? "ipv6" : "ipv4";
	uint32_t whole = 0, hdr = ip0[0] >> 4 == 6 ? 40 : 20;
	char nr[16], nd[16], nw[16], ns[16];
	struct rte_mbuf *m[8];

	snprintf(nr, sizeof(nr), "%s:receive", v);
	snprintf(nd, sizeof(nd), "%s:read", v);
	snprintf(nw, sizeof(nw), "%s:write", v);
	snprintf(ns, sizeof(ns), "%s:send", v);
	assert_true(n <= 8);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *ip = frags[i] + ETH_HDR_LEN;

		m[i] = inject_recorded(fx, frags[i], lens[i]);
		if (i + 1 < n) {
			expect_fired(FIRED("ip:receive", nr));
			assert_int_equal(l->n_tx, 0);
		}
		check_pkt(fx, rec(0), m[i], (uint32_t)lens[i], l->ifp);
		check_hdr(rec(0), ip);
		/* The fragment's payload, past the fragment header in IPv6. */
		whole += (uint32_t)(lens[i] - ETH_HDR_LEN - hdr) - (hdr == 40 ? 8 : 0);
	}
	/* Both answers are 4008 bytes of ICMP: three fragments at MTU 1500. */
	expect_fired(FIRED("ip:receive", nr, nd, nw, "ip:send", ns, "ip:send", ns, "ip:send", ns));
	assert_int_equal(l->n_tx, 3);
	/* read: the datagram, reassembled, under the first fragment's
	 * header (its identification), no longer a fragment. */
	assert_int_equal(rec(2)->ip->ip_plength, whole);
	if (hdr == 20) {
		assert_int_equal(rec(2)->v4->ipv4_length, hdr + whole);
		assert_int_equal(rec(2)->v4->ipv4_ident, wire_get16(ip0 + 4));
		assert_int_equal(rec(2)->v4->ipv4_flags, 0);
		assert_int_equal(rec(2)->v4->ipv4_offset, 0);
	} else {
		assert_int_equal(rec(2)->v6->ipv6_nexthdr, 58); /* the fragment header gone */
		assert_int_equal(rec(2)->v6->ipv6_plen, whole);
	}
	assert_int_equal(rec(2)->pkt->pkt_len, ETH_HDR_LEN + hdr + whole);
	assert_string_equal(rec(2)->ip->ip_saddr, rec(0)->ip->ip_saddr);
	/* write: the answer, whole, before fragmentation. */
	assert_int_equal(rec(3)->ip->ip_plength, whole);
	assert_int_equal(rec(3)->pkt->pkt_len, ETH_HDR_LEN + hdr + whole);
	assert_string_equal(rec(3)->ip->ip_daddr, rec(0)->ip->ip_saddr);
	/* send: each fragment as it leaves, each a new mbuf (the harness
	 * gathers each chain into a buffer of its own: l->tx[] holds copies,
	 * not the mbufs the probes saw). */
	for (unsigned i = 0; i < 3; i++) {
		const struct probe_rec *r = rec(4 + 2 * i);
		size_t flen;
		const uint8_t *f = tx_frame(l, i, &flen) + ETH_HDR_LEN;

		check_pkt(fx, r, NULL, (uint32_t)flen, l->ifp);
		check_hdr(r, f);
		assert_true(r->pkt->pkt_addr != rec(3)->pkt->pkt_addr);
		for (unsigned j = 0; j < i; j++)
			assert_true(r->pkt->pkt_addr != rec(4 + 2 * j)->pkt->pkt_addr);
	}
	fx_tx_clear(l);
}

static void
test_fragments(void **state)
{
	static const uint8_t *const f4[] = { pkt_big_f1, pkt_big_f2, pkt_big_f3 };
	static const size_t l4[] = { sizeof(pkt_big_f1), sizeof(pkt_big_f2), sizeof(pkt_big_f3) };
	static const uint8_t *const f6[] = { pkt6_big_f1, pkt6_big_f2, pkt6_big_f3, pkt6_big_f4 };
	static const size_t l6[] = { sizeof(pkt6_big_f1), sizeof(pkt6_big_f2), sizeof(pkt6_big_f3),
				     sizeof(pkt6_big_f4) };
	struct unit_fx *fx = *state;

	host46(fx);
	expect_fragmented(fx, f4, l4, 3);
	assert_int_equal(rec(2)->ip->ip_plength, 8 + 4000);
	expect_fragmented(fx, f6, l6, 4);
	assert_int_equal(rec(2)->ip->ip_plength, 8 + 4000);
	fx_finish(fx);
}

/* Our ping to A before A is known: write at once, send only when ARP
 * answers, with the same mbuf. */
static void
test_send_after_arp(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct sonde_prefix p;
	uint64_t m;
	size_t len;

	fx_host(fx, &conf);
	l = &fx->link[0];
	assert_int_equal(sonde_prefix_parse("10.0.0.2", &p), 0);
	probe_record_start();
	assert_int_equal(sonde_ping(fx->st, &p, 0x55, 1, 16), 0);
	fx_poll(fx);
	expect_fired(FIRED("ipv4:write"));
	m = rec(0)->pkt->pkt_addr;
	/* ARP is not IP: its request fires nothing. */
	assert_int_equal(l->n_tx, 1);
	tx_arp(l, 0, ARP_OP_REQUEST, MAC_BCAST);
	fx_tx_clear(l);
	probe_record_start();
	fx_inject(fx, l, pkt_arp_reply, sizeof(pkt_arp_reply));
	fx_poll(fx);
	probe_record_stop();
	expect_fired(FIRED("ip:send", "ipv4:send"));
	assert_int_equal(l->n_tx, 1);
	check_pkt(fx, rec(0), (const void *)(uintptr_t)m, ETH_HDR_LEN + 20 + 8 + 16, l->ifp);
	check_hdr(rec(0), tx_ipv4(l, 0, MAC_A, &len));
	fx_finish(fx);
}

/* Injects three echo requests, seq 100.., polls once with the probes
 * recording; the frames in f, their mbufs in m. */
static void
burst3(struct unit_fx *fx, struct frame *f, struct rte_mbuf **m)
{
	probe_record_start();
	for (unsigned i = 0; i < 3; i++) {
		FRAME(&f[i], pkt_echo_req);
		wire_put16(frame_ip(&f[i]) + 20 + 6, (uint16_t)(100 + i));
		frame_fix(&f[i]);
		m[i] = fx_inject(fx, &fx->link[0], f[i].b, f[i].len);
	}
	fx_poll(fx);
	probe_record_stop();
	assert_int_equal(fx->link[0].n_tx, 3);
}

/* A burst goes through the stack a layer at a time: IP receives all of it
 * (one receive probe site for the burst), delivers all of it (read), then
 * ICMP answers the whole run and hands IP the replies as one burst (write
 * each), which leave as one burst (send each).  So the probes fire in the
 * frames' order within each probe, not frame by frame. */
static void
test_burst(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct rte_mbuf *m[3];
	struct frame f[3];

	host4(fx);
	l = &fx->link[0];
	/* But first, A's entry as ARP learnt it: STALE (RFC 4861 7.3.3, which
	 * sonde keeps for ARP too), which the destination cache does not call
	 * ready.  The first reply takes the slow way, write and send on its
	 * own (using the entry moves it to DELAY), and the two after it find
	 * A ready and go as a burst. */
	burst3(fx, f, m);
	expect_fired(FIRED("ip:receive", "ipv4:receive", "ip:receive", "ipv4:receive", "ip:receive",
			   "ipv4:receive", "ipv4:read", "ipv4:read", "ipv4:read", "ipv4:write",
			   "ip:send", "ipv4:send", "ipv4:write", "ipv4:write", "ip:send",
			   "ipv4:send", "ip:send", "ipv4:send"));
	for (unsigned i = 0; i < 3; i++) {
		check_pkt(fx, rec(2 * i), m[i], (uint32_t)f[i].len, l->ifp);
		check_pkt(fx, rec(6 + i), m[i], (uint32_t)f[i].len, l->ifp);
	}
	assert_int_equal(rec(9)->pkt->pkt_addr, (uintptr_t)m[0]);
	assert_int_equal(rec(10)->pkt->pkt_addr, (uintptr_t)m[0]);
	assert_int_equal(rec(12)->pkt->pkt_addr, (uintptr_t)m[1]);
	assert_int_equal(rec(13)->pkt->pkt_addr, (uintptr_t)m[2]);
	assert_int_equal(rec(14)->pkt->pkt_addr, (uintptr_t)m[1]);
	assert_int_equal(rec(16)->pkt->pkt_addr, (uintptr_t)m[2]);
	fx_tx_clear(l);

	/* A ready: the whole burst a layer at a time. */
	burst3(fx, f, m);
	expect_fired(FIRED("ip:receive", "ipv4:receive", "ip:receive", "ipv4:receive", "ip:receive",
			   "ipv4:receive", "ipv4:read", "ipv4:read", "ipv4:read", "ipv4:write",
			   "ipv4:write", "ipv4:write", "ip:send", "ipv4:send", "ip:send",
			   "ipv4:send", "ip:send", "ipv4:send"));
	for (unsigned i = 0; i < 3; i++) {
		size_t len;
		const uint8_t *reply = tx_frame(l, i, &len) + ETH_HDR_LEN;

		check_pkt(fx, rec(2 * i), m[i], (uint32_t)f[i].len, l->ifp);
		check_hdr(rec(2 * i), frame_ip(&f[i]));
		check_pkt(fx, rec(6 + i), m[i], (uint32_t)f[i].len, l->ifp);
		check_hdr(rec(6 + i), frame_ip(&f[i]));
		check_pkt(fx, rec(9 + i), l->tx[i], (uint32_t)len, l->ifp);
		check_hdr(rec(9 + i), reply);
		check_pkt(fx, rec(12 + 2 * i), l->tx[i], (uint32_t)len, l->ifp);
		check_hdr(rec(12 + 2 * i), reply);
		assert_ptr_equal(l->tx[i], m[i]);
	}
	fx_finish(fx);
}

/* A mixed burst splits into runs: by EtherType at the link (the IPv4 run
 * goes all the way down and back before the IPv6 one starts), then, after
 * receive for the whole run, by protocol above IP: each run of one
 * protocol is read, answered, written and sent before the next run is
 * read. */
static void
test_burst_runs(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct rte_mbuf *m[4];

	host46(fx);
	l = &fx->link[0];
	probe_record_start();
	m[0] = fx_inject(fx, l, pkt_echo_req, sizeof(pkt_echo_req));
	m[1] = fx_inject(fx, l, pkt_udp_echo, sizeof(pkt_udp_echo));
	m[2] = fx_inject(fx, l, pkt6_echo_req, sizeof(pkt6_echo_req));
	m[3] = fx_inject(fx, l, pkt6_udp_echo, sizeof(pkt6_udp_echo));
	fx_poll(fx);
	probe_record_stop();
	assert_int_equal(l->n_tx, 4);
	expect_fired(FIRED("ip:receive", "ipv4:receive", "ip:receive", "ipv4:receive", "ipv4:read",
			   "ipv4:write", "ip:send", "ipv4:send", "ipv4:read", "ipv4:write",
			   "ip:send", "ipv4:send", "ip:receive", "ipv6:receive", "ip:receive",
			   "ipv6:receive", "ipv6:read", "ipv6:write", "ip:send", "ipv6:send",
			   "ipv6:read", "ipv6:write", "ip:send", "ipv6:send"));
	for (unsigned fam = 0; fam < 2; fam++) {
		unsigned b = 12 * fam;
		struct rte_mbuf *echo = m[2 * fam], *udp = m[2 * fam + 1];

		assert_int_equal(rec(b + 0)->pkt->pkt_addr, (uintptr_t)echo);
		assert_int_equal(rec(b + 2)->pkt->pkt_addr, (uintptr_t)udp);
		assert_int_equal(rec(b + 4)->pkt->pkt_addr, (uintptr_t)echo);
		assert_int_equal(rec(b + 5)->pkt->pkt_addr, (uintptr_t)echo);
		assert_int_equal(rec(b + 6)->pkt->pkt_addr, (uintptr_t)echo);
		assert_int_equal(rec(b + 8)->pkt->pkt_addr, (uintptr_t)udp);
		assert_int_equal(rec(b + 9)->pkt->pkt_addr, (uintptr_t)udp);
		assert_int_equal(rec(b + 10)->pkt->pkt_addr, (uintptr_t)udp);
		assert_string_equal(rec(b + 5)->ip->ip_daddr, rec(b + 0)->ip->ip_saddr);
	}
	for (unsigned i = 0; i < 4; i++)
		assert_ptr_equal(l->tx[i], m[i]);
	fx_finish(fx);
}

/* Neighbor Discovery is IP: the DAD probe sonde_addr_add() sends at once
 * (write and send, from ::), and an NS answered with an NA. */
static void
test_nd(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	size_t len;

	fx_host(fx, &conf);
	l = &fx->link[0];
	probe_record_start();
	fx_addr(fx, l, "fd00::1/64");
	probe_record_stop();
	expect_fired(FIRED("ipv6:write", "ip:send", "ipv6:send"));
	/* Sent to the port's queue, which the next poll flushes. */
	assert_int_equal(l->n_tx, 0);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_nd6(l, 0, MAC_SN1, ND_NEIGHBOR_SOLICIT, 0, "::", "ff02::1:ff00:1", "fd00::1", 0);
	tx_frame(l, 0, &len);
	for (unsigned i = 0; i < 3; i += 2) {
		check_pkt(fx, rec(i), l->tx[0], (uint32_t)len, l->ifp);
		check_hdr(rec(i), tx_frame(l, 0, NULL) + ETH_HDR_LEN);
	}
	assert_string_equal(rec(0)->ip->ip_saddr, "::");
	assert_int_equal(rec(0)->v6->ipv6_hlim, 255);
	fx_tx_clear(l);
	fx_advance(fx, 1 * SEC);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	expect_answered(fx, pkt6_ns, sizeof(pkt6_ns), false);
	assert_int_equal(rec(5)->v6->ipv6_hlim, 255);
	fx_finish(fx);
}

/* A UDP socket's datagram: write as it sends, send at the poll's flush,
 * both naming the socket. */
static void
test_udp_socket(void **state)
{
	struct unit_fx *fx = *state;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sonde_sock *s;

	host46(fx);
	assert_int_equal(sonde_socket(fx->st, AF_INET, SOCK_DGRAM, NULL, &s), 0);
	a.sin_addr.s_addr = ip4("10.0.0.2");
	assert_int_equal(sonde_connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	expect_cs = s;
	probe_record_start();
	fx_poll(fx); /* the gate sees the recorder */
	assert_int_equal(sonde_send(s, "probed", 6, 0), 6);
	fx_poll(fx);
	probe_record_stop();
	expect_fired(FIRED("ipv4:write", "ip:send", "ipv4:send"));
	for (unsigned i = 0; i < 3; i++) {
		assert_non_null(rec(i)->cs);
		assert_int_equal(rec(i)->cs->cs_cid, rec(0)->cs->cs_cid);
	}
	assert_string_equal(rec(0)->v4->ipv4_protostr, "UDP");
	expect_cs = NULL;
	sonde_close(s);
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_echo4),	      T(test_echo6),	  T(test_udp_echo),  T(test_forward),
		T(test_bad_checksum), T(test_martian),	  T(test_no_route),  T(test_no_route_back),
		T(test_udp_no_port),  T(test_loopback),	  T(test_fragments), T(test_send_after_arp),
		T(test_burst),	      T(test_burst_runs), T(test_nd),	     T(test_udp_socket),
	};
	int r;

	unit_init("probe_fire");
	r = cmocka_run_group_tests_name("probe_fire", tests, NULL, NULL);
	unit_fini();
	return r;
}
