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
 * The udp probes of the echo service are in the sequences, and the tcp
 * and udp probes' fills are tested alone, on hand-built sockets and
 * segments (test_tcp_*, test_udp_*), every member of their arguments.
 *
 * Every record is also held to what docs/probes.md promises of any probe:
 * arg1 (csinfo_t) NULL with no socket (these frames have none, but
 * test_cs_cid's); arg4 set and arg5 NULL for IPv4,
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
#include "probes.h"
#include "sock.h"
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

/* What every tcp or udp record must be: the provider's arguments there
 * (docs/probes.md, "The arguments"), padding zero, the family's text
 * addresses. */
static void
check_l4_common(const struct probe_rec *r)
{
	bool tcp = strcmp(r->provider, "tcp") == 0;

	if (tcp && strcmp(r->probe, "state-change") == 0) {
		assert_null(r->arg[0]);
		assert_non_null(r->cs);
		assert_null(r->arg[2]);
		assert_non_null(r->tcps);
		assert_null(r->arg[4]);
		assert_non_null(r->tcpls);
		return;
	}
	assert_non_null(r->pkt);
	assert_non_null(r->ip);
	assert_null(r->arg[5]);
	assert_non_null(tcp ? (const void *)r->tcps : (const void *)r->udps);
	assert_non_null(tcp ? (const void *)r->tcp : (const void *)r->udp);
	assert_string_equal(r->pkt->pkt_reason, "");
	assert_int_equal(r->pkt->pkt_pad, 0);
	assert_true(all_zero(r->ip->ip_pad, sizeof(r->ip->ip_pad)));
	assert_true(r->ip->ip_ver == 4 || r->ip->ip_ver == 6);
	if (tcp)
		assert_int_equal(r->tcp->tcp_pad, 0);
}

/* What every record must be, whatever fired it. */
static void
check_common(const struct probe_rec *r)
{
	bool drop = strncmp(r->probe, "drop-", 5) == 0;
	char fam[8];

	if (strcmp(r->provider, "tcp") == 0 || strcmp(r->provider, "udp") == 0) {
		check_l4_common(r);
		return;
	}
	assert_non_null(r->pkt);
	/* A connection's: the socket's id and the stack's; the one the test
	 * expects, when it names one. */
	if (r->cs != NULL) {
		if (expect_cs != NULL)
			assert_int_equal(r->cs->cs_addr, (uintptr_t)expect_cs);
		assert_true(r->cs->cs_addr != 0);
		assert_true(r->cs->cs_cid != 0);
		assert_int_equal(r->cs->cs_pid, (uint32_t)getpid());
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

/* Starts the recorder, as a tracer attaching: the stack reads its probes'
 * semaphores every PROBE_GATE_NS, so the clock moves on by that much and
 * the next poll sees it. */
static void
rec_start(struct unit_fx *fx)
{
	probe_record_start();
	fx_advance(fx, PROBE_GATE_NS);
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

/* A tcp or udp record's ipinfo_t (it has no ipv4info_t or ipv6info_t):
 * the IP header at ip's version, payload length and addresses. */
static void
check_ipinfo(const struct probe_rec *r, const uint8_t *ip)
{
	bool v6 = ip[0] >> 4 == 6;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	assert_int_equal(r->ip->ip_ver, ip[0] >> 4);
	assert_int_equal(r->ip->ip_plength,
			 v6 ? wire_get16(ip + 4) : wire_get16(ip + 2) - (ip[0] & 0xf) * 4u);
	assert_non_null(inet_ntop(v6 ? AF_INET6 : AF_INET, ip + (v6 ? 8 : 12), s, sizeof(s)));
	assert_non_null(inet_ntop(v6 ? AF_INET6 : AF_INET, ip + (v6 ? 24 : 16), d, sizeof(d)));
	assert_string_equal(r->ip->ip_saddr, s);
	assert_string_equal(r->ip->ip_daddr, d);
}

/* The IP header at ip, of either family. */
static void
check_hdr(const struct probe_rec *r, const uint8_t *ip)
{
	if (r->tcps || r->udps)
		check_ipinfo(r, ip);
	else if (ip[0] >> 4 == 6)
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

	rec_start(fx);
	m = fx_inject(fx, &fx->link[0], p, len);
	fx_poll(fx);
	probe_record_stop();
	return m;
}

/* Record r is udp:receive or udp:send (out) of the echo service, of
 * datagram m, whose IP header is ip (as the probe saw it): no socket, the
 * ends from the datagram. */
static void
check_udp_echo(const struct probe_rec *r, const void *m, const uint8_t *ip, bool out)
{
	unsigned hl = ip[0] >> 4 == 6 ? 40 : (ip[0] & 0xf) * 4u;
	const uint8_t *u = ip + hl;
	uint32_t iplen = ip[0] >> 4 == 6 ? 40u + wire_get16(ip + 4) : wire_get16(ip + 2);

	assert_string_equal(r->probe, out ? "send" : "receive");
	assert_int_equal(r->pkt->pkt_addr, (uintptr_t)m);
	assert_int_equal(r->pkt->pkt_len, iplen); /* the IP packet: no link header */
	assert_null(r->cs);
	check_hdr(r, ip);
	assert_int_equal(r->udp->udp_sport, wire_get16(u));
	assert_int_equal(r->udp->udp_dport, wire_get16(u + 2));
	assert_int_equal(r->udp->udp_length, wire_get16(u + 4));
	assert_int_equal(r->udp->udp_checksum, wire_get16(u + 6));
	assert_true(r->udp->udp_hdr != 0);
	assert_int_equal(r->udps->udps_addr, 0);
	assert_string_equal(r->udps->udps_laddr, out ? r->ip->ip_saddr : r->ip->ip_daddr);
	assert_string_equal(r->udps->udps_raddr, out ? r->ip->ip_daddr : r->ip->ip_saddr);
	assert_int_equal(r->udps->udps_lport, out ? wire_get16(u) : wire_get16(u + 2));
	assert_int_equal(r->udps->udps_rport, out ? wire_get16(u + 2) : wire_get16(u));
	assert_int_equal(r->udps->udps_lport, PORT_ECHO);
}

/* Request p (to us on test0, answered by one frame to A) fires receive and
 * read of the request, write and send of the answer, of its family: on
 * test0, the request's header at receive and read, the answer's (as sent)
 * at write and send, each on the wire with its Ethernet header; in_place:
 * the answer is the request turned around in its mbuf.  A UDP request
 * also fires udp:receive and udp:send, between read and write (the echo
 * service takes it and turns it around). */
static void
expect_answered(struct unit_fx *fx, const uint8_t *p, size_t len, bool in_place)
{
	struct unit_link *l = &fx->link[0];
	const uint8_t *req = p + ETH_HDR_LEN, *reply;
	bool v6 = req[0] >> 4 == 6;
	unsigned u = req[v6 ? 6 : 9] == 17 ? 2 : 0; /* the udp records */
	const char *fam = v6 ? "ipv6" : "ipv4";
	char n[4][16];
	struct rte_mbuf *m;
	size_t rlen;

	m = inject_recorded(fx, p, len);
	assert_int_equal(l->n_tx, 1);
	reply = tx_frame(l, 0, &rlen) + ETH_HDR_LEN;
	snprintf(n[0], sizeof(n[0]), "%s:receive", fam);
	snprintf(n[1], sizeof(n[1]), "%s:read", fam);
	snprintf(n[2], sizeof(n[2]), "%s:write", fam);
	snprintf(n[3], sizeof(n[3]), "%s:send", fam);
	if (u)
		expect_fired(FIRED("ip:receive", n[0], n[1], "udp:receive", "udp:send", n[2],
				   "ip:send", n[3]));
	else
		expect_fired(FIRED("ip:receive", n[0], n[1], n[2], "ip:send", n[3]));
	check_pkt(fx, rec(0), m, (uint32_t)len, l->ifp);
	check_hdr(rec(0), req);
	check_pkt(fx, rec(2), m, (uint32_t)len, l->ifp);
	check_hdr(rec(2), req);
	assert_string_equal(rec(2)->ifi->if_name, "test0");
	if (u) {
		check_udp_echo(rec(3), m, req, false);
		check_udp_echo(rec(4), l->tx[0], reply, true);
	}
	/* The same mbuf at write and send (unfragmented): the one sent. */
	check_pkt(fx, rec(u + 3), l->tx[0], (uint32_t)rlen, l->ifp);
	check_hdr(rec(u + 3), reply);
	check_pkt(fx, rec(u + 4), l->tx[0], (uint32_t)rlen, l->ifp);
	check_hdr(rec(u + 4), reply);
	if (in_place)
		assert_ptr_equal(l->tx[0], m);
	else
		assert_ptr_not_equal(l->tx[0], m);
	assert_string_equal(rec(u + 4)->ifi->if_name, "test0");
	assert_int_equal(rec(u + 4)->ifi->if_local, 0);
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
	assert_string_equal(rec(7)->v4->ipv4_protostr, "UDP");
	assert_string_equal(rec(3)->udps->udps_raddr, "10.0.0.2");
	expect_answered(fx, pkt6_udp_echo, sizeof(pkt6_udp_echo), true);
	assert_string_equal(rec(7)->v6->ipv6_nextstr, "UDP");
	assert_string_equal(rec(4)->udps->udps_laddr, "fd00::1");
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
	rec_start(fx);
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
	rec_start(fx);
	assert_int_equal(sonde_ping(fx->st, &p, 0x99, 1, 24), 0);
	expect_fired(FIRED(n[0], "ip:local-send", n[1]));
	req = rec(0)->pkt->pkt_addr;
	check_lo(fx, 0, 3, req, len, addr);
	rec_start(fx);
	fx_poll(fx);
	expect_fired(FIRED("ip:local-receive", n[2], n[3], n[0], "ip:local-send", n[1]));
	check_lo(fx, 0, 3, req, len, addr);
	/* The reply: the request turned around in its mbuf. */
	rep = rec(3)->pkt->pkt_addr;
	assert_int_equal(rep, req);
	check_lo(fx, 3, 3, rep, len, addr);
	rec_start(fx);
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
	rec_start(fx);
	assert_int_equal(sonde_ping(fx->st, &p, 0x55, 1, 16), 0);
	fx_poll(fx);
	expect_fired(FIRED("ipv4:write"));
	m = rec(0)->pkt->pkt_addr;
	/* ARP is not IP: its request fires nothing. */
	assert_int_equal(l->n_tx, 1);
	tx_arp(l, 0, ARP_OP_REQUEST, MAC_BCAST);
	fx_tx_clear(l);
	rec_start(fx);
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
	rec_start(fx);
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
	rec_start(fx);
	m[0] = fx_inject(fx, l, pkt_echo_req, sizeof(pkt_echo_req));
	m[1] = fx_inject(fx, l, pkt_udp_echo, sizeof(pkt_udp_echo));
	m[2] = fx_inject(fx, l, pkt6_echo_req, sizeof(pkt6_echo_req));
	m[3] = fx_inject(fx, l, pkt6_udp_echo, sizeof(pkt6_udp_echo));
	fx_poll(fx);
	probe_record_stop();
	assert_int_equal(l->n_tx, 4);
	expect_fired(FIRED("ip:receive", "ipv4:receive", "ip:receive", "ipv4:receive", "ipv4:read",
			   "ipv4:write", "ip:send", "ipv4:send", "ipv4:read", "udp:receive",
			   "udp:send", "ipv4:write", "ip:send", "ipv4:send", "ip:receive",
			   "ipv6:receive", "ip:receive", "ipv6:receive", "ipv6:read", "ipv6:write",
			   "ip:send", "ipv6:send", "ipv6:read", "udp:receive", "udp:send",
			   "ipv6:write", "ip:send", "ipv6:send"));
	for (unsigned fam = 0; fam < 2; fam++) {
		unsigned b = 14 * fam;
		struct rte_mbuf *echo = m[2 * fam], *udp = m[2 * fam + 1];

		assert_int_equal(rec(b + 0)->pkt->pkt_addr, (uintptr_t)echo);
		assert_int_equal(rec(b + 2)->pkt->pkt_addr, (uintptr_t)udp);
		assert_int_equal(rec(b + 4)->pkt->pkt_addr, (uintptr_t)echo);
		assert_int_equal(rec(b + 5)->pkt->pkt_addr, (uintptr_t)echo);
		assert_int_equal(rec(b + 6)->pkt->pkt_addr, (uintptr_t)echo);
		assert_int_equal(rec(b + 8)->pkt->pkt_addr, (uintptr_t)udp);
		assert_int_equal(rec(b + 9)->pkt->pkt_addr, (uintptr_t)udp);
		assert_int_equal(rec(b + 10)->pkt->pkt_addr, (uintptr_t)udp);
		assert_int_equal(rec(b + 11)->pkt->pkt_addr, (uintptr_t)udp);
		assert_int_equal(rec(b + 12)->pkt->pkt_addr, (uintptr_t)udp);
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
	rec_start(fx);
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

/* A UDP socket's datagram: udp:::send and write as it sends, send at the
 * poll's flush, all naming the socket. */
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
	rec_start(fx);
	fx_poll(fx); /* the gate sees the recorder */
	assert_int_equal(sonde_send(s, "probed", 6, 0), 6);
	fx_poll(fx);
	probe_record_stop();
	expect_fired(FIRED("udp:send", "ipv4:write", "ip:send", "ipv4:send"));
	for (unsigned i = 0; i < 4; i++) {
		assert_non_null(rec(i)->cs);
		assert_int_equal(rec(i)->cs->cs_cid, rec(0)->cs->cs_cid);
	}
	assert_int_equal(rec(0)->udp->udp_dport, 9);
	assert_int_equal(rec(0)->udp->udp_length, 8 + 6);
	assert_string_equal(rec(1)->v4->ipv4_protostr, "UDP");
	expect_cs = NULL;
	sonde_close(s);
	fx_finish(fx);
}

/* --- the tcp and udp probes' fills, on hand-built sockets and segments --- */

/* A segment or datagram of either family, in an mbuf of the pool: its IP
 * header (20 or 40 bytes) from src to dst, then the transport header hdr
 * (hlen bytes) and plen bytes of payload; data at the IP header,
 * pkt_meta's l3_len past it, as the stack hands it to probe_tcp() and
 * probe_udp(). */
static struct rte_mbuf *
l4_mbuf(const char *src, const char *dst, uint8_t proto, const uint8_t *hdr, unsigned hlen,
	unsigned plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(unit_pool);
	bool v6 = strchr(src, ':') != NULL;
	unsigned il = v6 ? 40 : 20, tot = il + hlen + plen;
	uint8_t *p;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)tot);
	assert_non_null(p);
	memset(p, 0, tot);
	if (v6) {
		wire_put32(p, 6u << 28 | 0x2a << 20 | 0x12345);
		wire_put16(p + 4, (uint16_t)(hlen + plen));
		p[6] = proto;
		p[7] = 64;
		assert_int_equal(inet_pton(AF_INET6, src, p + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, p + 24), 1);
	} else {
		p[0] = 0x45;
		wire_put16(p + 2, (uint16_t)tot);
		wire_put16(p + 4, 0x4321);
		wire_put16(p + 6, 0x4000);
		p[8] = 64;
		p[9] = proto;
		assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
		assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
		wire_put16(p + 10, ref_cksum(p, 20));
	}
	memcpy(p + il, hdr, hlen);
	pkt_meta_init(m, SONDE_IF_NONE, v6 ? 6 : 4);
	pkt_meta(m)->l3_len = (uint16_t)il;
	return m;
}

/* A TCP header with options (32 bytes): every field a different value,
 * each byte of a field different, so that a byte-order mistake shows. */
static void
tcp_hdr(uint8_t *h, uint16_t sport, uint16_t dport, uint8_t flags)
{
	memset(h, 0, 32);
	wire_put16(h, sport);
	wire_put16(h + 2, dport);
	wire_put32(h + 4, 0x01020304);
	wire_put32(h + 8, 0x05060708);
	h[12] = 8 << 4; /* 32 bytes */
	h[13] = flags;
	wire_put16(h + 14, 0x1234);
	wire_put16(h + 16, 0xabcd);
	wire_put16(h + 18, 0x0102);
	h[20] = 1; /* NOPs and an end */
	h[21] = 1;
}

/* A connection from laddr:lport to raddr:rport, every field of its TCP
 * state a value of its own. */
static void
tcp_sock(struct sonde_sock *s, struct sonde_stack *st, const char *laddr, uint16_t lport,
	 const char *raddr, uint16_t rport)
{
	bool v6 = strchr(laddr, ':') != NULL;
	struct tcp_cb *tp = &s->tcp;

	memset(s, 0, sizeof(*s));
	s->cid = 0x1122334455ull;
	s->st = st;
	s->proto = IPPROTO_TCP;
	s->af = v6 ? 6 : 4;
	s->key.proto = IPPROTO_TCP;
	s->key.af = s->af;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, laddr, s->key.laddr), 1);
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, raddr, s->key.raddr), 1);
	s->key.lport = htons(lport);
	s->key.rport = htons(rport);
	tp->state = TCPS_ESTABLISHED;
	tp->tf = TF_ACTIVE | TF_SACK;
	tp->snd_wscale = 7;
	tp->rcv_wscale = 9;
	tp->iss = 1000;
	tp->snd_una = 2000;
	tp->snd_nxt = 3000;
	tp->snd_max = 3100;
	tp->snd_wnd = 65000;
	tp->irs = 4000;
	tp->rcv_nxt = 5000;
	tp->rcv_wnd = 64000;
	tp->mss = 1448;
	tp->last_ack_sent = 4900;
	tp->srtt_us = 12345;
	tp->rttvar_us = 678;
	tp->rto_us = 201999; /* 201 ms */
	tp->cwnd = 14480;
	tp->ssthresh = 28960;
	tp->high_rxt = 2500;
	tp->n_sacked = 2;
	tp->sacked[0] = (struct tcp_sack_range){ 2600, 2700 };
	tp->sacked[1] = (struct tcp_sack_range){ 2800, 2950 };
	tp->bytes_acked = 1ull << 33;
	tp->bytes_received = (1ull << 34) + 5;
	tp->start_ns = UNIT_T0 + 17;
}

