/*
 * test_ipv6.c: IPv6 input and the ICMPv6 a host answers with (stack/ip/ipv6.c,
 * stack/ip/icmp6.c, stack/transport/udp.c) on a dual-stack host with its addresses
 * preferred: RFC 8200 3 (version, payload length) and 4 (the extension
 * header walk: Hop-by-Hop only first, 4.2's option action bits, 4.4's
 * routing header with segments left, 4.7's no next header, an unknown next
 * header pointed at), RFC 5095 (type 0 routing headers), RFC 6946 (atomic
 * fragments), every truncation of a header chain, the chain limits; RFC
 * 4291 2.5/2.7 martian sources and destinations and the groups we join;
 * RFC 4443 4.1-4.2 echo (byte by byte, to a multicast group answered from
 * a unicast address), 3.1 port unreachable, 2.4(c) the quote's size, 2.4(e)
 * no error about an error, to a multicast destination or a non-unicast
 * source (but packet too big and parameter problem code 2), 2.4(f) the rate
 * limit on the fake clock, apart from ICMP's.
 */
#include <errno.h>
#include <string.h>

#include "ip.h"
#include "packets.h"
#include "unit.h"

/* Injects f on test0, polls, checks it was dropped as name and nothing
 * at all was sent. */
static void
expect_drop(struct unit_fx *fx, const struct frame *f, const char *name)
{
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f->b, f->len);
	fx_poll(fx);
	if (fx->link[0].n_tx != 0 || fx_delta(fx, name) != 1 || fx_drops_delta(fx) != 1) {
		fx_print_delta(fx);
		fail_msg("want one drop as %s and nothing sent: %u frames", name, fx->link[0].n_tx);
	}
}

/* Injects f (an echo request from A to one of ours) and checks the one
 * frame it brings: an echo reply from src to A, without extension headers,
 * hop limit 64, the request's class, a valid checksum, and the request's
 * identifier, sequence and data.  Clears the link. */
static void
expect_echo_reply(struct unit_fx *fx, const struct frame *f, const char *src, uint8_t tclass)
{
	struct unit_link *l = &fx->link[0];
	const uint8_t *req = f->b + ETH_HDR_LEN, *ip;
	size_t len, off, rlen = IPV6_HDR_LEN + wire_get16(req + 4);
	uint8_t nxt;

	off = ip6_upper(req, rlen, &nxt);
	assert_int_equal(nxt, IPPROTO_ICMPV6_);
	fx_snap(fx);
	fx_inject(fx, l, f->b, f->len);
	fx_poll(fx);
	if (l->n_tx != 1 || fx_drops_delta(fx) != 0) {
		fx_print_delta(fx);
		fail_msg("%u frames, want one echo reply", l->n_tx);
	}
	ip = tx_ipv6(l, 0, MAC_A, &len);
	assert_int_equal(len, IPV6_HDR_LEN + rlen - off);
	assert_int_equal(wire_get32(ip), 6u << 28 | (uint32_t)tclass << 20);
	assert_int_equal(ip[6], IPPROTO_ICMPV6_);
	assert_int_equal(ip[7], 64);
	assert_ip6(ip + 8, src);
	assert_memory_equal(ip + 24, req + 8, 16);
	assert_int_equal(ip[40], ICMP6_ECHO_REPLY);
	assert_int_equal(ip[41], 0);
	assert_int_equal(ref_cksum6(ip + 8, ip + 24, IPPROTO_ICMPV6_, ip + 40, len - 40), 0);
	assert_memory_equal(ip + 44, req + off + 4, rlen - off - 4);
	assert_int_equal(fx_delta(fx, "ipv6.in_delivered"), 1);
	assert_int_equal(fx_delta(fx, "icmp6.echo_replies"), 1);
	fx_tx_clear(l);
}

/* Injects f and checks the one frame it brings is a parameter problem
 * (code, pointer) to A quoting f's IPv6 packet whole, and one drop as
 * name. */
static void
expect_param_problem(struct unit_fx *fx, const struct frame *f, uint8_t code, uint32_t ptr,
		     const char *name)
{
	struct unit_link *l = &fx->link[0];

	fx_snap(fx);
	fx_inject(fx, l, f->b, f->len);
	fx_poll(fx);
	if (l->n_tx != 1) {
		fx_print_delta(fx);
		fail_msg("%u frames, want one parameter problem", l->n_tx);
	}
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_PARAM_PROB, code, ptr,
		       f->b + ETH_HDR_LEN, f->len - ETH_HDR_LEN);
	assert_one_drop(fx, name);
	assert_int_equal(fx_delta(fx, "icmp6.errors_out"), 1);
	fx_tx_clear(l);
}

/* Frame f with the Ethernet destination and IPv6 destination changed,
 * checksum fixed. */
