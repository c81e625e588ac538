/*
 * nd6.c: IPv6 Neighbor Discovery (RFC 4861) and Duplicate Address
 * Detection (RFC 4862 5.4).
 *
 * Neighbour solicitations and advertisements drive the shared neighbour
 * table (neigh.c) per RFC 4861 7.2; every message is checked as 7.1 asks
 * (hop limit 255, code 0, lengths, option lengths) and dropped with a reason
 * when it fails.  As a host sonde ignores router solicitations and, for
 * now, router advertisements and redirects (counted).
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "ip.h"
#include "link.h"
#include "neigh.h"
#include "stack.h"

#define ND_NS_LEN 24		/* type, code, cksum, reserved, target */
#define ND_DAD_NS 1000000000ull /* RetransTimer between DAD probes */

static const uint8_t ipv6_unspec[16];

/* Builds an NS or NA: type, the 4-byte flags/reserved word, the target and
 * one link-layer address option (type opt) with our MAC, if opt != 0. */
static void
nd6_send(struct sonde_stack *st, struct sonde_if *ifp, uint8_t type, uint32_t flags,
	 const uint8_t *target, uint8_t opt, const uint8_t *src, const uint8_t *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	uint32_t len = ND_NS_LEN + (opt ? 8 : 0);
	uint32_t sum;
	uint16_t body, ck;
	uint8_t *p;

	if (m == NULL)
		return;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) { /* a pool whose buffers cannot hold 32 bytes */
		rte_pktmbuf_free(m);
		return;
	}
	memset(p, 0, len);
	p[0] = type;
	wire_put32(p + 4, flags);
	memcpy(p + 8, target, 16);
	if (opt) {
		p[24] = opt;
		p[25] = 1;
		memcpy(p + 26, ifp->mac, ETH_ADDR_LEN);
	}
	sum = wire_pseudo6_sum(src, dst, len, IPPROTO_ICMPV6_);
	body = rte_raw_cksum(p, len);
	ck = (uint16_t)~__rte_raw_cksum_reduce(sum + body);
	wire_put16(p + 2, rte_be_to_cpu_16(ck));
	if (type == ND_NEIGHBOR_SOLICIT)
		st->stats.nd_ns_out++;
	else
		st->stats.nd_na_out++;
	st->stats.icmp6_out++;
	/* RFC 4861 7.1: hop limit 255 proves the packet never left the link. */
	ipv6_output(st, m, src, dst, IPPROTO_ICMPV6_, 255, 0, ifp->index);
}

/* The neigh_family solicit hook: multicast to the solicited-node group, or
 * unicast to the cached MAC when probing reachability (RFC 4861 7.2.2). */
static void
nd6_solicit(struct sonde_stack *st, struct sonde_if *ifp, const struct neigh_entry *e,
	    const uint8_t *mac)
{
	uint8_t src[16], dst[16];

	if (!ipv6_select_source(ifp, e->key.addr, src))
		return;
	if (mac)
		memcpy(dst, e->key.addr, 16);
	else
		ipv6_solicited_node(dst, e->key.addr);
	nd6_send(st, ifp, ND_NEIGHBOR_SOLICIT, 0, e->key.addr, ND_OPT_SOURCE_LINKADDR, src, dst);
}

const struct neigh_family nd6_family = {
	.solicit = nd6_solicit,
	.drop_unresolved = DROP_ND_TIMEOUT,
	.drop_queue_full = DROP_ND_QUEUE_FULL,
	.drop_table_full = DROP_ND_TABLE_FULL,
};

/* RFC 4862 5.4.2: probe once (DupAddrDetectTransmits 1) for a tentative
 * address, from ::. */
void
nd6_dad_start(struct sonde_stack *st, struct sonde_if *ifp, struct sonde_if_addr6 *a)
{
	uint8_t dst[16];

	if (a->state != ADDR6_TENTATIVE)
		st->dad_pending++;
	a->state = ADDR6_TENTATIVE;
	ipv6_local_rebuild(st);
	if (st->peer.follower) {
		/* The first stack of the group probes; we wait for its verdict
		 * (peer.c), with no deadline of our own. */
		a->dad_sent = 0;
		a->dad_deadline = UINT64_MAX;
		return;
	}
	a->dad_sent = 1;
	/* Timed from the next poll: an address is usually added before the
	 * first poll, when the stack's clock is not yet running, and the wait
	 * must start from a real now (RFC 4862 5.4: RetransTimer after the
	 * probe).  The DAD timer fires at that poll and starts it. */
	a->dad_deadline = 0;
	timer_arm(&st->wheel, &st->dad_timer, st->now);
	ipv6_solicited_node(dst, a->addr);
	nd6_send(st, ifp, ND_NEIGHBOR_SOLICIT, 0, a->addr, 0, ipv6_unspec, dst);
}

