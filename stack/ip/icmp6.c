/*
 * icmp6.c: ICMPv6 (RFC 4443): echo, the errors (destination unreachable,
 * packet too big, time exceeded, parameter problem) with 2.4(e)'s rules and
 * 2.4(f)'s rate limit, and path MTU from packet too big (RFC 8201).
 * Errors received about what we sent go to the transport that sent it
 * (st->ip_err).  Other types go to the handler registered for them:
 * Neighbor Discovery's (nd6.c).
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "ip.h"
#include "stack.h"

/* RFC 4443 2.4(c): as much of the packet as fits in the minimum MTU. */
#define ICMP6_ERR_MAX 1280
#define IPV6_MIN_MTU 1280
#define PMTU6_EXPIRE_NS (600ull * 1000000000ull) /* RFC 8201 5.3: ten minutes */

/* The ICMPv6 checksum of the len bytes at off in m, with the pseudo-header:
 * 0 when it verifies.  Works on segmented (reassembled) packets. */
static uint16_t
icmp6_cksum(const struct rte_mbuf *m, uint32_t off, uint32_t len, const uint8_t *src,
	    const uint8_t *dst)
{
	uint16_t sum;

	if (pkt_sum(m, off, len, wire_pseudo6_sum(src, dst, len, IPPROTO_ICMPV6_), &sum) != 0)
		return 0xffff;
	return (uint16_t)~sum;
}

/* RFC 8201 4: remember a smaller path MTU, never below 1280. */
static void
icmp6_packet_too_big(struct sonde_stack *st, const uint8_t *p, uint32_t len)
{
	uint32_t mtu = wire_get32(p + 4);

	if (len < ICMP_HDR_LEN + IPV6_HDR_LEN)
		return;
	pmtu6_set(st, p + ICMP_HDR_LEN + 24, RTE_MAX(mtu, (uint32_t)IPV6_MIN_MTU));
}

/* An echo request turned into its reply in place: 0 or why not. */
static int
icmp6_echo(struct sonde_stack *st, struct rte_mbuf *m)
{
	uint8_t *p = pkt_l4(m);
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	struct sonde_if *inif = stack_if(st, pkt_meta(m)->ifindex);
	uint8_t src[16];
	uint16_t ck;

	/* RFC 4291 2.5.2: :: is never a destination. */
	if (ipv6_addr_is_unspecified(ip + 8))
		return DROP_BAD_SOURCE;
	/* RFC 4443 4.2: a reply to a multicast request comes from a unicast
	 * address of the interface it arrived on. */
	if (ipv6_addr_is_multicast(ip + 24) && !ipv6_select_source(inif, ip + 8, src))
		return DROP_NO_SOURCE;
	p[0] = ICMP6_ECHO_REPLY;
	if (!ipv6_addr_is_multicast(ip + 24)) {
		/* The pseudo-header sum does not see source and destination
		 * swap; only the type changes (RFC 1624). */
		wire_put16(p + 2, wire_cksum_adjust_hi(wire_get16(p + 2), ICMP6_ECHO_REQUEST,
						       ICMP6_ECHO_REPLY));
		ipv6_turn(st, m, NULL);
		return 0;
	}
	ipv6_turn(st, m, src);
	/* Both moved, if there were extension headers. */
	ip = rte_pktmbuf_mtod(m, const uint8_t *);
	p = pkt_l4(m);
	p[2] = p[3] = 0;
	ck = icmp6_cksum(m, IPV6_HDR_LEN, pkt_l4_len(m), ip + 8, ip + 24);
	wire_put16(p + 2, rte_be_to_cpu_16(ck));
	return 0;
}

/* The upper layer of IPv6 packet h (len bytes of it, at least its fixed
 * header): its header's offset, its protocol in *nxtp.  The walk stops at
 * the 16th extension header, at one that does not fit in len (*nxtp the
 * extension header's type then), and at the fragment header of a later
 * fragment (IPPROTO_FRAGMENT_), which holds no upper-layer header. */