/* Record r's tcpsinfo_t is connection s's state (its ends aside). */
static void
check_tcps_state(const struct probe_rec *r, const struct sonde_sock *s)
{
	const struct tcpsinfo_t *t = r->tcps;
	const struct tcp_cb *tp = &s->tcp;

	assert_int_equal(t->tcps_addr, (uintptr_t)s);
	assert_int_equal(t->tcps_local, !!(tp->tf & TF_LOCAL));
	assert_int_equal(t->tcps_active, !!(tp->tf & TF_ACTIVE));
	assert_int_equal(t->tcps_state, tp->state);
	assert_int_equal(t->tcps_iss, 1000);
	assert_int_equal(t->tcps_suna, 2000);
	assert_int_equal(t->tcps_snxt, 3000);
	assert_int_equal(t->tcps_rack, 4900);
	assert_int_equal(t->tcps_rnxt, 5000);
	assert_int_equal(t->tcps_swnd, 65000);
	assert_int_equal(t->tcps_snd_ws, 7);
	assert_int_equal(t->tcps_rwnd, 64000);
	assert_int_equal(t->tcps_rcv_ws, 9);
	assert_int_equal(t->tcps_cwnd, 14480);
	assert_int_equal(t->tcps_cwnd_ssthresh, 28960);
	assert_int_equal(t->tcps_sack_fack, tp->n_sacked ? 2950 : 2000);
	assert_int_equal(t->tcps_sack_snxt, 2500);
	assert_int_equal(t->tcps_rto, 201);
	assert_int_equal(t->tcps_mss, 1448);
	assert_int_equal(t->tcps_rtt, 12345);
	assert_int_equal(t->tcps_rtt_sd, 678);
	assert_int_equal(t->tcps_irs, 4000);
	assert_int_equal(t->tcps_bytes_acked, 1ull << 33);
	assert_int_equal(t->tcps_bytes_received, (1ull << 34) + 5);
	assert_int_equal(t->tcps_start_ns, UNIT_T0 + 17);
}

