/*
 * icmp.c: ICMP for IPv4 (RFC 792), with RFC 1122 3.2.2's rules for hosts
 * and RFC 1812 4.3.2's for routers: echo reply, destination unreachable,
 * time exceeded; errors rate-limited and never sent about an ICMP error, a
 * broadcast or multicast, a non-initial fragment or a non-unicast source.
 * Errors received about what we sent go to the transport that sent it
 * (st->ip_err).
 * Echo requests are answered a burst at a time, each turned around in its
 * own mbuf.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "ip.h"
#include "probes.h"
#include "stack.h"

/* RFC 1812 4.3.2.3: quote as much of the packet as fits in 576 bytes. */
#define ICMP_ERR_MAX 576
/* What of a received error's quote its transport sees: the IP header
 * with options (60) and more than the 8 bytes RFC 792 promises (RFC 1812
 * 4.3.2.3 routers quote more; TCP may read its options). */
#define ICMP_NOTIFY_MAX 128

/* Destination unreachable's codes as Linux maps them (icmp_err_convert[]):
 * the errno, and whether it is hard. */
static const struct {
	uint8_t err;
	bool hard;
} icmp_unreach_err[] = {
	{ ENETUNREACH, false },	 /* 0 net unreachable */
	{ EHOSTUNREACH, false }, /* 1 host unreachable */
	{ ENOPROTOOPT, true },	 /* 2 protocol unreachable */
	{ ECONNREFUSED, true },	 /* 3 port unreachable */
	{ EMSGSIZE, false },	 /* 4 fragmentation needed */
	{ EOPNOTSUPP, false },	 /* 5 source route failed */
	{ ENETUNREACH, true },	 /* 6 net unknown */
	{ EHOSTDOWN, true },	 /* 7 host unknown */
	{ ENONET, true },	 /* 8 host isolated */
	{ ENETUNREACH, true },	 /* 9 net prohibited */
	{ EHOSTUNREACH, true },	 /* 10 host prohibited */
	{ ENETUNREACH, false },	 /* 11 net unreachable for TOS */
	{ EHOSTUNREACH, false }, /* 12 host unreachable for TOS */
	{ EHOSTUNREACH, true },	 /* 13 administratively prohibited (RFC 1812) */
	{ EHOSTUNREACH, true },	 /* 14 host precedence violation */
	{ EHOSTUNREACH, true },	 /* 15 precedence cutoff */
};

static bool
icmp_type_is_error(uint8_t t)
{
	return t == ICMP_UNREACH || t == ICMP_SOURCEQUENCH || t == ICMP_REDIRECT ||
	       t == ICMP_TIMXCEED || t == ICMP_PARAMPROB;
}

/* An echo request turned into its reply, in place (RFC 792): 0 or why not. */
static int
icmp_echo(struct sonde_stack *st, struct rte_mbuf *m, uint8_t *p)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);

	/* RFC 1122 3.2.2.6 allows silence for broadcast echo; Linux's
	 * default too (icmp_echo_ignore_broadcasts). */
	if (pkt_meta(m)->flags & PKT_GROUP)
		return DROP_ICMP_BROADCAST;
	/* RFC 1122 3.2.1.3: 0.0.0.0 is never a destination. */
	if (wire_load32(ip + 12) == 0)
		return DROP_BAD_SOURCE;
	/* Only the type changes, and the checksum with it (RFC 1624). */
	p[0] = ICMP_ECHOREPLY;
	wire_put16(p + 2, wire_cksum_adjust_hi(wire_get16(p + 2), ICMP_ECHO, ICMP_ECHOREPLY));
	ipv4_turn(st, m);
	return 0;
}

/* e's errno and info for an error of type and code (rest: the header's
 * second word); false for one the transports are not told of. */
static bool
icmp_err_convert(uint8_t type, uint8_t code, uint32_t rest, struct ip_err *e)
{
	switch (type) {
	case ICMP_UNREACH:
		if (code >= RTE_DIM(icmp_unreach_err))
			return false;
		e->err = icmp_unreach_err[code].err;
		e->hard = icmp_unreach_err[code].hard;
		/* RFC 1191 4: the next-hop MTU in the low 16 bits. */
		e->info = code == ICMP_UNREACH_NEEDFRAG ? rest & 0xffff : 0;
		return true;
	case ICMP_TIMXCEED: e->err = EHOSTUNREACH; return true;
	case ICMP_PARAMPROB:
		e->err = EPROTO;
		e->hard = true;
		e->info = rest >> 24; /* RFC 792: the pointer */
		return true;
	default: return false; /* source quench (RFC 6633), redirect: not the transport's */
	}
}

