/*
 * stack.c: the stack instance: creation, interfaces, addresses, routes, the
 * poll loop, and counters.  The public API of include/sonde/sonde.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include "pcap_capture.h"
#include "port.h"
#include "probes.h"
#include "stack.h"

static struct sonde_if *
stack_if_new(struct sonde_stack *st)
{
	struct sonde_if *ifp;

	if (st->n_ifs == SONDE_MAX_IFS)
		return NULL;
	ifp = rte_zmalloc("sonde_if", sizeof(*ifp), RTE_CACHE_LINE_SIZE);
	if (ifp == NULL)
		return NULL;
	ifp->index = (uint16_t)st->n_ifs;
	return ifp;
}

struct sonde_stack *
sonde_stack_create(const struct sonde_conf *conf)
{
	struct sonde_stack *st;

	if (conf == NULL || conf->pool == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	st = rte_zmalloc("sonde_stack", sizeof(*st), RTE_CACHE_LINE_SIZE);
	if (st == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	st->id = conf->stack_id;
	st->pid = (uint32_t)getpid();
	st->pool = conf->pool;
	st->forwarding = conf->forwarding;
	st->fastpath = !conf->no_fastpath;
	st->fast_gen = 1; /* the zeroed memo slots are not valid */
	st->tsc_mult = (uint64_t)(((unsigned __int128)1000000000ull << 40) / rte_get_tsc_hz());
	st->icmp_rl.rate = conf->icmp_rate ? conf->icmp_rate : 100;
	st->icmp_rl.burst = conf->icmp_burst ? conf->icmp_burst : 50;
	st->icmp_rl.tokens_ns = (1000000000ull / st->icmp_rl.rate) * st->icmp_rl.burst;
	st->icmp6_rl = st->icmp_rl;
	st->frag6_ident = (uint32_t)rte_rand();
	if (route_init(st, conf) != 0 || neigh_init(st, conf) != 0 || frag_init(st, conf) != 0)
		goto fail;
	st->lo = stack_if_new(st);
	if (st->lo == NULL)
		goto fail;
	st->lo->kind = IF_KIND_LOOP;
	st->lo->mtu = UINT16_MAX;
	snprintf(st->lo->name, sizeof(st->lo->name), "lo0");
	st->ifs[st->n_ifs++] = st->lo;
	return st;
fail:
	sonde_stack_destroy(st);
	rte_errno = ENOMEM;
	return NULL;
}

void
sonde_stack_destroy(struct sonde_stack *st)
{
	if (st == NULL)
		return;
	while (st->loop_head != st->loop_tail)
		pkt_drop(st, st->loopq[st->loop_head++ & (SONDE_LOOPQ - 1)], DROP_SHUTDOWN);
	neigh_fini(st);
	peer_fini(st);
	for (unsigned i = 0; i < st->n_ifs; i++) {
		struct sonde_if *ifp = st->ifs[i];

		for (unsigned j = 0; j < ifp->n_txq; j++)
			rte_pktmbuf_free(ifp->txq[j]);
		ifp->n_txq = 0;
		pcap_capture_close(ifp->pcap);
		ifp->pcap = NULL;
	}
	/* Last of what holds packets: fragments waiting on a neighbour or in
	 * a transmit queue have segments from its indirect pool, which goes
	 * with it (drops still name their interface: freed after). */
	frag_fini(st);
	for (unsigned i = 0; i < st->n_ifs; i++)
		rte_free(st->ifs[i]);
	route_fini(st);
	rte_free(st);
}

/* RFC 4291 2.5.1 / appendix A: fe80::/64 with the modified EUI-64 of the MAC. */
static void
stack_linklocal(const uint8_t *mac, struct sonde_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->af = AF_INET6;
	p->plen = 64;
	p->addr.v6[0] = 0xfe;
	p->addr.v6[1] = 0x80;
	p->addr.v6[8] = mac[0] ^ 0x02;
	p->addr.v6[9] = mac[1];
	p->addr.v6[10] = mac[2];
	p->addr.v6[11] = 0xff;
	p->addr.v6[12] = 0xfe;
	p->addr.v6[13] = mac[3];
	p->addr.v6[14] = mac[4];
	p->addr.v6[15] = mac[5];
}