/* Record r's csinfo_t is s's, on the test's stack. */
static void
check_cs(const struct probe_rec *r, const struct sonde_sock *s)
{
	assert_non_null(r->cs);
	assert_int_equal(r->cs->cs_addr, (uintptr_t)s);
	assert_int_equal(r->cs->cs_cid, s->cid);
	assert_int_equal(r->cs->cs_pid, (uint32_t)getpid());
	assert_int_equal(r->cs->cs_zoneid, STACK_ID);
}

/* Record r's tcpinfo_t is tcp_hdr()'s, in host order, at l4 bytes into
 * packet m. */
static void
check_tcpinfo(const struct probe_rec *r, const struct rte_mbuf *m, unsigned l4, uint16_t sport,
	      uint16_t dport, uint8_t flags)
{
	const struct tcpinfo_t *t = r->tcp;

	assert_int_equal(t->tcp_sport, sport);
	assert_int_equal(t->tcp_dport, dport);
	assert_int_equal(t->tcp_seq, 0x01020304);
	assert_int_equal(t->tcp_ack, 0x05060708);
	assert_int_equal(t->tcp_offset, 32);
	assert_int_equal(t->tcp_flags, flags);
	assert_int_equal(t->tcp_window, 0x1234);
	assert_int_equal(t->tcp_checksum, 0xabcd);
	assert_int_equal(t->tcp_urgent, 0x0102);
	assert_int_equal(t->tcp_hdr, (uintptr_t)rte_pktmbuf_mtod_offset(m, const uint8_t *, l4));
}