static void
frame6_to(struct frame *f, const uint8_t *eth_dst, const char *dst)
{
	memcpy(f->b, eth_dst, 6);
	frame6_set_dst(f, dst);
}

static void
host(struct unit_fx *fx, const struct sonde_conf *conf)
{
	fx_host6(fx, conf);
	fx_learn6_a(fx);
}

/* RFC 4443 4.2: the reply, field by field. */
static void
test_ipv6_echo(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	host(fx, NULL);
	l = &fx->link[0];
	FRAME(&f, pkt6_echo_req);
	fx_snap(fx);
	expect_echo_reply(fx, &f, "fd00::1", 0);
	assert_int_equal(fx_delta(fx, "ipv6.in"), 1);
	assert_int_equal(fx_delta(fx, "ipv6.out"), 1);
	assert_int_equal(fx_delta(fx, "icmp6.in"), 1);
	assert_int_equal(fx_delta(fx, "icmp6.out"), 1);
	assert_int_equal(fx_delta(fx, "icmp6.errors_out"), 0);
	assert_int_equal(fx_delta(fx, "ipv4.in"), 0);

	/* The traffic class comes back; the flow label is the sender's own. */
	wire_put32(frame_ip(&f), 6u << 28 | 0xb8u << 20 | 0x12345);
	expect_echo_reply(fx, &f, "fd00::1", 0xb8);

	/* An odd-sized payload (the checksum's odd trailing byte). */
	FRAME(&f, pkt6_echo_req);
	frame6_resize(&f, 8 + 13);
	expect_echo_reply(fx, &f, "fd00::1", 0);

	/* Ethernet padding past the payload length is no part of it. */
	FRAME(&f, pkt6_echo_req);
	memset(f.b + f.len, 0x5a, 6);
	f.len += 6;
	expect_echo_reply(fx, &f, "fd00::1", 0);

	/* To all-nodes and to our solicited-node group: answered, from our
	 * unicast address (RFC 4443 4.2), in a unicast frame. */
	FRAME(&f, pkt6_echo_req);
	frame6_to(&f, MAC_ALLNODES, "ff02::1");
	expect_echo_reply(fx, &f, "fd00::1", 0);
	FRAME(&f, pkt6_echo_req);
	frame6_to(&f, MAC_SN1, "ff02::1:ff00:1");
	expect_echo_reply(fx, &f, "fd00::1", 0);

	/* Groups a host has not joined: all-routers, site-local all-nodes,
	 * another solicited-node group. */
	FRAME(&f, pkt6_echo_req);
	frame6_to(&f, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 2 }, "ff02::2");
	expect_drop(fx, &f, "drop.in.not-local");
	FRAME(&f, pkt6_echo_req);
	frame6_to(&f, MAC_ALLNODES, "ff05::1");
	expect_drop(fx, &f, "drop.in.not-local");
	FRAME(&f, pkt6_echo_req);
	frame6_to(&f, MAC_SN2, "ff02::1:ff00:2");
	expect_drop(fx, &f, "drop.in.not-local");
	assert_int_equal(l->n_tx, 0);
	fx_finish(fx);
}

/* RFC 8200 4.1-4.4, RFC 5095 3, RFC 6946: the headers a host walks past. */
static void
test_ipv6_ext_valid(void **state)
{
	static const struct {
		const uint8_t *p;
		size_t len;
	} ok[] = {
		{ pkt6_echo_hbh, sizeof(pkt6_echo_hbh) },
		{ pkt6_echo_dst, sizeof(pkt6_echo_dst) },
		{ pkt6_echo_rh, sizeof(pkt6_echo_rh) }, /* type 0, 0 left: ignored */
		{ pkt6_echo_atomic, sizeof(pkt6_echo_atomic) },
		{ pkt6_echo_chain, sizeof(pkt6_echo_chain) },
	};
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx, NULL);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		frame_init(&f, ok[i].p, ok[i].len);
		expect_echo_reply(fx, &f, "fd00::1", 0);
		/* An atomic fragment never waits for reassembly. */
		assert_int_equal(fx_delta(fx, "frag.in"), 0);
	}
	/* Router Alert (RFC 2711) then a 2-byte PadN; or six Pad1: skipped. */
	FRAME(&f, pkt6_echo_hbh);
	memcpy(frame_ip(&f) + 42, (const uint8_t[]){ 5, 2, 0, 0, 1, 0 }, 6);
	expect_echo_reply(fx, &f, "fd00::1", 0);
	memset(frame_ip(&f) + 42, 0, 6);
	expect_echo_reply(fx, &f, "fd00::1", 0);
	/* A routing type we do not know, nothing left to do: ignored too. */
	FRAME(&f, pkt6_echo_rh);
	frame_ip(&f)[42] = 4;
	expect_echo_reply(fx, &f, "fd00::1", 0);

	/* RFC 8200 4.7: nothing follows No Next Header, and what trails it
	 * is ignored: not delivered, no error. */
	FRAME(&f, pkt6_nonxt);
	expect_drop(fx, &f, "drop.in.no-next-header");
	assert_int_equal(fx_delta(fx, "ipv6.in_delivered"), 0);
	FRAME(&f, pkt6_proto253);
	frame_ip(&f)[6] = IPPROTO_NONE_;
	expect_drop(fx, &f, "drop.in.no-next-header");
	fx_finish(fx);
}