/* Tells the sibling stacks (peer.c) what DAD found for a. */
static void
nd6_dad_post(struct sonde_stack *st, const struct sonde_if *ifp, const struct sonde_if_addr6 *a)
{
	struct peer_msg m = {
		.kind = PEER_DAD,
		.af = 6,
		.ifindex = ifp->index,
		.flags = a->state == ADDR6_DUPLICATE ? PEER_F_DUPLICATE : 0,
	};

	if (st->peer.n_sib == 0)
		return;
	memcpy(m.addr, a->addr, 16);
	peer_post(st, &m);
}

static void
nd6_dad_failed(struct sonde_stack *st, struct sonde_if *ifp, struct sonde_if_addr6 *a)
{
	/* RFC 4862 5.4.5: the address must not be used. */
	st->dad_pending--; /* only ever called for a tentative address */
	a->state = ADDR6_DUPLICATE;
	ipv6_local_rebuild(st);
	st->stats.nd_dad_failed++;
	nd6_dad_post(st, ifp, a);
}

void
nd6_dad_peer(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *addr, bool duplicate)
{
	struct sonde_if_addr6 *a = ipv6_if_find_addr(ifp, addr);

	/* Counted (nd.dad_failed) by the stack that saw the conflict. */
	if (a == NULL || a->state != ADDR6_TENTATIVE)
		return;
	a->state = duplicate ? ADDR6_DUPLICATE : ADDR6_PREFERRED;
	ipv6_local_rebuild(st);
	st->dad_pending--;
}

void
nd6_dad_cancel(struct sonde_stack *st, struct sonde_if *ifp, struct sonde_if_addr6 *a)
{
	(void)ifp;
	if (a->state == ADDR6_TENTATIVE) {
		st->dad_pending--;
		a->state = ADDR6_DUPLICATE; /* no verdict will come for it now */
	}
}

/* The stack's DAD timer (one for every tentative address: DAD is rare and
 * short, and the addresses are few): what started waits RetransTimer from
 * now; what waited that long with no answer is ours; then again at the
 * next deadline. */
static void
nd6_dad_expire(struct timer *t, void *ctx)
{
	struct sonde_stack *st = ctx;
	uint64_t next = UINT64_MAX;

	(void)t;
	for (unsigned i = 0; i < st->n_ifs; i++) {
		struct sonde_if *ifp = st->ifs[i];

		for (unsigned j = 0; ifp != NULL && j < ifp->n_v6; j++) {
			struct sonde_if_addr6 *a = &ifp->v6[j];

			if (a->state != ADDR6_TENTATIVE)
				continue;
			if (a->dad_deadline == 0)
				a->dad_deadline = st->now + ND_DAD_NS;
			/* RFC 4862 5.4: no answer within RetransTimer after
			 * the probe: the address is ours. */
			if (st->now >= a->dad_deadline) {
				a->state = ADDR6_PREFERRED;
				ipv6_local_rebuild(st);
				st->dad_pending--;
				nd6_dad_post(st, ifp, a);
			} else if (a->dad_deadline < next) {
				next = a->dad_deadline; /* UINT64_MAX: a follower's, waiting */
			}
		}
	}
	if (next != UINT64_MAX)
		timer_arm(&st->wheel, &st->dad_timer, next);
}