/* Adds port port_id, started by port_setup(), on queue pair queue (or,
 * with pool, sets it up with one queue pair first). */
static int
stack_port_add(struct sonde_stack *st, uint16_t port_id, uint16_t queue, struct rte_mempool *pool)
{
	struct sonde_if *ifp = stack_if_new(st);
	struct sonde_prefix ll;
	int r;

	if (ifp == NULL)
		return -ENOSPC;
	r = pool ? port_open(ifp, port_id, pool) : port_attach(ifp, port_id, queue);
	if (r) {
		rte_free(ifp);
		return r;
	}
	st->ifs[st->n_ifs++] = ifp;
	stack_linklocal(ifp->mac, &ll);
	r = sonde_addr_add(st, ifp->index, &ll);
	return r ? r : ifp->index;
}

int
sonde_port_add(struct sonde_stack *st, uint16_t port_id)
{
	return stack_port_add(st, port_id, 0, st->pool);
}

int
sonde_port_setup(uint16_t port_id, uint16_t nb_queues, struct rte_mempool *pool)
{
	return port_setup(port_id, nb_queues, pool);
}

int
sonde_port_add_queue(struct sonde_stack *st, uint16_t port_id, uint16_t queue)
{
	return stack_port_add(st, port_id, queue, NULL);
}

struct sonde_if *
stack_if_attach(struct sonde_stack *st, const struct sonde_if_ops *ops, const char *name,
		const uint8_t *mac, uint16_t mtu)
{
	struct sonde_if *ifp = stack_if_new(st);

	if (ifp == NULL)
		return NULL;
	ifp->kind = IF_KIND_PORT;
	ifp->port_id = UINT16_MAX;
	ifp->ops = ops;
	ifp->mtu = mtu;
	ifp->l2_len = ETH_HDR_LEN;
	memcpy(ifp->mac, mac, ETH_ADDR_LEN);
	snprintf(ifp->name, sizeof(ifp->name), "%s", name);
	st->ifs[st->n_ifs++] = ifp;
	return ifp;
}

void
sonde_ports_close(struct sonde_stack *st)
{
	for (unsigned i = 0; i < st->n_ifs; i++) {
		struct sonde_if *ifp = st->ifs[i];

		if (ifp->kind != IF_KIND_PORT)
			continue;
		/* A sibling stack may have closed the port (see port.c): what
		 * is left in txq is freed by sonde_stack_destroy(). */
		if (ifp->port_id != UINT16_MAX && !port_is_open(ifp))
			continue;
		if_flush(st, ifp);
		if (ifp->ops->close)
			ifp->ops->close(ifp);
	}
}

int
sonde_if_find(const struct sonde_stack *st, const char *name)
{
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (strcmp(st->ifs[i]->name, name) == 0)
			return (int)i;
	return -ENOENT;
}

const char *
sonde_if_name(const struct sonde_stack *st, int ifindex)
{
	const struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;

	return ifp ? ifp->name : NULL;
}