/* RFC 8200 4.1: Hop-by-Hop only right after the IPv6 header; elsewhere a
 * parameter problem (code 1) pointing at the next header field that named
 * it. */
static void
test_ipv6_hbh_not_first(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx, NULL);
	FRAME(&f, pkt6_hbh_second);
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_NEXTHEADER, 40,
			     "drop.in.hop-by-hop-not-first");
	/* Behind an atomic fragment: the fragment header's field. */
	FRAME(&f, pkt6_echo_atomic);
	frame_ip(&f)[40] = IPPROTO_HOPOPTS_;
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_NEXTHEADER, 40,
			     "drop.in.hop-by-hop-not-first");
	/* Two Hop-by-Hop headers: the second is not first. */
	FRAME(&f, pkt6_echo_hbh);
	frame_ip(&f)[40] = IPPROTO_HOPOPTS_;
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_NEXTHEADER, 40,
			     "drop.in.hop-by-hop-not-first");
	fx_finish(fx);
}

/* RFC 5095 3 / RFC 8200 4.4: a routing header of a type we do not do,
 * with segments left: parameter problem code 0 at its type field. */
static void
test_ipv6_routing_header(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx, NULL);
	FRAME(&f, pkt6_rh0);
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_HEADER, 42, "drop.in.routing-header-type-0");
	assert_int_equal(fx_stat(fx, "ipv6.forwarded"), 0);
	/* Type 2 (Mobile IPv6) and 4 (segment routing) alike, under their
	 * own reason. */
	frame_ip(&f)[42] = 2;
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_HEADER, 42, "drop.in.bad-routing-header");
	frame_ip(&f)[42] = 4;
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_HEADER, 42, "drop.in.bad-routing-header");
	/* After a Destination Options header: the pointer follows. */
	FRAME(&f, pkt6_echo_chain); /* HBH, DST, RH at 56 */
	frame_ip(&f)[56 + 3] = 1;
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_HEADER, 58, "drop.in.routing-header-type-0");
	fx_finish(fx);
}

/* RFC 8200 4.2: an unknown option's two high bits say what to do: 00
 * skip, 01 discard, 10 discard and report (even to multicast), 11 discard
 * and report unless the destination was multicast.  The pointer is the
 * option type's offset. */
static void
test_ipv6_unknown_options(void **state)
{
	static const struct {
		uint8_t type;
		bool mcast;
		int result; /* 0 reply, 1 silent drop, 2 parameter problem */
	} cases[] = {
		{ 0x1e, false, 0 }, { 0x5e, false, 1 }, { 0x9e, false, 2 }, { 0xde, false, 2 },
		{ 0x1e, true, 0 },  { 0x5e, true, 1 },	{ 0x9e, true, 2 },  { 0xde, true, 1 },
	};
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FRAME(&f, pkt6_opt);
		frame_ip(&f)[42] = cases[i].type;
		if (cases[i].mcast)
			frame6_to(&f, MAC_ALLNODES, "ff02::1");
		if (cases[i].result == 0)
			expect_echo_reply(fx, &f, "fd00::1", 0);
		else if (cases[i].result == 1)
			expect_drop(fx, &f, "drop.in.bad-option");
		else
			expect_param_problem(fx, &f, ICMP6_PARAMPROB_OPTION, 42,
					     "drop.in.bad-option");
	}
	/* The same in a Hop-by-Hop header. */
	FRAME(&f, pkt6_echo_hbh);
	memcpy(frame_ip(&f) + 42, (const uint8_t[]){ 0x9e, 4 }, 2);
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_OPTION, 42, "drop.in.bad-option");
	/* The second option of a header: the pointer follows. */
	FRAME(&f, pkt6_echo_hbh);
	memcpy(frame_ip(&f) + 42, (const uint8_t[]){ 0, 0x9e, 3 }, 3);
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_OPTION, 43, "drop.in.bad-option");
	/* An option longer than its header. */
	FRAME(&f, pkt6_echo_dst);
	frame_ip(&f)[43] = 5;
	expect_drop(fx, &f, "drop.in.ext-header-truncated");
	fx_finish(fx);
}

/* A chain that the payload length cuts short anywhere: every cut inside
 * the extension headers is ext-header-truncated, a cut at the upper layer
 * is that layer's; a frame shorter than its payload length is bad-length. */
