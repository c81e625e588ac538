/*
 * stack.c: the stack instance: creation (each layer of stack/layers.c set
 * up in turn, and what it registers), the poll loop, and counters.  The
 * core knows no layer by name: it reads interfaces, runs what the layers
 * registered, and flushes.
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
#include <rte_mbuf_dyn.h>

#include "fault.h"
#include "iface.h"
#include "pcap_capture.h"
#include "probes.h"
#include "stack.h"

_Static_assert(SONDE_META_OFFSET % __alignof__(struct pkt_meta) == 0, "pkt_meta aligned");
_Static_assert(SONDE_META_OFFSET >= offsetof(struct rte_mbuf, dynfield1), "pkt_meta in dynfield1");

int
meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "sonde_pkt_meta",
		.size = sizeof(struct pkt_meta),
		.align = __alignof__(struct pkt_meta),
	};

	if (rte_mbuf_dynfield_register_offset(&desc, SONDE_META_OFFSET) < 0) {
		RTE_LOG(ERR, USER1,
			"sonde: the mbuf dynamic field space at offset %zu (%zu bytes) is taken: "
			"%s\n",
			(size_t)SONDE_META_OFFSET, sizeof(struct pkt_meta),
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/* Each layer's fini, last made first undone. */
static void
stack_layers_fini(struct sonde_stack *st, unsigned n)
{
	while (n-- > 0)
		if (sonde_layers[n]->fini)
			sonde_layers[n]->fini(st);
}