static int
stack_addr4_add(struct sonde_stack *st, struct sonde_if *ifp, const struct sonde_prefix *p)
{
	struct sonde_if_addr4 *a;
	uint32_t h = rte_be_to_cpu_32(p->addr.v4);

	if (p->plen > 32 || h == 0 || (h >> 28) >= 0xe)
		return -EINVAL;
	if (ipv4_is_local(st, p->addr.v4))
		return -EEXIST;
	if (ifp->n_v4 == SONDE_MAX_ADDRS)
		return -ENOSPC;
	a = &ifp->v4[ifp->n_v4];
	a->addr = p->addr.v4;
	a->plen = p->plen;
	a->mask = p->plen ? rte_cpu_to_be_32(~0u << (32 - p->plen)) : 0;
	a->bcast = p->plen < 31 ? a->addr | ~a->mask : 0;
	ifp->n_v4++;
	st->local4[st->n_local4++] = a->addr;
	fast_stale(st);
	if (ifp->kind == IF_KIND_PORT) {
		int r = route4_add(st, a->addr & a->mask, a->plen, 0, ifp->index);

		if (r) {
			ifp->n_v4--;
			st->n_local4--;
			return r;
		}
		/* Linked stacks share the port: the first one announces. */
		if (!st->peer.follower)
			arp_announce(st, ifp, a->addr);
	}
	return 0;
}

static int
stack_addr6_add(struct sonde_stack *st, struct sonde_if *ifp, const struct sonde_prefix *p)
{
	static const uint8_t zero[16];
	struct sonde_if_addr6 *a;

	if (p->plen > 128 || ipv6_addr_is_unspecified(p->addr.v6) ||
	    ipv6_addr_is_multicast(p->addr.v6) || ipv6_addr_is_loopback(p->addr.v6))
		return -EINVAL;
	/* A link-local address is unique on its link only (RFC 4291 2.5.6):
	 * two ports with one MAC have the same fe80:: address, legitimately. */
	for (unsigned i = 0; i < st->n_ifs; i++)
		if ((st->ifs[i] == ifp || !ipv6_addr_is_linklocal(p->addr.v6)) &&
		    ipv6_if_find_addr(st->ifs[i], p->addr.v6))
			return -EEXIST;
	if (ifp->n_v6 == SONDE_MAX_ADDRS)
		return -ENOSPC;
	a = &ifp->v6[ifp->n_v6];
	memset(a, 0, sizeof(*a));
	memcpy(a->addr, p->addr.v6, 16);
	a->plen = p->plen;
	a->state = ADDR6_PREFERRED;
	ifp->n_v6++;
	ipv6_local_rebuild(st);
	if (ifp->kind != IF_KIND_PORT)
		return 0;
	/* Link-local prefixes are per link: reached through the interface
	 * hint, never through the shared table. */
	if (!ipv6_addr_is_linklocal(a->addr)) {
		int r = route6_add(st, a->addr, a->plen, zero, ifp->index);

		if (r) {
			ifp->n_v6--;
			ipv6_local_rebuild(st);
			return r;
		}
	}
	nd6_dad_start(st, ifp, a);
	return 0;
}

int
sonde_addr_add(struct sonde_stack *st, int ifindex, const struct sonde_prefix *p)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;

	if (ifp == NULL)
		return -ENODEV;
	probe_gate_update(st); /* an announcement or a DAD probe may go out */
	if (p->af == AF_INET)
		return stack_addr4_add(st, ifp, p);
	if (p->af == AF_INET6)
		return stack_addr6_add(st, ifp, p);
	return -EAFNOSUPPORT;
}

bool
sonde_ready(const struct sonde_stack *st)
{
	return st->dad_pending == 0;
}

int
sonde_route_add(struct sonde_stack *st, const struct sonde_prefix *dst,
		const struct sonde_prefix *gw)
{
	const struct route_nh *nh;
	static const uint8_t zero[16];
	struct sonde_prefix any;

	if (dst->af == AF_UNSPEC) {
		if (dst->plen != 0)
			return -EINVAL;
		any = (struct sonde_prefix){ .af = gw->af };
		dst = &any;
	}
	if (dst->af != gw->af || (gw->af != AF_INET && gw->af != AF_INET6))
		return -EAFNOSUPPORT;
	/* The gateway must be on-link: reachable by a connected route. */
	if (dst->af == AF_INET) {
		nh = route4_lookup(st, gw->addr.v4);
		if (nh == NULL || nh->gw4 != 0)
			return -ENETUNREACH;
		return route4_add(st, dst->addr.v4, dst->plen, gw->addr.v4, nh->ifindex);
	}
	if (ipv6_addr_is_linklocal(gw->addr.v6))
		return -EINVAL; /* a link-local gateway needs an interface: not yet */
	nh = route6_lookup(st, gw->addr.v6);
	if (nh == NULL || memcmp(nh->gw6, zero, 16) != 0)
		return -ENETUNREACH;
	return route6_add(st, dst->addr.v6, dst->plen, gw->addr.v6, nh->ifindex);
}