static uint32_t
icmp6_upper(const uint8_t *h, uint32_t len, uint8_t *nxtp)
{
	uint32_t off = IPV6_HDR_LEN, hl;
	uint8_t nxt = h[6];

	for (int n = 0; n < 16 && off + 2 <= len; n++) {
		if (nxt != IPPROTO_HOPOPTS_ && nxt != IPPROTO_ROUTING_ && nxt != IPPROTO_DSTOPTS_ &&
		    nxt != IPPROTO_FRAGMENT_)
			break;
		if (nxt == IPPROTO_FRAGMENT_ &&
		    (off + 4 > len || (wire_get16(h + off + 2) & 0xfff8) != 0))
			break;
		/* This header's length, by this header's type. */
		hl = nxt == IPPROTO_FRAGMENT_ ? 8u : (h[off + 1] + 1u) * 8;
		nxt = h[off];
		off += hl;
	}
	*nxtp = nxt;
	return off;
}

/* ICMPv6 errors as Linux maps them (icmpv6_err_convert): e's errno and
 * info; false for a code the transports are not told of. */
static bool
icmp6_err_convert(uint8_t type, uint8_t code, uint32_t rest, struct ip_err *e)
{
	/* Destination unreachable: no route, administratively prohibited,
	 * beyond scope, address unreachable, port unreachable, source
	 * address failed policy, reject route (RFC 4443 3.1). */
	static const uint8_t unreach[] = { ENETUNREACH,	 EACCES, EHOSTUNREACH, EHOSTUNREACH,
					   ECONNREFUSED, EACCES, EACCES };

	switch (type) {
	case ICMP6_DST_UNREACH:
		if (code >= RTE_DIM(unreach))
			return false;
		e->err = unreach[code];
		e->hard = unreach[code] == EACCES || unreach[code] == ECONNREFUSED;
		return true;
	case ICMP6_PACKET_TOO_BIG:
		e->err = EMSGSIZE;
		e->hard = true;
		e->info = rest; /* RFC 4443 3.2: the MTU */
		return true;
	case ICMP6_TIME_EXCEEDED: e->err = EHOSTUNREACH; return true;
	case ICMP6_PARAM_PROB:
		e->err = EPROTO;
		e->hard = true;
		e->info = rest; /* RFC 4443 3.4: the pointer */
		return true;
	default: return false;
	}
}

/* An error about a packet we sent (p: the message, len bytes of it in the
 * first segment), to the handler of the quoted packet's upper layer
 * (RFC 4443 3: the upper-layer process is notified). */
static void
icmp6_notify(struct sonde_stack *st, const uint8_t *p, uint32_t len)
{
	struct ip_err e = { .af = 6, .type = p[0], .code = p[1] };
	const uint8_t *q = p + ICMP_HDR_LEN;
	uint8_t nxt;
	ip_err_fn fn;

	if (len < ICMP_HDR_LEN + IPV6_HDR_LEN + 8 || q[0] >> 4 != 6)
		return;
	e.len = len - ICMP_HDR_LEN;
	e.l4_off = icmp6_upper(q, e.len, &nxt);
	/* The upper-layer header and 8 bytes of it quoted, from one of ours. */
	if (e.len < e.l4_off + 8 || (!ipv6_is_local(st, q + 8) && !ipv6_addr_is_loopback(q + 8)))
		return;
	fn = st->ip_err[1][nxt];
	if (fn == NULL || !icmp6_err_convert(p[0], p[1], wire_get32(p + 4), &e))
		return;
	e.ip = q;
	fn(st, &e);
}