static void
test_ipv6_truncated_chain(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;
	/* HBH, DST, RH, fragment, DST: 40 bytes, then 64 of ICMPv6. */
	const uint16_t chain = 40, plen = sizeof(pkt6_echo_chain) - ETH_HDR_LEN - 40;
	uint64_t in0;

	host(fx, NULL);
	in0 = fx_stat(fx, "ipv6.in");
	for (uint16_t n = 1; n < chain; n++) {
		FRAME(&f, pkt6_echo_chain);
		frame6_resize(&f, n);
		expect_drop(fx, &f, "drop.in.ext-header-truncated");
	}
	for (uint16_t n = chain; n < chain + ICMP_HDR_LEN; n++) {
		FRAME(&f, pkt6_echo_chain);
		frame6_resize(&f, n);
		expect_drop(fx, &f, "drop.in.icmp-truncated");
	}
	assert_int_equal(fx_stat(fx, "ipv6.in") - in0, chain - 1 + ICMP_HDR_LEN);
	/* The frame cut, the payload length as it was. */
	for (uint16_t n = 0; n < plen; n += 9) {
		FRAME(&f, pkt6_echo_chain);
		f.len = ETH_HDR_LEN + IPV6_HDR_LEN + n;
		expect_drop(fx, &f, "drop.in.bad-length");
	}
	/* Each header type cut at its own first byte. */
	FRAME(&f, pkt6_echo_rh);
	frame6_resize(&f, 3);
	expect_drop(fx, &f, "drop.in.ext-header-truncated");
	FRAME(&f, pkt6_echo_atomic);
	frame6_resize(&f, 7);
	expect_drop(fx, &f, "drop.in.ext-header-truncated");
	FRAME(&f, pkt6_echo_req);
	expect_echo_reply(fx, &f, "fd00::1", 0);
	fx_finish(fx);
}

/* RFC 8200 4: an unknown next header: parameter problem code 1 pointing
 * at the field that holds it. */
static void
test_ipv6_unknown_next_header(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx, NULL);
	FRAME(&f, pkt6_proto253);
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_NEXTHEADER, 6, "drop.in.unknown-protocol");
	/* Counted as delivered: it got to the upper layer's door. */
	assert_int_equal(fx_delta(fx, "ipv6.in_delivered"), 1);
	FRAME(&f, pkt6_dst_proto253);
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_NEXTHEADER, 40, "drop.in.unknown-protocol");
	/* At the end of the chain: the last header's field. */
	FRAME(&f, pkt6_echo_chain);
	frame_ip(&f)[72] = 253; /* the second DST header's next header */
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_NEXTHEADER, 72, "drop.in.unknown-protocol");
	fx_finish(fx);
}

/* Builds an echo request behind n Destination Options headers of len
 * bytes each (len a multiple of 8, options PadN). */
static void
dst_chain(struct frame *f, unsigned n, size_t len)
{
	const size_t icmp = sizeof(pkt6_echo_req) - ETH_HDR_LEN - IPV6_HDR_LEN;
	uint8_t *ip;
	size_t off = IPV6_HDR_LEN;

	FRAME(f, pkt6_echo_req);
	ip = frame_ip(f);
	assert_true(ETH_HDR_LEN + IPV6_HDR_LEN + n * len + icmp <= sizeof(f->b));
	memmove(ip + IPV6_HDR_LEN + n * len, pkt6_echo_req + ETH_HDR_LEN + IPV6_HDR_LEN, icmp);
	ip[6] = IPPROTO_DSTOPTS_;
	for (unsigned i = 0; i < n; i++, off += len) {
		memset(ip + off, 0, len);
		ip[off] = i + 1 < n ? IPPROTO_DSTOPTS_ : IPPROTO_ICMPV6_;
		ip[off + 1] = (uint8_t)(len / 8 - 1);
		/* PadN options of up to 257 bytes over the rest, a Pad1 (0)
		 * for a last odd byte. */
		for (size_t o = 2, left = len - 2; left > 1;) {
			size_t pad = RTE_MIN(left, (size_t)257);

			if (left - pad == 1)
				pad--;
			ip[off + o] = 1;
			ip[off + o + 1] = (uint8_t)(pad - 2);
			o += pad;
			left -= pad;
		}
	}
	wire_put16(ip + 4, (uint16_t)(n * len + icmp));
	f->len = ETH_HDR_LEN + IPV6_HDR_LEN + n * len + icmp;
	frame6_fix(f);
}

/* The walk is bounded: at most 15 extension headers (IPV6_MAX_EXT_HDRS
 * counts the upper layer's step too), the upper layer within 512 bytes. */