static const char *const tcp_kind_names[] = {
	[PROBE_TCP_SEND] = "send",
	[PROBE_TCP_RECEIVE] = "receive",
	[PROBE_TCP_CONNECT_REQUEST] = "connect-request",
	[PROBE_TCP_CONNECT_ESTABLISHED] = "connect-established",
	[PROBE_TCP_CONNECT_REFUSED] = "connect-refused",
	[PROBE_TCP_ACCEPT_ESTABLISHED] = "accept-established",
	[PROBE_TCP_ACCEPT_REFUSED] = "accept-refused",
};

/* Fires probe_tcp(kind) on m and s, alone, and checks the record's
 * common arguments: the probe's name, the packet (its IP length), the IP
 * header, the connection.  Returns the record. */
static const struct probe_rec *
fire_tcp(struct unit_fx *fx, enum probe_tcp_kind kind, const struct rte_mbuf *m,
	 const struct sonde_sock *s, unsigned flags)
{
	char want[32];
	const struct probe_rec *r;

	rec_start(fx);
	probe_gate_update(fx->st);
	probe_tcp(fx->st, kind, m, s, flags);
	probe_record_stop();
	snprintf(want, sizeof(want), "tcp:%s", tcp_kind_names[kind]);
	expect_fired(FIRED(want));
	r = rec(0);
	assert_int_equal(r->pkt->pkt_addr, (uintptr_t)m);
	assert_int_equal(r->pkt->pkt_len, rte_pktmbuf_pkt_len(m));
	check_hdr(r, rte_pktmbuf_mtod(m, const uint8_t *));
	if (s)
		check_cs(r, s);
	else
		assert_null(r->cs);
	assert_int_equal(r->tcps->tcps_retransmit, !!(flags & PROBE_TCP_F_RETRANSMIT));
	return r;
}