int
sonde_udp_service(struct sonde_stack *st, uint16_t port, enum sonde_service kind)
{
	if (port == 0 || kind > SONDE_SERVICE_DISCARD)
		return -EINVAL;
	st->udp_service[port] = (uint8_t)kind;
	return 0;
}

int
sonde_if_set_mtu(struct sonde_stack *st, int ifindex, uint16_t mtu)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;

	if (ifp == NULL || ifp->kind != IF_KIND_PORT || ifp->port_id == UINT16_MAX)
		return -ENODEV;
	if (mtu < 1280)
		return -EINVAL;
	return port_set_mtu(ifp, mtu);
}

int
sonde_pcap_open(struct sonde_stack *st, int ifindex, const char *path)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;
	char err[256];

	if (ifp == NULL || ifp->kind != IF_KIND_PORT)
		return -ENODEV;
	if (ifp->pcap)
		return -EBUSY;
	ifp->pcap = pcap_capture_open(path, err, sizeof(err));
	return ifp->pcap ? 0 : -EIO;
}

void
loop_enqueue(struct sonde_stack *st, struct rte_mbuf *m)
{
	probe_local_send(st, m, st->lo);
	if (st->loop_tail - st->loop_head == SONDE_LOOPQ) {
		pkt_drop(st, m, DROP_LOOP_FULL);
		return;
	}
	st->loopq[st->loop_tail++ & (SONDE_LOOPQ - 1)] = m;
	st->stats.loop_pkts++;
}

static void
loop_input(struct sonde_stack *st, struct rte_mbuf *m)
{
	m->port = st->lo->index;
	m->hash.usr = 0;
	probe_local_receive(st, m, st->lo);
	if ((m->packet_type & RTE_PTYPE_L3_MASK) == RTE_PTYPE_L3_IPV6)
		ipv6_loop_input(st, m);
	else
		ipv4_loop_input(st, m);
}

bool
ratelimit_ok(struct ratelimit *rl, uint64_t now)
{
	uint64_t cost = 1000000000ull / rl->rate;
	uint64_t cap = cost * rl->burst;

	rl->tokens_ns += now - rl->last;
	rl->last = now;
	if (rl->tokens_ns > cap)
		rl->tokens_ns = cap;
	if (rl->tokens_ns < cost)
		return false;
	rl->tokens_ns -= cost;
	return true;
}

static unsigned
stack_rx(struct sonde_stack *st, struct sonde_if *ifp)
{
	struct rte_mbuf *pkts[SONDE_BURST];
	uint16_t n = ifp->ops->rx(ifp, pkts, SONDE_BURST);

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		rte_prefetch0(rte_pktmbuf_mtod(m, void *));
		m->port = ifp->index;
		ifp->rx_bytes += rte_pktmbuf_pkt_len(m);
	}
	if (unlikely(ifp->pcap != NULL))
		for (uint16_t i = 0; i < n; i++)
			pcap_capture_write(ifp->pcap, pkts[i], st->now);
	/* The fast path fires no probe: only while none is on (fast.c). */
	if (st->fastpath && !probe_gate(st))
		fast_rx(st, ifp, pkts, n);
	else
		for (uint16_t i = 0; i < n; i++)
			eth_input(st, ifp, pkts[i]);
	ifp->rx_pkts += n;
	return n;
}