/* An error about a packet we sent (m: the ICMP message at off, len
 * bytes), to the handler of the quoted packet's protocol (RFC 1122
 * 3.2.2.1: "MUST be passed to the transport layer"). */
static void
icmp_notify(struct sonde_stack *st, const struct rte_mbuf *m, uint32_t off, uint32_t len,
	    const struct icmp_view *ic)
{
	uint8_t buf[ICMP_NOTIFY_MAX];
	struct ip_err e = { .af = 4, .type = ic->type, .code = ic->code };
	const uint8_t *q;
	uint32_t src;
	ip_err_fn fn;

	if (len < ICMP_HDR_LEN + IPV4_MIN_HDR_LEN + 8)
		return;
	e.len = RTE_MIN(len - ICMP_HDR_LEN, (uint32_t)sizeof(buf));
	q = rte_pktmbuf_read(m, off + ICMP_HDR_LEN, e.len, buf);
	if (q == NULL || q[0] >> 4 != 4)
		return;
	e.l4_off = (q[0] & 0xfu) * 4;
	/* RFC 792: the header and 64 bits of the datagram, the first fragment's
	 * (a later one has no transport header), from one of our addresses. */
	if (e.l4_off < IPV4_MIN_HDR_LEN || e.len < e.l4_off + 8 ||
	    (wire_get16(q + 6) & IPV4_OFFSET_MASK) != 0)
		return;
	src = wire_load32(q + 12);
	if (!ipv4_is_local(st, src) && !IN_LOOPBACK_H(rte_be_to_cpu_32(src)))
		return;
	fn = st->ip_err[0][q[9]];
	if (fn == NULL || !icmp_err_convert(ic->type, ic->code, ic->rest, &e))
		return;
	e.ip = q;
	fn(st, &e);
}

static void
icmp_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	struct ip_out out;
	uint16_t replies = 0; /* counted once a burst: the loop keeps no counter in memory */

	ip_out_init(&out);
	st->stats.icmp_in += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *p = pkt_l4(m);
		uint32_t off = pkt_meta(m)->l3_len, len = pkt_l4_len(m);
		struct icmp_view ic;
		uint16_t sum;
		int r;

		r = wire_icmp_parse_hdr(p, rte_pktmbuf_data_len(m) - off, &ic);
		/* Over the whole message: a reassembled one is a chain of mbufs. */
		if (r == 0 && (pkt_sum(m, off, len, 0, &sum) != 0 || sum != 0xffff))
			r = DROP_ICMP_BAD_CHECKSUM;
		if (r == 0 && ic.type == ICMP_ECHO) {
			r = icmp_echo(st, m, p);
			if (r == 0) {
				replies++;
				ipv4_out_add(st, &out, m);
				continue;
			}
		}
		if (r) {
			pkt_drop(st, m, (enum drop_reason)r);
			continue;
		}
		if (icmp_type_is_error(ic.type))
			icmp_notify(st, m, off, len, &ic);
		/* Replies end here until sockets can take them. */
		rte_pktmbuf_free(m);
	}
	st->stats.icmp_echo_replies += replies;
	st->stats.icmp_out += replies;
	ip_out_send(st, &out, 4);
}

static bool
icmp_error_allowed(struct sonde_stack *st, const struct rte_mbuf *m, const uint8_t *h, uint32_t len)
{
	const struct pkt_meta *pm = pkt_meta_c(m);
	const struct sonde_if *inif = stack_if(st, pm->ifindex);
	uint32_t src, dst, hs, hd;
	uint8_t ihl;

	if (len < IPV4_MIN_HDR_LEN || (pm->flags & PKT_GROUP))
		return false;
	ihl = (uint8_t)((h[0] & 0xf) * 4);
	memcpy(&src, h + 12, 4);
	memcpy(&dst, h + 16, 4);
	hs = rte_be_to_cpu_32(src);
	hd = rte_be_to_cpu_32(dst);
	if (hs == 0 || hs == 0xffffffff || (hs >> 28) == 0xe || (hs >> 24) == 127 ||
	    ipv4_is_broadcast(st, inif, src))
		return false;
	if ((hd >> 28) == 0xe || ipv4_is_broadcast(st, inif, dst))
		return false;
	if (wire_get16(h + 6) & IPV4_OFFSET_MASK)
		return false;
	if (h[9] == IPPROTO_ICMP_ && (len <= ihl || icmp_type_is_error(h[ihl])))
		return false;
	return true;
}