static void
icmp6_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	struct ip_out out;
	uint16_t replies = 0;

	ip_out_init(&out);
	st->stats.icmp6_in += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *), *p = pkt_l4(m);
		uint32_t off = pkt_meta(m)->l3_len, len = pkt_l4_len(m);
		pkt_one_fn fn;
		int r;

		if (len < ICMP_HDR_LEN || rte_pktmbuf_data_len(m) < off + ICMP_HDR_LEN) {
			pkt_drop(st, m, DROP_ICMP_TRUNCATED);
			continue;
		}
		/* Inline for a message in one segment (every echo): the
		 * pseudo-header's sum and the message's, folded. */
		if (likely(off + len <= rte_pktmbuf_data_len(m))
			    ? wire_sum_fold(wire_sum(p, len,
						     wire_pseudo6_sum(ip + 8, ip + 24, len,
								      IPPROTO_ICMPV6_))) != 0xffff
			    : icmp6_cksum(m, off, len, ip + 8, ip + 24) != 0) {
			pkt_drop(st, m, DROP_ICMP_BAD_CHECKSUM);
			continue;
		}
		if (p[0] == ICMP6_ECHO_REQUEST) {
			r = icmp6_echo(st, m);
			if (r == 0) {
				ipv6_out_add(st, &out, m);
				replies++;
			} else {
				pkt_drop(st, m, (enum drop_reason)r);
			}
			continue;
		}
		fn = st->icmp6_types[p[0]];
		if (fn != NULL) {
			fn(st, m);
			continue;
		}
		if (p[0] == ICMP6_PACKET_TOO_BIG)
			icmp6_packet_too_big(st, p, rte_pktmbuf_data_len(m) - off);
		if (p[0] < 128)
			icmp6_notify(st, p, RTE_MIN(len, rte_pktmbuf_data_len(m) - off));
		/* Replies end here until sockets can take them. */
		rte_pktmbuf_free(m);
	}
	st->stats.icmp6_echo_replies += replies;
	st->stats.icmp6_out += replies;
	ip_out_send(st, &out, 6);
}

int
icmp6_register(struct sonde_stack *st, uint8_t type, pkt_one_fn fn)
{
	if (fn == NULL)
		return -EINVAL;
	if (st->icmp6_types[type] != NULL)
		return -EEXIST;
	st->icmp6_types[type] = fn;
	return 0;
}

static bool
icmp6_error_allowed(struct sonde_stack *st, const struct rte_mbuf *m, const uint8_t *h,
		    uint32_t len, uint8_t type, uint8_t code)
{
	const uint8_t *src = h + 8, *dst = h + 24;
	bool mcast_ok = type == ICMP6_PACKET_TOO_BIG ||
			(type == ICMP6_PARAM_PROB && code == ICMP6_PARAMPROB_OPTION);
	uint32_t off;
	uint8_t nxt;

	if (len < IPV6_HDR_LEN)
		return false;
	/* RFC 4443 2.4(e): not to a multicast or link-layer multicast
	 * destination (but for 2 exceptions), not from an address that does
	 * not name one node. */
	if ((ipv6_addr_is_multicast(dst) || (pkt_meta_c(m)->flags & PKT_GROUP)) && !mcast_ok)
		return false;
	if (ipv6_addr_is_unspecified(src) || ipv6_addr_is_multicast(src))
		return false;
	/* Not about an ICMPv6 error or a redirect. */
	off = icmp6_upper(h, len, &nxt);
	if (nxt == IPPROTO_ICMPV6_ && off + 2 <= len && (h[off] < 128 || h[off] == ND_REDIRECT))
		return false;
	if (!ratelimit_ok(&st->icmp6_rl, st->now)) {
		st->stats.icmp6_ratelimited++;
		return false;
	}
	return true;
}