static void
test_ipv6_chain_limits(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx, NULL);
	dst_chain(&f, 15, 8);
	expect_echo_reply(fx, &f, "fd00::1", 0);
	dst_chain(&f, 16, 8);
	expect_drop(fx, &f, "drop.in.ext-header-chain-too-long");
	dst_chain(&f, 40, 8);
	expect_drop(fx, &f, "drop.in.ext-header-chain-too-long");
	/* One big header: the upper layer at 504 is fine, at 512 not. */
	dst_chain(&f, 1, 464);
	expect_echo_reply(fx, &f, "fd00::1", 0);
	dst_chain(&f, 1, 472);
	expect_drop(fx, &f, "drop.in.ext-header-chain-too-long");
	fx_finish(fx);
}

/* RFC 8200 3: every header error, none answered, none counted in. */
static void
test_ipv6_malformed(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx, NULL);
	for (size_t len = 0; len < IPV6_HDR_LEN; len++) {
		FRAME(&f, pkt6_echo_req);
		f.len = ETH_HDR_LEN + len;
		expect_drop(fx, &f, "drop.in.truncated");
	}
	for (unsigned v = 0; v < 16; v++) {
		if (v == 6)
			continue;
		FRAME(&f, pkt6_echo_req);
		frame_ip(&f)[0] = (uint8_t)(v << 4);
		expect_drop(fx, &f, "drop.in.bad-version");
	}
	/* An IPv4 packet in an IPv6 frame. */
	FRAME(&f, pkt_echo_req);
	wire_put16(f.b + 12, ETHERTYPE_IPV6);
	expect_drop(fx, &f, "drop.in.bad-version");
	/* Payload length 0 (a jumbogram, RFC 2675: not here), one past the
	 * frame, the largest. */
	FRAME(&f, pkt6_echo_req);
	wire_put16(frame_ip(&f) + 4, 0);
	expect_drop(fx, &f, "drop.in.bad-length");
	FRAME(&f, pkt6_echo_req);
	wire_put16(frame_ip(&f) + 4, (uint16_t)(f.len - ETH_HDR_LEN - IPV6_HDR_LEN + 1));
	expect_drop(fx, &f, "drop.in.bad-length");
	wire_put16(frame_ip(&f) + 4, 0xffff);
	expect_drop(fx, &f, "drop.in.bad-length");
	assert_int_equal(fx_stat(fx, "icmp6.errors_out"), 0);
	/* A wrong ICMPv6 checksum, or a pseudo-header that does not match it. */
	FRAME(&f, pkt6_echo_req);
	frame_ip(&f)[40 + 20] ^= 0x01;
	expect_drop(fx, &f, "drop.in.icmp-bad-checksum");
	FRAME(&f, pkt6_echo_req);
	memcpy(frame_ip(&f) + 8, ip6("fd00::3").a, 16);
	expect_drop(fx, &f, "drop.in.icmp-bad-checksum");
	fx_finish(fx);
}

/* RFC 4291 2.5.2-2.5.3, 2.7: sources no packet may come from, destinations
 * it may not go to; and a host takes only what is its own. */
static void
test_ipv6_martians(void **state)
{
	static const char *const bad_src[] = {
		"ff02::1", "ff0e::1", "::1", "fd00::1", "fe80::ff:fe00:1", /* ours */
	};
	static const char *const bad_dst[] = { "::1", "::" };
	static const char *const others[] = { "fd00::99", "fd01::1", "2001:db8::1",
					      "fe80::ff:fe00:99" };
	struct unit_fx *fx = *state;
	struct frame f;
	uint64_t icmp0;

	host(fx, NULL);
	icmp0 = fx_stat(fx, "icmp6.in");
	for (size_t i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		FRAME(&f, pkt6_echo_req);
		frame6_set_src(&f, bad_src[i]);
		expect_drop(fx, &f, "drop.in.bad-source");
		assert_int_equal(fx_delta(fx, "ipv6.in"), 1);
	}
	for (size_t i = 0; i < sizeof(bad_dst) / sizeof(bad_dst[0]); i++) {
		FRAME(&f, pkt6_echo_req);
		frame6_set_dst(&f, bad_dst[i]);
		expect_drop(fx, &f, "drop.in.bad-destination");
	}
	/* Not ours, and not a router: not even a time exceeded at hop limit 1. */
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		FRAME(&f, pkt6_udp);
		frame6_set_dst(&f, others[i]);
		expect_drop(fx, &f, "drop.in.not-local");
		frame_ip(&f)[7] = 1;
		expect_drop(fx, &f, "drop.in.not-local");
	}
	assert_int_equal(fx_stat(fx, "icmp6.in"), icmp0);
	assert_int_equal(fx_stat(fx, "ipv6.forwarded"), 0);
	/* Our link-local address answers, from itself: A's link-local is
	 * resolved first (RFC 4861 7.2.2). */
	FRAME(&f, pkt6_echo_req);
	frame6_set_src(&f, "fe80::ff:fe00:2");
	frame6_set_dst(&f, "fe80::ff:fe00:1");
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 1);
	tx_nd6(&fx->link[0], 0, MAC_SN2, ND_NEIGHBOR_SOLICIT, 0, "fe80::ff:fe00:1",
	       "ff02::1:ff00:2", "fe80::ff:fe00:2", ND_OPT_SOURCE_LINKADDR);
	fx_finish(fx);
}