static const char tcp_data[] = "0123456789";

/* A connection's segments, both families, every kind: tcpsinfo_t from
 * the connection, its ends from its key whatever the direction;
 * tcpinfo_t from the header, host order; retransmit from the flag. */
static void
test_tcp_conn(void **state)
{
	static const char *const ends[2][2] = { { "10.0.0.1", "10.0.0.2" },
						{ "fd00::1", "2001:db8::2:1" } };
	struct unit_fx *fx = *state;
	static struct sonde_sock s;
	uint8_t h[32];

	host4(fx);
	for (unsigned fam = 0; fam < 2; fam++) {
		const char *l = ends[fam][0], *r = ends[fam][1];

		tcp_sock(&s, fx->st, l, 5001, r, 43122);
		if (fam == 1) {
			s.tcp.tf = TF_LOCAL; /* passive, by lo0 */
			s.tcp.n_sacked = 0;  /* fack: snd_una */
		}
		for (unsigned k = PROBE_TCP_SEND; k <= PROBE_TCP_ACCEPT_REFUSED; k++) {
			bool out = k == PROBE_TCP_SEND || k == PROBE_TCP_CONNECT_REQUEST ||
				   k == PROBE_TCP_ACCEPT_REFUSED;
			struct rte_mbuf *m;
			const struct probe_rec *rc;
			unsigned flags = k == PROBE_TCP_SEND ? PROBE_TCP_F_RETRANSMIT : 0;

			tcp_hdr(h, out ? 5001 : 43122, out ? 43122 : 5001, TH_PSH | TH_ACK);
			m = out ? l4_mbuf(l, r, 6, h, 32, sizeof(tcp_data))
				: l4_mbuf(r, l, 6, h, 32, sizeof(tcp_data));
			rc = fire_tcp(fx, (enum probe_tcp_kind)k, m, &s, flags);
			check_tcps_state(rc, &s);
			check_tcpinfo(rc, m, fam ? 40 : 20, out ? 5001 : 43122, out ? 43122 : 5001,
				      TH_PSH | TH_ACK);
			assert_string_equal(rc->tcps->tcps_laddr, l);
			assert_string_equal(rc->tcps->tcps_raddr, r);
			assert_int_equal(rc->tcps->tcps_lport, 5001);
			assert_int_equal(rc->tcps->tcps_rport, 43122);
			assert_int_equal(rc->ip->ip_plength, 32 + sizeof(tcp_data));
			assert_int_equal(rc->pkt->pkt_len, (fam ? 40 : 20) + 32 + sizeof(tcp_data));
			assert_string_equal(rc->ip->ip_saddr, out ? l : r);
			rte_pktmbuf_free(m);
		}
	}
	fx_finish(fx);
}