void
icmp_error(struct sonde_stack *st, const struct rte_mbuf *m, uint8_t type, uint8_t code,
	   uint32_t info)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct icmp_view ic = { .type = type, .code = code, .rest = info };
	struct rte_mbuf *e;
	const void *q;
	uint32_t quote, src, dst;
	uint8_t *p;

	if (!icmp_error_allowed(st, m, h, rte_pktmbuf_data_len(m)))
		return;
	if (!ratelimit_ok(&st->icmp_rl, st->now)) {
		st->stats.icmp_ratelimited++;
		return;
	}
	e = rte_pktmbuf_alloc(st->pool);
	if (e == NULL)
		return;
	quote = RTE_MIN(len, (uint32_t)(ICMP_ERR_MAX - IPV4_MIN_HDR_LEN - ICMP_HDR_LEN));
	p = (uint8_t *)rte_pktmbuf_append(e, (uint16_t)(ICMP_HDR_LEN + quote));
	if (p == NULL) {
		rte_pktmbuf_free(e);
		return;
	}
	q = rte_pktmbuf_read(m, 0, quote, p + ICMP_HDR_LEN);
	if (q == NULL) {
		rte_pktmbuf_free(e);
		return;
	}
	if (q != p + ICMP_HDR_LEN)
		memcpy(p + ICMP_HDR_LEN, q, quote);
	wire_icmp_emit(p, ICMP_HDR_LEN + quote, &ic);
	memcpy(&src, h + 12, 4);
	memcpy(&dst, h + 16, 4);
	st->stats.icmp_errors_out++;
	st->stats.icmp_out++;
	/* From the address the packet was sent to when it is ours, else from
	 * the interface it came in on (RFC 1812 4.3.2.4). */
	ipv4_output(st, e,
		    ipv4_is_local(st, dst)
			    ? dst
			    : ipv4_if_addr(stack_if(st, pkt_meta_c(m)->ifindex), src),
		    src, IPPROTO_ICMP_, 64, 0);
}

int
sonde_ping(struct sonde_stack *st, const struct sonde_prefix *dst, uint16_t id, uint16_t seq,
	   uint16_t len)
{
	struct icmp_view ic = { .type = ICMP_ECHO, .rest = (uint32_t)id << 16 | seq };
	struct rte_mbuf *m;
	struct sonde_if *ifp;
	uint8_t src[16], nh[16];
	uint16_t ck;
	uint8_t *p;

	if (dst->af != AF_INET && dst->af != AF_INET6)
		return -EAFNOSUPPORT;
	probe_gate_update(st);
	m = rte_pktmbuf_alloc(st->pool);
	if (m == NULL)
		return -ENOBUFS;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ICMP_HDR_LEN + len));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	for (uint16_t i = 0; i < len; i++)
		p[ICMP_HDR_LEN + i] = (uint8_t)(0x10 + i);
	if (dst->af == AF_INET) {
		wire_icmp_emit(p, ICMP_HDR_LEN + len, &ic);
		st->stats.icmp_out++;
		return ipv4_output(st, m, 0, dst->addr.v4, IPPROTO_ICMP_, 64, 0);
	}
	/* As IPv4: with no route or no source address, the request is
	 * built from :: and IP drops it (drop-out, no-route or no-source). */
	ifp = ipv6_route(st, dst->addr.v6, -1, nh);
	if (ifp == st->lo)
		memcpy(src, dst->addr.v6, 16);
	else if (ifp == NULL || !ipv6_select_source(ifp, dst->addr.v6, src))
		memset(src, 0, 16);
	ic.type = ICMP6_ECHO_REQUEST;
	wire_icmp_emit(p, ICMP_HDR_LEN + len, &ic); /* then the pseudo-header: */
	wire_put16(p + 2, 0);
	ck = (uint16_t)~__rte_raw_cksum_reduce(
		wire_pseudo6_sum(src, dst->addr.v6, ICMP_HDR_LEN + len, IPPROTO_ICMPV6_) +
		rte_raw_cksum(p, ICMP_HDR_LEN + len));
	wire_put16(p + 2, rte_be_to_cpu_16(ck));
	st->stats.icmp6_out++;
	return ipv6_output(st, m, src, dst->addr.v6, IPPROTO_ICMPV6_, 64, 0, -1);
}

static int
icmp_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	st->icmp_rl.rate = conf->icmp_rate ? conf->icmp_rate : 100;
	st->icmp_rl.burst = conf->icmp_burst ? conf->icmp_burst : 50;
	st->icmp_rl.tokens_ns = (1000000000ull / st->icmp_rl.rate) * st->icmp_rl.burst;
	st->icmp6_rl = st->icmp_rl;
	return proto_ip_register(st, 4, IPPROTO_ICMP_, icmp_input);
}

const struct sonde_layer icmp_layer = {
	.name = "icmp",
	.init = icmp_init,
};