/* RFC 4861 7.2.3-7.2.4: answer a solicitation for one of our addresses. */
static int
nd6_ns_input(struct sonde_stack *st, struct sonde_if *ifp, const struct ipv6_view *ip,
	     const uint8_t *p, uint32_t len)
{
	const uint8_t *target = p + 8;
	bool from_unspec = ipv6_addr_is_unspecified(ip->src);
	struct sonde_if_addr6 *a;
	struct nd_opts o;
	uint8_t sn[16];
	int r;

	st->stats.nd_ns_in++;
	if (len < ND_NS_LEN)
		return DROP_ND_MALFORMED;
	if (ipv6_addr_is_multicast(target))
		return DROP_ND_BAD_TARGET;
	r = wire_nd_opts_parse(p + ND_NS_LEN, len - ND_NS_LEN, &o);
	if (r)
		return r;
	ipv6_solicited_node(sn, target);
	/* RFC 4861 7.1.1: DAD probes go to the solicited-node group, bare. */
	if (from_unspec && (memcmp(ip->dst, sn, 16) != 0 || o.sllao))
		return DROP_ND_MALFORMED;
	a = ipv6_if_find_addr(ifp, target);
	if (a == NULL || a->state == ADDR6_DUPLICATE)
		return DROP_ND_NOT_FOR_US;
	if (a->state == ADDR6_TENTATIVE) {
		/* RFC 4862 5.4.3: someone else probes for it too. */
		if (from_unspec) {
			nd6_dad_failed(st, ifp, a);
			return DROP_ND_DAD_CONFLICT;
		}
		return DROP_ND_TENTATIVE;
	}
	if (!from_unspec && o.sllao) {
		neigh_update(st, ifp, 6, ip->src, o.sllao, NEIGH_NEWS_HEARD, true);
		peer_post_neigh(st, ifp, 6, ip->src, o.sllao, NEIGH_NEWS_HEARD, true);
	}
	nd6_send(st, ifp, ND_NEIGHBOR_ADVERT,
		 (from_unspec ? 0 : ND_NA_FLAG_SOLICITED) | ND_NA_FLAG_OVERRIDE |
			 (st->forwarding ? ND_NA_FLAG_ROUTER : 0),
		 target, ND_OPT_TARGET_LINKADDR, target, from_unspec ? ipv6_all_nodes : ip->src);
	return 0;
}

/* RFC 4861 7.2.5: what an advertisement for target does to its entry e.
 * Returns a drop reason, or 0. */
static int
nd6_na_merge(struct sonde_stack *st, struct sonde_if *ifp, struct neigh_entry *e,
	     const uint8_t *target, const uint8_t *tllao, uint32_t flags)
{
	bool differs;

	if (e->state == NEIGH_INCOMPLETE) {
		if (tllao == NULL)
			return DROP_ND_MALFORMED;
		neigh_update(st, ifp, 6, target, tllao,
			     flags & ND_NA_FLAG_SOLICITED ? NEIGH_NEWS_CONFIRMED
							  : NEIGH_NEWS_OVERRIDE,
			     false);
	} else {
		differs = tllao && memcmp(tllao, e->mac, ETH_ADDR_LEN) != 0;
		if (!(flags & ND_NA_FLAG_OVERRIDE) && differs) {
			/* Not allowed to override: only doubt the entry. */
			neigh_doubt(st, e);
		} else if (flags & ND_NA_FLAG_SOLICITED) {
			neigh_update(st, ifp, 6, target, tllao ? tllao : e->mac,
				     NEIGH_NEWS_CONFIRMED, false);
		} else if (differs) {
			neigh_update(st, ifp, 6, target, tllao, NEIGH_NEWS_OVERRIDE, false);
		}
	}
	e->router = !!(flags & ND_NA_FLAG_ROUTER);
	return 0;
}

static void
nd6_na_post(struct sonde_stack *st, const struct sonde_if *ifp, const uint8_t *target,
	    const uint8_t *tllao, uint32_t flags)
{
	struct peer_msg m = {
		.kind = PEER_NA,
		.af = 6,
		.ifindex = ifp->index,
		.flags = tllao ? PEER_F_LLADDR : 0,
		.na_flags =
			flags & (ND_NA_FLAG_ROUTER | ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE),
	};

	memcpy(m.addr, target, 16);
	if (tllao)
		memcpy(m.mac, tllao, ETH_ADDR_LEN);
	peer_post(st, &m);
}