/* RFC 4443 3.1, RFC 1122 4.1.3.1: a closed port; the quote capped at what
 * fits in 1280 bytes (2.4(c)). */
static void
test_ipv6_udp_port_unreachable(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	fx_inject(fx, l, pkt6_udp, sizeof(pkt6_udp));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_DST_UNREACH,
		       ICMP6_DST_UNREACH_NOPORT, 0, pkt6_udp + ETH_HDR_LEN,
		       sizeof(pkt6_udp) - ETH_HDR_LEN);
	assert_int_equal(fx_delta(fx, "udp.in"), 1);
	assert_int_equal(fx_delta(fx, "icmp6.errors_out"), 1);
	assert_one_drop(fx, "drop.in.udp-no-port");
	fx_tx_clear(l);

	/* 1400 bytes of datagram: 1232 of them quoted. */
	FRAME(&f, pkt6_udp);
	for (size_t i = ETH_HDR_LEN + 48; i < ETH_HDR_LEN + 1440; i++)
		f.b[i] = (uint8_t)(i * 13);
	frame6_resize(&f, 1400);
	fx_inject(fx, l, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_DST_UNREACH,
		       ICMP6_DST_UNREACH_NOPORT, 0, frame_ip(&f), 1280 - 48);
	fx_tx_clear(l);

	/* RFC 8200 8.1: a zero UDP checksum is not allowed over IPv6. */
	FRAME(&f, pkt6_udp);
	wire_put16(frame_ip(&f) + 46, 0);
	expect_drop(fx, &f, "drop.in.udp-bad-checksum");
	FRAME(&f, pkt6_udp);
	frame_ip(&f)[50] ^= 0x20;
	expect_drop(fx, &f, "drop.in.udp-bad-checksum");
	FRAME(&f, pkt6_udp);
	frame6_resize(&f, 7);
	expect_drop(fx, &f, "drop.in.udp-truncated");
	fx_finish(fx);
}

static const struct route_nh *
lookup6(struct unit_fx *fx, const char *dst)
{
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(dst, &p), 0);
	return route6_lookup(fx->st, p.addr.v6);
}

/* The destination cache's flags for dst (dst6: what the data path reads). */
static uint8_t
dst6_flags(struct unit_fx *fx, const char *dst)
{
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(dst, &p), 0);
	return dst6(fx->st, p.addr.v6, SONDE_IF_NONE)->flags;
}

/* The destination cache remembers "no route" too: every route added
 * afterwards must be seen at once, more specific or default. */
static void
test_ipv6_route_cache(void **state)
{
	struct unit_fx *fx = *state;
	const struct route_nh *nh;

	fx_host6(fx, NULL);
	assert_null(lookup6(fx, "fd09::5"));
	assert_false(dst6_flags(fx, "fd09::5") & DST_ROUTE);
	assert_false(dst6_flags(fx, "fd09::5") & DST_ROUTE); /* now from the cache */
	fx_route(fx, "::/0", "fd00::2");
	assert_true(dst6_flags(fx, "fd09::5") & DST_ROUTE);
	nh = lookup6(fx, "fd09::5");
	assert_non_null(nh);
	assert_int_equal(nh->gw6[15], 2);
	fx_route(fx, "fd09::/64", "fd00::3");
	nh = lookup6(fx, "fd09::5");
	assert_non_null(nh);
	assert_int_equal(nh->gw6[15], 3);
	/* On-link: the interface's own prefix, no gateway. */
	nh = lookup6(fx, "fd00::7");
	assert_non_null(nh);
	assert_true(ipv6_addr_is_unspecified(nh->gw6));
	/* Gone again: the default route removed, fd09::/64 stays. */
	struct sonde_prefix d;

	assert_int_equal(sonde_prefix_parse("::/0", &d), 0);
	assert_int_equal(sonde_route_del(fx->st, &d), 0);
	assert_int_equal(sonde_route_del(fx->st, &d), -ESRCH);
	assert_true(dst6_flags(fx, "fd09::5") & DST_ROUTE);
	assert_false(dst6_flags(fx, "fd0a::5") & DST_ROUTE);
	fx_finish(fx);
}

/* sonde_route_add(dst, gw) with dst "default" (AF_UNSPEC, 0/0): the
 * default route of the gateway's family, the other family's untouched;
 * "default6" (::/0) is IPv6 whatever the gateway. */