unsigned
sonde_poll(struct sonde_stack *st, uint64_t now_ns)
{
	unsigned rx = 0;
	uint32_t n;

	/* The cost of a packet on this core, as testpmd's --record-core-cycles
	 * counts it: the time of polls that had work, over what they took in.
	 * A busy poll lasts until the next begins, so the caller's loop between
	 * them is counted too.  By the caller's clock: no clock read of our
	 * own (one costs 12 ns on these guests, a tenth of a busy poll). */
	if (st->poll_busy)
		st->stats.poll_busy_ns += now_ns - st->now;

	st->now = now_ns;
	probe_gate_update(st);
	peer_poll(st);
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i]->kind == IF_KIND_PORT)
			rx += stack_rx(st, st->ifs[i]);
	/* lo0: what was looped before this turn; new loops wait for the next. */
	for (n = st->loop_tail - st->loop_head; n > 0; n--)
		loop_input(st, st->loopq[st->loop_head++ & (SONDE_LOOPQ - 1)]);
	neigh_timer(st);
	nd6_timer(st);
	frag_timer(st);
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i]->n_txq)
			if_flush(st, st->ifs[i]);
	st->poll_busy = rx != 0;
	st->stats.poll_busy += rx != 0;
	st->stats.poll_rx += rx;
	return rx;
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
	ifp = ipv6_route(st, dst->addr.v6, -1, nh);
	if (ifp == st->lo)
		memcpy(src, dst->addr.v6, 16);
	else if (!ipv6_select_source(ifp, dst->addr.v6, src)) {
		rte_pktmbuf_free(m);
		return -EADDRNOTAVAIL;
	}
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

int
sonde_prefix_parse(const char *s, struct sonde_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long plen = -1;

	memset(p, 0, sizeof(*p));
	/* "default" names no family: sonde_route_add() takes the gateway's. */
	if (strcmp(s, "default") == 0) {
		p->af = AF_UNSPEC;
		return 0;
	}
	if (strcmp(s, "default4") == 0) {
		p->af = AF_INET;
		return 0;
	}
	if (strcmp(s, "default6") == 0) {
		p->af = AF_INET6;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		/* Digits only: strtol would also take " 24" and "+24". */
		if (*slash < '0' || *slash > '9')
			return -EINVAL;
		plen = strtol(slash, &end, 10);
		if (*end != '\0' || plen < 0)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &p->addr.v4) == 1) {
		p->af = AF_INET;
		if (plen > 32)
			return -EINVAL;
		p->plen = (uint8_t)(plen < 0 ? 32 : plen);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, p->addr.v6) == 1) {
		p->af = AF_INET6;
		if (plen > 128)
			return -EINVAL;
		p->plen = (uint8_t)(plen < 0 ? 128 : plen);
		return 0;
	}
	return -EINVAL;
}

