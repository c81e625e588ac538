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

#include "pcap_capture.h"
#include "port.h"
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
	st->icmp_rate = conf->icmp_rate ? conf->icmp_rate : 100;
	st->icmp_burst = conf->icmp_burst ? conf->icmp_burst : 50;
	st->icmp_tokens_ns = (1000000000ull / st->icmp_rate) * st->icmp_burst;
	if (route4_init(st, conf) != 0 || arp_init(st, conf) != 0)
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
	arp_fini(st);
	for (unsigned i = 0; i < st->n_ifs; i++) {
		struct sonde_if *ifp = st->ifs[i];

		for (unsigned j = 0; j < ifp->n_txq; j++)
			rte_pktmbuf_free(ifp->txq[j]);
		pcap_capture_close(ifp->pcap);
		rte_free(ifp);
	}
	route4_fini(st);
	rte_free(st);
}

int
sonde_port_add(struct sonde_stack *st, uint16_t port_id)
{
	struct sonde_if *ifp = stack_if_new(st);
	int r;

	if (ifp == NULL)
		return -ENOSPC;
	r = port_open(ifp, port_id, st->pool);
	if (r) {
		rte_free(ifp);
		return r;
	}
	st->ifs[st->n_ifs++] = ifp;
	return ifp->index;
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

int
sonde_addr_add(struct sonde_stack *st, int ifindex, const struct sonde_prefix *p)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;
	struct sonde_if_addr4 *a;
	uint32_t h;

	if (ifp == NULL)
		return -ENODEV;
	if (p->af != AF_INET)
		return -EAFNOSUPPORT; /* IPv6 arrives with its own issue */
	h = rte_be_to_cpu_32(p->addr.v4);
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
	ifp->n_v4++;
	if (ifp->kind == IF_KIND_PORT) {
		int r = route4_add(st, a->addr & a->mask, a->plen, 0, ifp->index);

		if (r) {
			ifp->n_v4--;
			return r;
		}
		arp_announce(st, ifp, a->addr);
	}
	return 0;
}

int
sonde_route_add(struct sonde_stack *st, const struct sonde_prefix *dst,
		const struct sonde_prefix *gw)
{
	const struct route4_nh *nh;

	if (dst->af != AF_INET || gw->af != AF_INET)
		return -EAFNOSUPPORT;
	/* The gateway must be on-link: reachable by a connected route. */
	nh = route4_lookup(st, gw->addr.v4);
	if (nh == NULL || nh->gw != 0)
		return -ENETUNREACH;
	return route4_add(st, dst->addr.v4, dst->plen, gw->addr.v4, nh->ifindex);
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

static unsigned
stack_rx(struct sonde_stack *st, struct sonde_if *ifp)
{
	struct rte_mbuf *pkts[SONDE_BURST];
	uint16_t n = ifp->ops->rx(ifp, pkts, SONDE_BURST);

	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		m->port = ifp->index;
		ifp->rx_bytes += rte_pktmbuf_pkt_len(m);
		if (ifp->pcap)
			pcap_capture_write(ifp->pcap, m, st->now);
		eth_input(st, ifp, m);
	}
	ifp->rx_pkts += n;
	return n;
}

unsigned
sonde_poll(struct sonde_stack *st, uint64_t now_ns)
{
	unsigned rx = 0;
	uint32_t n;

	st->now = now_ns;
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i]->kind == IF_KIND_PORT)
			rx += stack_rx(st, st->ifs[i]);
	/* lo0: what was looped before this turn; new loops wait for the next. */
	for (n = st->loop_tail - st->loop_head; n > 0; n--)
		ipv4_loop_input(st, st->loopq[st->loop_head++ & (SONDE_LOOPQ - 1)]);
	arp_timer(st);
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i]->n_txq)
			if_flush(st, st->ifs[i]);
	return rx;
}

int
sonde_ping(struct sonde_stack *st, const struct sonde_prefix *dst, uint16_t id, uint16_t seq,
	   uint16_t len)
{
	struct icmp_view ic = { .type = ICMP_ECHO, .rest = (uint32_t)id << 16 | seq };
	struct rte_mbuf *m;
	uint8_t *p;

	if (dst->af != AF_INET)
		return -EAFNOSUPPORT;
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
	wire_icmp_emit(p, ICMP_HDR_LEN + len, &ic);
	st->stats.icmp_out++;
	return ipv4_output(st, m, 0, dst->addr.v4, IPPROTO_ICMP_, 64, 0);
}

int
sonde_prefix_parse(const char *s, struct sonde_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long plen = -1;

	memset(p, 0, sizeof(*p));
	if (strcmp(s, "default") == 0) {
		p->af = AF_INET;
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
	S("udp.in", s->udp_in);
	S("arp.in", s->arp_in);
	S("arp.out", s->arp_out);
	S("arp.requests_out", s->arp_requests_out);
	S("arp.replies_out", s->arp_replies_out);
	S("lo0.packets", s->loop_pkts);
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