/* Segments of no connection (s NULL): a SYN refused with an RST (the RST
 * is accept-refused, sent), an RST received: tcpsinfo_t from the segment,
 * local the source when sent, the destination when received; state
 * CLOSED; no csinfo_t. */
static void
test_tcp_no_conn(void **state)
{
	struct unit_fx *fx = *state;
	uint8_t h[32];

	host4(fx);
	for (unsigned fam = 0; fam < 2; fam++) {
		const char *us = fam ? "fd00::1" : "10.0.0.1", *them = fam ? "fd00::2" : "10.0.0.2";
		struct rte_mbuf *m;
		const struct probe_rec *r;

		tcp_hdr(h, 7777, 50000, TH_RST | TH_ACK);
		m = l4_mbuf(us, them, 6, h, 32, 0);
		r = fire_tcp(fx, PROBE_TCP_ACCEPT_REFUSED, m, NULL, 0);
		check_tcpinfo(r, m, fam ? 40 : 20, 7777, 50000, TH_RST | TH_ACK);
		assert_int_equal(r->tcps->tcps_addr, 0);
		assert_int_equal(r->tcps->tcps_state, TCP_STATE_CLOSED);
		assert_int_equal(r->tcps->tcps_active, 0);
		assert_int_equal(r->tcps->tcps_iss, 0);
		assert_string_equal(r->tcps->tcps_laddr, us);
		assert_string_equal(r->tcps->tcps_raddr, them);
		assert_int_equal(r->tcps->tcps_lport, 7777);
		assert_int_equal(r->tcps->tcps_rport, 50000);
		rte_pktmbuf_free(m);

		tcp_hdr(h, 50000, 7777, TH_RST);
		m = l4_mbuf(them, us, 6, h, 32, 0);
		r = fire_tcp(fx, PROBE_TCP_RECEIVE, m, NULL, 0);
		assert_string_equal(r->tcps->tcps_laddr, us);
		assert_string_equal(r->tcps->tcps_raddr, them);
		assert_int_equal(r->tcps->tcps_lport, 7777);
		assert_int_equal(r->tcps->tcps_rport, 50000);
		assert_int_equal(r->tcps->tcps_retransmit, 0);
		rte_pktmbuf_free(m);

		/* Cut short: no TCP header to read, every tcpinfo_t member 0. */
		m = l4_mbuf(them, us, 6, h, 12, 0);
		r = fire_tcp(fx, PROBE_TCP_RECEIVE, m, NULL, 0);
		assert_true(all_zero(r->tcp, sizeof(*r->tcp)));
		assert_int_equal(r->tcps->tcps_lport, 0);
		assert_string_equal(r->tcps->tcps_laddr, us);
		rte_pktmbuf_free(m);
	}
	fx_finish(fx);
}