/* RFC 4861 7.2.5: what an advertisement does to the neighbour cache. */
static int
nd6_na_input(struct sonde_stack *st, struct sonde_if *ifp, const struct ipv6_view *ip,
	     const uint8_t *p, uint32_t len)
{
	const uint8_t *target = p + 8;
	uint32_t flags;
	struct sonde_if_addr6 *a;
	struct neigh_entry *e;
	struct nd_opts o;
	int r;

	st->stats.nd_na_in++;
	if (len < ND_NS_LEN)
		return DROP_ND_MALFORMED;
	flags = wire_get32(p + 4);
	if (ipv6_addr_is_multicast(target))
		return DROP_ND_BAD_TARGET;
	if (ipv6_addr_is_multicast(ip->dst) && (flags & ND_NA_FLAG_SOLICITED))
		return DROP_ND_MALFORMED;
	r = wire_nd_opts_parse(p + ND_NS_LEN, len - ND_NS_LEN, &o);
	if (r)
		return r;
	a = ipv6_if_find_addr(ifp, target);
	if (a != NULL) {
		if (a->state == ADDR6_TENTATIVE)
			nd6_dad_failed(st, ifp, a);
		return DROP_ND_DAD_CONFLICT;
	}
	if (st->peer.n_sib)
		nd6_na_post(st, ifp, target, o.tllao, flags);
	e = neigh_lookup(st, ifp->index, 6, target);
	if (e == NULL)
		/* With siblings it may answer one of their solicitations:
		 * handed over to them, not dropped. */
		return st->peer.n_sib ? 0 : DROP_ND_UNSOLICITED;
	return nd6_na_merge(st, ifp, e, target, o.tllao, flags);
}

void
nd6_na_peer(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *target,
	    const uint8_t *tllao, uint32_t flags)
{
	struct neigh_entry *e;

	if (ipv6_if_find_addr(ifp, target) != NULL)
		return;
	e = neigh_lookup(st, ifp->index, 6, target);
	/* No entry: this stack never asked.  A malformed answer to an
	 * INCOMPLETE entry was the sender's to count, if it asked. */
	if (e != NULL)
		(void)nd6_na_merge(st, ifp, e, target, tllao, flags);
}

static void
nd6_input(struct sonde_stack *st, struct rte_mbuf *m)
{
	struct sonde_if *ifp = stack_if(st, pkt_meta(m)->ifindex);
	const uint8_t *p = pkt_l4(m);
	uint32_t len = rte_pktmbuf_data_len(m) - pkt_meta(m)->l3_len;
	struct ipv6_view ipv;
	const struct ipv6_view *ip = &ipv;
	int r = 0;

	/* The IPv6 header: checked by IP already, but a reassembled message
	 * is a chain, which ND refuses (below). */
	if (wire_ipv6_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &ipv))
		memset(&ipv, 0, sizeof(ipv));

	/* RFC 4861 6.1, 7.1: on-link only, code 0. */
	if (ip->hlim != 255)
		r = DROP_ND_BAD_HLIM;
	else if (p[1] != 0)
		r = DROP_ND_BAD_CODE;
	else if (ifp == NULL || ifp->kind != &eth_kind)
		r = DROP_ND_MALFORMED;
	else if (len != pkt_l4_len(m))
		r = DROP_ND_MALFORMED;
	if (r == 0) {
		switch (p[0]) {
		case ND_NEIGHBOR_SOLICIT: r = nd6_ns_input(st, ifp, ip, p, len); break;
		case ND_NEIGHBOR_ADVERT: r = nd6_na_input(st, ifp, ip, p, len); break;
		case ND_ROUTER_SOLICIT:
			/* RFC 4861 6.2.6: hosts discard them; we send no RAs yet. */
			st->stats.nd_rs_ignored++;
			break;
		default:
			/* Router advertisements and redirects: no SLAAC or
			 * default-router learning yet. */
			st->stats.nd_ra_ignored++;
			break;
		}
	}
	if (r) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	rte_pktmbuf_free(m);
}

static void
nd6_fini(struct sonde_stack *st)
{
	timer_cancel(&st->wheel, &st->dad_timer);
}

static int
nd6_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	timer_init(&st->dad_timer, nd6_dad_expire);
	for (uint8_t t = ND_ROUTER_SOLICIT; t <= ND_REDIRECT; t++) {
		int r = icmp6_register(st, t, nd6_input);

		if (r)
			return r;
	}
	return 0;
}

const struct sonde_layer nd6_layer = {
	.name = "nd6",
	.init = nd6_init,
	.fini = nd6_fini,
};