struct sonde_stack *
sonde_stack_create(const struct sonde_conf *conf)
{
	struct sonde_stack *st;
	unsigned i;
	int r;

	if (conf == NULL || conf->pool == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	r = meta_register();
	if (r) {
		rte_errno = -r;
		return NULL;
	}
	probe_sems_init();
	st = rte_zmalloc("sonde_stack", sizeof(*st), RTE_CACHE_LINE_SIZE);
	if (st == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	st->id = conf->stack_id;
	st->pid = (uint32_t)getpid();
	st->pool = conf->pool;
	st->forwarding = conf->forwarding;
	st->dst_gen = 1; /* the zeroed cache slots are not valid */
	st->tsc_mult = (uint64_t)(((unsigned __int128)1000000000ull << 40) / rte_get_tsc_hz());
	timer_wheel_init(&st->wheel, 0);
	r = if_loop_create(st);
	for (i = 0; r == 0 && i < sonde_n_layers; i++) {
		r = sonde_layers[i]->init ? sonde_layers[i]->init(st, conf) : 0;
		if (r)
			RTE_LOG(ERR, USER1, "sonde: stack %u: layer %s: %s\n", st->id,
				sonde_layers[i]->name, strerror(r < 0 ? -r : r));
	}
	if (r) {
		/* The cause, not a guess: rte_lpm says ENOSPC or EEXIST, a
		 * mempool ENOMEM, a registration EEXIST. */
		stack_layers_fini(st, i);
		for (i = 0; i < st->n_ifs; i++)
			rte_free(st->ifs[i]);
		rte_free(st);
		rte_errno = r < 0 ? -r : r;
		return NULL;
	}
	return st;
}

void
sonde_stack_destroy(struct sonde_stack *st)
{
	if (st == NULL)
		return;
	peer_fini(st);
	for (unsigned l = sonde_n_layers; l-- > 0;)
		if (sonde_layers[l]->stop)
			sonde_layers[l]->stop(st);
	st->closing = true;
	/* What the layers hold per interface (the neighbour queues), what
	 * the interfaces hold, then the layers (the reassembly table, and the
	 * pools that the packets held before may have segments from), then
	 * the interfaces themselves: a drop on the way still names its
	 * interface. */
	for (unsigned i = 0; i < st->n_ifs; i++) {
		if (st->ifs[i] == NULL)
			continue;
		for (unsigned l = sonde_n_layers; l-- > 0;)
			if (sonde_layers[l]->if_detach)
				sonde_layers[l]->if_detach(st, st->ifs[i]);
		if_release(st, st->ifs[i]);
	}
	if_loop_drain(st);
	stack_layers_fini(st, sonde_n_layers);
	for (unsigned i = 0; i < st->n_ifs; i++)
		rte_free(st->ifs[i]);
	rte_free(st);
}

bool
sonde_ready(const struct sonde_stack *st)
{
	return st->dad_pending == 0;
}

int
sonde_forwarding(struct sonde_stack *st, bool on)
{
	struct sonde_prefix p = { .plen = on };

	st->forwarding = on;
	dst_invalidate(st);
	peer_post_cmd(st, PEER_FORWARDING, -1, &p, NULL);
	return 0;
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

unsigned
sonde_poll(struct sonde_stack *st, uint64_t now_ns)
{
	unsigned rx = 0;

	/* The cost of a packet on this core, as testpmd's --record-core-cycles
	 * counts it: the time of polls that had work, over what they took in.
	 * A busy poll lasts until the next begins, so the caller's loop between
	 * them is counted too.  By the caller's clock: no clock read of our
	 * own (one costs 12 ns on these guests, a tenth of a busy poll). */
	if (st->poll_busy)
		st->stats.poll_busy_ns += now_ns - st->now;

	st->now = now_ns;
	/* The semaphores every PROBE_GATE_NS, not every poll: reading them is
	 * 14 instructions, 0.4% of a TCP request-response that comes one a
	 * poll.  A tracer is seen within that (probes.h); a clock that goes
	 * back (a test's) reads them at once. */
	if (now_ns >= st->gate_next || now_ns + PROBE_GATE_NS < st->gate_next) {
		probe_gate_update(st);
		st->gate_next = now_ns + PROBE_GATE_NS;
	}
	peer_poll(st);
	for (unsigned i = 0; i < st->n_ifs; i++) {
		struct sonde_if *ifp = st->ifs[i];

		if (ifp != NULL && ifp != st->lo && ifp->drv != NULL)
			rx += if_rx(st, ifp);
	}
	/* lo0 last: what the interfaces' packets looped comes in now. */
	if_loop_poll(st);
	timer_run(&st->wheel, now_ns, st);
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i] != NULL && st->ifs[i]->n_txq)
			if_flush(st, st->ifs[i]);
	st->poll_busy = rx != 0;
	st->stats.poll_busy += rx != 0;
	st->stats.poll_rx += rx;
	return rx;
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
	S("frag.held_peak", st->frag.held_peak);
	S("frag.out", s->frag_out);
	S("frag.fragmented", s->frag_fragmented);
	S("udp.in", s->udp_in);
	S("udp.echoed", s->udp_echoed);
	S("udp.discarded", s->udp_discarded);
	S("udp.delivered", s->udp_delivered);
	S("udp.out", s->udp_out);
	S("tcp.active_opens", s->tcp_active_opens);
	S("tcp.passive_opens", s->tcp_passive_opens);
	S("tcp.attempt_fails", s->tcp_attempt_fails);
	S("tcp.estab_resets", s->tcp_estab_resets);
	S("tcp.curr_estab", st->tcp_curr_estab);
	S("tcp.in_segs", s->tcp_in_segs);
	S("tcp.out_segs", s->tcp_out_segs);
	S("tcp.retrans_segs", s->tcp_retrans_segs);
	S("tcp.in_errs", s->tcp_in_errs);
	S("tcp.out_rsts", s->tcp_out_rsts);
	S("tcp.established", s->tcp_established);
	S("tcp.rto", s->tcp_rto);
	S("tcp.fast_retrans", s->tcp_fast_retrans);
	S("tcp.sack_retrans", s->tcp_sack_retrans);
	S("tcp.challenge_acks", s->tcp_challenge_acks);
	S("tcp.syncookies_sent", s->tcp_syncookies_sent);
	S("tcp.syncookies_ok", s->tcp_syncookies_ok);
	S("tcp.tw_recycled", s->tcp_tw_recycled);
	S("tunnel.encap", s->tun_encap);
	S("tunnel.decap", s->tun_decap);
	S("tunnel.pmtu_updates", s->tun_pmtu);
	S("tunnel.icmp_relayed", s->tun_icmp_relayed);
	S("esp.out", s->esp_out);
	S("esp.in", s->esp_in);
	S("esp.keepalive_out", s->esp_keepalive_out);
	S("esp.keepalive_in", s->esp_keepalive_in);
	S("tcp.syncookies_failed", s->tcp_syncookies_failed);
	S("tcp.zero_window_probes", s->tcp_zwp);
	S("tcp.keepalive_probes", s->tcp_keepalive_probes);
	S("tcp.keepalive_drops", s->tcp_keepalive_drops);
	S("tcp.ecn_ce", s->tcp_ecn_ce);
	S("arp.in", s->arp_in);
	S("arp.out", s->arp_out);
	S("arp.requests_out", s->arp_requests_out);
	S("arp.replies_out", s->arp_replies_out);
	S("lo0.packets", s->loop_pkts);
	S("poll.rx_packets", s->poll_rx);
	S("poll.busy_polls", s->poll_busy);
	S("poll.busy_ns", s->poll_busy_ns);
	S("dst.misses", s->dst_misses);
	S("peer.sent", s->peer_sent);
	S("peer.handoff_out", s->peer_handoff_out);
	S("peer.handoff_in", s->peer_handoff_in);
	S("peer.received", s->peer_received);
	S("peer.ring_full", s->peer_ring_full);
	S("peer.cmd_failed", s->peer_cmd_failed);
#undef S
	for (unsigned i = 0; i < st->n_ifs; i++) {
		const struct sonde_if *ifp = st->ifs[i];

		if (ifp == NULL || ifp == st->lo)
			continue;
		snprintf(name, sizeof(name), "if.%s.rx_packets", ifp->name);
		fn(name, ifp->rx_pkts, arg);
		snprintf(name, sizeof(name), "if.%s.rx_bytes", ifp->name);
		fn(name, ifp->rx_bytes, arg);
		snprintf(name, sizeof(name), "if.%s.tx_packets", ifp->name);
		fn(name, ifp->tx_pkts, arg);
		snprintf(name, sizeof(name), "if.%s.tx_bytes", ifp->name);
		fn(name, ifp->tx_bytes, arg);
		fault_stats(ifp, fn, arg);
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