/* Fires probe_tcp_state() on s, alone; returns its record. */
static const struct probe_rec *
fire_state(struct unit_fx *fx, const struct sonde_sock *s, unsigned old)
{
	rec_start(fx);
	probe_gate_update(fx->st);
	probe_tcp_state(fx->st, s, old);
	probe_record_stop();
	expect_fired(FIRED("tcp:state-change"));
	return rec(0);
}

/* state-change: arg0, arg2, arg4 NULL; csinfo_t and tcpsinfo_t the
 * connection's (the new state), tcplsinfo_t the old one. */
static void
test_tcp_state(void **state)
{
	struct unit_fx *fx = *state;
	static struct sonde_sock s;
	const struct probe_rec *r;

	host4(fx);
	tcp_sock(&s, fx->st, "fd00::1", 80, "fd00::2", 1234);
	s.tcp.state = TCPS_FIN_WAIT_1;
	r = fire_state(fx, &s, TCPS_ESTABLISHED);
	check_cs(r, &s);
	check_tcps_state(r, &s);
	assert_int_equal(r->tcps->tcps_state, TCP_STATE_FIN_WAIT_1);
	assert_int_equal(r->tcpls->tcps_state, TCP_STATE_ESTABLISHED);
	assert_string_equal(r->tcps->tcps_laddr, "fd00::1");
	assert_string_equal(r->tcps->tcps_raddr, "fd00::2");
	assert_int_equal(r->tcps->tcps_lport, 80);
	assert_int_equal(r->tcps->tcps_rport, 1234);
	assert_int_equal(r->tcps->tcps_retransmit, 0);

	/* A listener: no remote end, 0.0.0.0 and port 0. */
	tcp_sock(&s, fx->st, "10.0.0.1", 80, "0.0.0.0", 0);
	s.tcp.state = TCPS_LISTEN;
	r = fire_state(fx, &s, TCPS_CLOSED);
	assert_int_equal(r->tcps->tcps_state, TCP_STATE_LISTEN);
	assert_int_equal(r->tcpls->tcps_state, TCP_STATE_CLOSED);
	assert_string_equal(r->tcps->tcps_laddr, "10.0.0.1");
	assert_string_equal(r->tcps->tcps_raddr, "0.0.0.0");
	assert_int_equal(r->tcps->tcps_rport, 0);

	/* Nothing fires while nobody records. */
	probe_gate_update(fx->st);
	probe_tcp_state(fx->st, &s, TCPS_CLOSED);
	assert_int_equal(probe_record_count(), 1);
	fx_finish(fx);
}