static void
test_ipv6_default_route(void **state)
{
	struct unit_fx *fx = *state;
	const struct route_nh *nh;
	struct sonde_prefix d, g;

	fx_host6(fx, NULL);
	assert_null(lookup6(fx, "fd09::5"));
	assert_null(route4_lookup(fx->st, ip4("8.8.8.8")));
	fx_route(fx, "default", "fd00::2");
	nh = lookup6(fx, "fd09::5");
	assert_non_null(nh);
	assert_int_equal(nh->gw6[15], 2);
	assert_null(route4_lookup(fx->st, ip4("8.8.8.8")));
	fx_route(fx, "default", "10.0.0.2");
	nh = route4_lookup(fx->st, ip4("8.8.8.8"));
	assert_non_null(nh);
	assert_int_equal(nh->gw4, ip4("10.0.0.2"));
	assert_int_equal(lookup6(fx, "fd09::5")->gw6[15], 2);
	fx_route(fx, "default6", "fd00::3");
	assert_int_equal(lookup6(fx, "fd09::5")->gw6[15], 3);

	/* Refused: "default6" via an IPv4 gateway, a gateway of no family,
	 * AF_UNSPEC with a prefix length, a gateway that is not on-link. */
	assert_int_equal(sonde_prefix_parse("default6", &d), 0);
	assert_int_equal(sonde_prefix_parse("10.0.0.3", &g), 0);
	assert_int_equal(sonde_route_add(fx->st, &d, &g), -EAFNOSUPPORT);
	assert_int_equal(sonde_prefix_parse("default", &d), 0);
	assert_int_equal(sonde_prefix_parse("default", &g), 0);
	assert_int_equal(sonde_route_add(fx->st, &d, &g), -EAFNOSUPPORT);
	assert_int_equal(sonde_prefix_parse("fd00::3", &g), 0);
	d.plen = 8;
	assert_int_equal(sonde_route_add(fx->st, &d, &g), -EINVAL);
	d.plen = 0;
	assert_int_equal(sonde_prefix_parse("fd08::1", &g), 0);
	assert_int_equal(sonde_route_add(fx->st, &d, &g), -ENETUNREACH);
	assert_int_equal(lookup6(fx, "fd09::5")->gw6[15], 3);
	assert_int_equal(route4_lookup(fx->st, ip4("8.8.8.8"))->gw4, ip4("10.0.0.2"));
	fx_finish(fx);
}

/* RFC 4443 2.4(e): no error about an ICMPv6 error or a redirect, to a
 * multicast destination (IP or link) unless packet too big or parameter
 * problem code 2, or to a source that names no single node. */
static void
test_ipv6_no_error_cases(void **state)
{
	static const struct {
		uint8_t type;
		unsigned errors;
	} about[] = {
		{ ICMP6_DST_UNREACH, 0 },
		{ ICMP6_PACKET_TOO_BIG, 0 },
		{ ICMP6_TIME_EXCEEDED, 0 },
		{ ICMP6_PARAM_PROB, 0 },
		{ 127, 0 },
		{ ND_REDIRECT, 0 },
		{ ICMP6_ECHO_REQUEST, 1 },
		{ ICMP6_ECHO_REPLY, 1 },
		{ 200, 1 },
	};
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	host(fx, NULL);
	l = &fx->link[0];
	/* An option asking for a report (action 10) in front of each type. */
	for (size_t i = 0; i < sizeof(about) / sizeof(about[0]); i++) {
		FRAME(&f, pkt6_opt);
		frame_ip(&f)[42] = 0x9e;
		frame_ip(&f)[48] = about[i].type;
		frame6_fix(&f);
		if (about[i].errors)
			expect_param_problem(fx, &f, ICMP6_PARAMPROB_OPTION, 42,
					     "drop.in.bad-option");
		else
			expect_drop(fx, &f, "drop.in.bad-option");
	}
	/* An error behind a 16-byte Hop-by-Hop header and an atomic fragment:
	 * the check walks each header by its own length. */
	FRAME(&f, pkt6_err_chain);
	expect_drop(fx, &f, "drop.in.bad-option");
	/* The same as an echo request: reported. */
	frame_ip(&f)[72] = ICMP6_ECHO_REQUEST;
	frame_ip(&f)[73] = 0;
	frame6_fix(&f);
	expect_param_problem(fx, &f, ICMP6_PARAMPROB_OPTION, 66, "drop.in.bad-option");

	/* UDP to a group, to us in a link-layer multicast frame, from ::. */
	FRAME(&f, pkt6_udp);
	frame6_to(&f, MAC_ALLNODES, "ff02::1");
	expect_drop(fx, &f, "drop.in.udp-no-port");
	FRAME(&f, pkt6_udp);
	memcpy(f.b, MAC_ALLNODES, 6);
	expect_drop(fx, &f, "drop.in.udp-no-port");
	FRAME(&f, pkt6_udp);
	frame6_set_src(&f, "::");
	expect_drop(fx, &f, "drop.in.udp-no-port");
	/* An unknown next header to a group or from ::. */
	FRAME(&f, pkt6_proto253);
	frame6_to(&f, MAC_ALLNODES, "ff02::1");
	expect_drop(fx, &f, "drop.in.unknown-protocol");
	FRAME(&f, pkt6_proto253);
	frame6_set_src(&f, "::");
	expect_drop(fx, &f, "drop.in.unknown-protocol");
	/* Hop-by-Hop not first, to a group: parameter problem code 1, none. */
	FRAME(&f, pkt6_hbh_second);
	frame6_to(&f, MAC_ALLNODES, "ff02::1");
	expect_drop(fx, &f, "drop.in.hop-by-hop-not-first");
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_stat(fx, "icmp6.ratelimited"), 0);
	fx_finish(fx);
}