void
sonde_stats_foreach(const struct sonde_stack *st, sonde_stat_fn fn, void *arg)
{
	const struct stats *s = &st->stats;
	char name[96];

#define S(n, v) fn(n, v, arg)
	S("ipv4.in", s->ipv4_in);
	S("ipv4.in_delivered", s->ipv4_in_delivered);
	S("ipv4.forwarded", s->ipv4_forwarded);
	S("ipv4.out", s->ipv4_out);
	S("icmp.in", s->icmp_in);
	S("icmp.out", s->icmp_out);
	S("icmp.echo_replies", s->icmp_echo_replies);
	S("icmp.errors_out", s->icmp_errors_out);
	S("icmp.ratelimited", s->icmp_ratelimited);
	S("ipv6.in", s->ipv6_in);
	S("ipv6.in_delivered", s->ipv6_in_delivered);
	S("ipv6.forwarded", s->ipv6_forwarded);
	S("ipv6.out", s->ipv6_out);
	S("icmp6.in", s->icmp6_in);
	S("icmp6.out", s->icmp6_out);
	S("icmp6.echo_replies", s->icmp6_echo_replies);
	S("icmp6.errors_out", s->icmp6_errors_out);
	S("icmp6.ratelimited", s->icmp6_ratelimited);
	S("icmp6.pmtu_updates", s->pmtu6_updates);
	S("nd.ns_in", s->nd_ns_in);
	S("nd.na_in", s->nd_na_in);
	S("nd.ns_out", s->nd_ns_out);
	S("nd.na_out", s->nd_na_out);
	S("nd.rs_ignored", s->nd_rs_ignored);
	S("nd.ra_ignored", s->nd_ra_ignored);
	S("nd.dad_failed", s->nd_dad_failed);
	S("neigh.entries", st->neigh.used);
	S("frag.in", s->frag_in);
	S("frag.reassembled", s->frag_reassembled);
	S("frag.held", st->frag.held);
	S("frag.out", s->frag_out);
	S("frag.fragmented", s->frag_fragmented);
	S("udp.in", s->udp_in);
	S("udp.echoed", s->udp_echoed);
	S("udp.discarded", s->udp_discarded);
	S("arp.in", s->arp_in);
	S("arp.out", s->arp_out);
	S("arp.requests_out", s->arp_requests_out);
	S("arp.replies_out", s->arp_replies_out);
	S("lo0.packets", s->loop_pkts);
	S("poll.rx_packets", s->poll_rx);
	S("poll.busy_polls", s->poll_busy);
	S("poll.busy_ns", s->poll_busy_ns);
	S("poll.fast_packets", s->fast_rx);
	S("peer.sent", s->peer_sent);
	S("peer.received", s->peer_received);
	S("peer.ring_full", s->peer_ring_full);
#undef S
	for (unsigned i = 0; i < st->n_ifs; i++) {
		const struct sonde_if *ifp = st->ifs[i];

		if (ifp->kind != IF_KIND_PORT)
			continue;
		snprintf(name, sizeof(name), "if.%s.rx_packets", ifp->name);
		fn(name, ifp->rx_pkts, arg);
		snprintf(name, sizeof(name), "if.%s.rx_bytes", ifp->name);
		fn(name, ifp->rx_bytes, arg);
		snprintf(name, sizeof(name), "if.%s.tx_packets", ifp->name);
		fn(name, ifp->tx_pkts, arg);
		snprintf(name, sizeof(name), "if.%s.tx_bytes", ifp->name);
		fn(name, ifp->tx_bytes, arg);
	}
	for (unsigned r = DROP_NONE + 1; r < DROP_REASON_MAX; r++) {
		snprintf(name, sizeof(name), "drop.%s.%s",
			 drop_reason_dir((enum drop_reason)r) == DROP_DIR_IN ? "in" : "out",
			 drop_reason_str((enum drop_reason)r));
		fn(name, s->drops[r], arg);
	}
}

struct stat_find {
	const char *name;
	uint64_t value;
};

static void
stat_find_cb(const char *name, uint64_t value, void *arg)
{
	struct stat_find *f = arg;

	if (strcmp(name, f->name) == 0)
		f->value += value;
}

uint64_t
sonde_stat(const struct sonde_stack *st, const char *name)
{
	struct stat_find f = { name, 0 };

	sonde_stats_foreach(st, stat_find_cb, &f);
	return f.value;
}

uint64_t
sonde_clock_ns(void)
{
	uint64_t c = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();

	return c / hz * 1000000000ull + c % hz * 1000000000ull / hz;
}

uint64_t
sonde_now(const struct sonde_stack *st)
{
	/* ns = tsc * (1e9 / hz), the ratio in fixed point with 40 fraction
	 * bits: one multiply, where sonde_clock_ns() divides twice (some 80
	 * cycles a poll).  Monotonic; it runs slow of sonde_clock_ns() by at
	 * most 1 part in 4e11 (0.2 us a day of TSC uptime), so a loop uses
	 * one of the two, not both. */
	return (uint64_t)(((unsigned __int128)rte_rdtsc() * st->tsc_mult) >> 40);
}