/* udp send and receive with a socket: a connected one's ends are its
 * key's; one bound to the wildcard address and not connected takes the
 * datagram's where it has none. */
static void
test_udp_sock(void **state)
{
	struct unit_fx *fx = *state;
	static struct sonde_sock s;
	uint8_t h[8];

	host4(fx);
	for (unsigned fam = 0; fam < 2; fam++) {
		const char *us = fam ? "fd00::1" : "10.0.0.1", *them = fam ? "fd00::2" : "10.0.0.2";
		int af = fam ? AF_INET6 : AF_INET;

		for (unsigned connected = 0; connected < 2; connected++) {
			for (unsigned out = 0; out < 2; out++) {
				const struct probe_rec *r;
				struct rte_mbuf *m;

				memset(&s, 0, sizeof(s));
				s.cid = 99 + fam;
				s.proto = IPPROTO_UDP;
				s.af = fam ? 6 : 4;
				s.key.lport = htons(5353);
				if (connected) {
					assert_int_equal(inet_pton(af, us, s.key.laddr), 1);
					assert_int_equal(inet_pton(af, them, s.key.raddr), 1);
					s.key.rport = htons(53);
				}
				wire_put16(h, out ? 5353 : 53);
				wire_put16(h + 2, out ? 53 : 5353);
				wire_put16(h + 4, 8 + 5);
				wire_put16(h + 6, 0xbeef);
				m = out ? l4_mbuf(us, them, 17, h, 8, 5)
					: l4_mbuf(them, us, 17, h, 8, 5);
				rec_start(fx);
				probe_gate_update(fx->st);
				probe_udp(fx->st, out ? PROBE_UDP_SEND : PROBE_UDP_RECEIVE, m, &s);
				probe_record_stop();
				expect_fired(FIRED(out ? "udp:send" : "udp:receive"));
				r = rec(0);
				check_cs(r, &s);
				check_hdr(r, rte_pktmbuf_mtod(m, const uint8_t *));
				assert_int_equal(r->pkt->pkt_addr, (uintptr_t)m);
				assert_int_equal(r->pkt->pkt_len, (fam ? 40 : 20) + 8 + 5);
				assert_int_equal(r->udp->udp_sport, out ? 5353 : 53);
				assert_int_equal(r->udp->udp_dport, out ? 53 : 5353);
				assert_int_equal(r->udp->udp_length, 13);
				assert_int_equal(r->udp->udp_checksum, 0xbeef);
				assert_int_equal(r->udp->udp_hdr,
						 (uintptr_t)rte_pktmbuf_mtod_offset(
							 m, const uint8_t *, fam ? 40 : 20));
				assert_int_equal(r->udps->udps_addr, (uintptr_t)&s);
				assert_string_equal(r->udps->udps_laddr, us);
				assert_string_equal(r->udps->udps_raddr, them);
				assert_int_equal(r->udps->udps_lport, 5353);
				assert_int_equal(r->udps->udps_rport, 53);
				rte_pktmbuf_free(m);
			}
		}
	}
	fx_finish(fx);
}

/* The ip probes' csinfo_t: a packet of a socket (pkt_meta's conn) reports
 * the socket and its id. */
static void
test_cs_cid(void **state)
{
	struct unit_fx *fx = *state;
	static struct sonde_sock s;
	struct rte_mbuf *m;
	uint8_t h[8] = { 0 };

	host4(fx);
	memset(&s, 0, sizeof(s));
	s.cid = 0xfeedf00dull;
	m = l4_mbuf("10.0.0.1", "10.0.0.2", 17, h, 8, 0);
	pkt_meta(m)->conn = &s;
	rec_start(fx);
	probe_gate_update(fx->st);
	probe_write(fx->st, m, NULL);
	probe_record_stop();
	expect_fired(FIRED("ipv4:write"));
	check_cs(rec(0), &s);
	rte_pktmbuf_free(m);
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
		T(test_burst),	      T(test_burst_runs), T(test_nd),	     T(test_tcp_conn),
		T(test_tcp_no_conn),  T(test_tcp_state),  T(test_udp_sock),  T(test_cs_cid),
		T(test_udp_socket),
	};
	int r;

	unit_init("probe_fire");
	r = cmocka_run_group_tests_name("probe_fire", tests, NULL, NULL);
	unit_fini();
	return r;
}