/* Sends n UDP datagrams to a closed port at once; returns how many errors
 * came back (each checked). */
static unsigned
provoke(struct unit_fx *fx, unsigned n)
{
	struct unit_link *l = &fx->link[0];
	unsigned got;

	for (unsigned i = 0; i < n; i++)
		fx_inject(fx, l, pkt6_udp, sizeof(pkt6_udp));
	fx_poll(fx);
	got = l->n_tx;
	for (unsigned i = 0; i < got; i++)
		tx_icmp6_error(l, i, MAC_A, "fd00::1", "fd00::2", ICMP6_DST_UNREACH,
			       ICMP6_DST_UNREACH_NOPORT, 0, pkt6_udp + ETH_HDR_LEN,
			       sizeof(pkt6_udp) - ETH_HDR_LEN);
	fx_tx_clear(l);
	return got;
}

/* RFC 4443 2.4(f): a token bucket (icmp_burst 3, icmp_rate 10: a token per
 * 100 ms), its own, not ICMP's; echo replies never limited. */
static void
test_ipv6_ratelimit(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	host(fx, &(struct sonde_conf){ .icmp_rate = 10, .icmp_burst = 3 });
	fx_learn_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	assert_int_equal(provoke(fx, 10), 3);
	assert_int_equal(fx_delta(fx, "icmp6.ratelimited"), 7);
	assert_int_equal(fx_delta(fx, "icmp6.errors_out"), 3);
	assert_int_equal(fx_delta(fx, "drop.in.udp-no-port"), 10);
	fx_advance(fx, 100 * MS);
	assert_int_equal(provoke(fx, 2), 1);
	fx_advance(fx, 50 * MS);
	assert_int_equal(provoke(fx, 1), 0);
	fx_advance(fx, 50 * MS);
	assert_int_equal(provoke(fx, 1), 1);
	assert_int_equal(fx_delta(fx, "icmp6.ratelimited"), 9);

	/* IPv4's bucket is full still. */
	fx_inject(fx, l, pkt_udp, sizeof(pkt_udp));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT, 0,
		      pkt_udp + ETH_HDR_LEN, 40);
	fx_tx_clear(l);
	assert_int_equal(provoke(fx, 1), 0);

	/* Echo replies are not errors. */
	for (unsigned i = 0; i < 10; i++)
		fx_inject(fx, l, pkt6_echo_req, sizeof(pkt6_echo_req));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 10);
	fx_tx_clear(l);
	assert_int_equal(provoke(fx, 1), 0);

	/* A second fills the bucket, but only to its depth. */
	fx_advance(fx, 1 * SEC);
	assert_int_equal(provoke(fx, 5), 3);
	assert_int_equal(fx_delta(fx, "icmp6.ratelimited"), 13);
	assert_int_equal(fx_delta(fx, "icmp6.errors_out"), 8);
	assert_int_equal(fx_delta(fx, "icmp.ratelimited"), 0);
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_ipv6_echo),
		T(test_ipv6_ext_valid),
		T(test_ipv6_hbh_not_first),
		T(test_ipv6_routing_header),
		T(test_ipv6_unknown_options),
		T(test_ipv6_truncated_chain),
		T(test_ipv6_unknown_next_header),
		T(test_ipv6_chain_limits),
		T(test_ipv6_malformed),
		T(test_ipv6_martians),
		T(test_ipv6_udp_port_unreachable),
		T(test_ipv6_no_error_cases),
		T(test_ipv6_ratelimit),
		T(test_ipv6_route_cache),
		T(test_ipv6_default_route),
	};
#undef T
	int r;

	unit_init("ipv6");
	r = cmocka_run_group_tests_name("ipv6", tests, NULL, NULL);
	unit_fini();
	return r;
}