void
icmp6_error(struct sonde_stack *st, const struct rte_mbuf *m, uint8_t type, uint8_t code,
	    uint32_t info)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct sonde_if *inif = stack_if(st, pkt_meta_c(m)->ifindex);
	struct rte_mbuf *e;
	uint8_t src[16], dst[16];
	const void *q;
	uint32_t quote;
	uint8_t *p;
	uint16_t ck;

	if (rte_pktmbuf_data_len(m) < IPV6_HDR_LEN ||
	    !icmp6_error_allowed(st, m, h, rte_pktmbuf_data_len(m), type, code))
		return;
	memcpy(dst, h + 8, 16);
	/* From the address the packet was sent to when it is ours and unicast. */
	if (!ipv6_addr_is_multicast(h + 24) && ipv6_is_local(st, h + 24))
		memcpy(src, h + 24, 16);
	else if (!ipv6_select_source(inif, dst, src))
		return;
	e = rte_pktmbuf_alloc(st->pool);
	if (e == NULL)
		return;
	quote = RTE_MIN(len, (uint32_t)(ICMP6_ERR_MAX - IPV6_HDR_LEN - ICMP_HDR_LEN));
	p = (uint8_t *)rte_pktmbuf_append(e, (uint16_t)(ICMP_HDR_LEN + quote));
	q = p ? rte_pktmbuf_read(m, 0, quote, p + ICMP_HDR_LEN) : NULL;
	if (q == NULL) {
		rte_pktmbuf_free(e);
		return;
	}
	if (q != p + ICMP_HDR_LEN)
		memcpy(p + ICMP_HDR_LEN, q, quote);
	p[0] = type;
	p[1] = code;
	wire_put16(p + 2, 0);
	wire_put32(p + 4, info);
	ck = icmp6_cksum(e, 0, ICMP_HDR_LEN + quote, src, dst);
	wire_put16(p + 2, rte_be_to_cpu_16(ck));
	st->stats.icmp6_errors_out++;
	st->stats.icmp6_out++;
	ipv6_output(st, e, src, dst, IPPROTO_ICMPV6_, 64, 0,
		    inif && inif != st->lo ? inif->index : -1);
}

/* The path MTU cache: direct-mapped, bounded, entries expire (RFC 8201
 * 5.3) by a timer each, which then tells the destination cache. */
static struct pmtu6_entry *
pmtu6_slot(struct sonde_stack *st, const uint8_t *dst)
{
	return &st->pmtu6[dst_hash6(dst) % SONDE_PMTU6_SLOTS];
}

uint32_t
pmtu6_get(struct sonde_stack *st, const uint8_t *dst)
{
	struct pmtu6_entry *e = pmtu6_slot(st, dst);

	if (e->expires > st->now && ipv6_addr_eq(e->dst, dst))
		return e->mtu;
	return UINT32_MAX;
}

static void
pmtu6_expire(struct timer *t, void *ctx)
{
	struct pmtu6_entry *e = container_of(t, struct pmtu6_entry, timer);

	e->expires = 0;
	dst_invalidate(ctx);
}

void
pmtu6_set(struct sonde_stack *st, const uint8_t *dst, uint32_t mtu)
{
	struct pmtu6_entry *e = pmtu6_slot(st, dst);

	if (e->expires > st->now && ipv6_addr_eq(e->dst, dst) && e->mtu <= mtu)
		return;
	memcpy(e->dst, dst, 16);
	e->mtu = mtu;
	e->expires = st->now + PMTU6_EXPIRE_NS;
	timer_arm(&st->wheel, &e->timer, e->expires);
	st->stats.pmtu6_updates++;
	dst_invalidate(st); /* the destination cache holds path MTUs */
}

static void
icmp6_fini(struct sonde_stack *st)
{
	for (unsigned i = 0; i < SONDE_PMTU6_SLOTS; i++)
		timer_cancel(&st->wheel, &st->pmtu6[i].timer);
}

static int
icmp6_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	for (unsigned i = 0; i < SONDE_PMTU6_SLOTS; i++)
		timer_init(&st->pmtu6[i].timer, pmtu6_expire);
	return proto_ip_register(st, 6, IPPROTO_ICMPV6_, icmp6_input);
}

const struct sonde_layer icmp6_layer = {
	.name = "icmp6",
	.init = icmp6_init,
	.fini = icmp6_fini,
};
