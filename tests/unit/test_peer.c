/*
 * test_peer.c: linked stacks (stack/core/peer.c), as sonded runs them on two
 * lcores: two stacks on the same link (two queues of one port, here two
 * test links with one MAC), linked with sonde_stacks_link.  The answer to
 * one stack's ARP request or neighbour solicitation arrives at the other
 * (as the kernel behind net_tap hashes every ARP packet to one queue): the
 * receiving stack sends nothing and counts no drop, the asking stack learns
 * the neighbour at its next poll and its held packets go out.  A request
 * from a neighbour teaches both stacks.  DAD (RFC 4862 5.4) is the first
 * stack's: one probe per address on the link, the other stack takes the
 * verdict by message, and a conflict either stack sees makes the address
 * a duplicate in both.  A full ring is counted, not a drop.  What
 * sonde_stacks_link refuses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "ip.h"
#include "link.h"
#include "packets.h"
#include "sock.h"
#include "sonde/socket.h"
#include "unit.h"

/* Stack a (first: DAD, announcements) and b, linked, each on its queue of
 * the link "test0". */
struct pair {
	struct unit_fx a, b;
};

static int
pair_teardown(void **state)
{
	struct pair *p = *state;

	/* b first: a's ring goes with a, and b may post to it. */
	if (p->b.st)
		fx_teardown((void *[]){ &p->b });
	if (p->a.st)
		fx_teardown((void *[]){ &p->a });
	return 0;
}

/* Both stacks, linked, with test0 (MAC_US0) and addrs, given to a alone:
 * b makes them its own from a's messages at its next poll (b's own
 * announcements and DAD probes: none, those are the first stack's). */
static void
pair_start(struct pair *p, const char *const *addrs, unsigned n_addrs)
{
	struct sonde_stack *sts[2];

	fx_start(&p->a, NULL);
	fx_start(&p->b, NULL);
	sts[0] = p->a.st;
	sts[1] = p->b.st;
	assert_int_equal(sonde_stacks_link(sts, 2), 0);
	fx_link(&p->a, "test0", MAC_US0, 1500);
	fx_link(&p->b, "test0", MAC_US0, 1500);
	/* The stacks' clocks start (DAD deadlines count from there). */
	fx_poll(&p->a);
	fx_poll(&p->b);
	for (unsigned i = 0; i < n_addrs; i++)
		fx_addr(&p->a, &p->a.link[0], addrs[i]);
	fx_poll(&p->b);
	assert_int_equal(fx_stat(&p->b, "peer.cmd_failed"), 0);
}

/* An IPv4 pair: the first stack alone announces 10.0.0.1 (RFC 5227 2.3). */
static void
pair_start4(struct pair *p)
{
	static const char *const addrs[] = { "10.0.0.1/24" };

	pair_start(p, addrs, 1);
	fx_poll(&p->a);
	assert_int_equal(p->a.link[0].n_tx, 1);
	tx_arp(&p->a.link[0], 0, ARP_OP_REQUEST, MAC_BCAST);
	fx_tx_clear(&p->a.link[0]);
	fx_poll(&p->b);
	assert_int_equal(p->b.link[0].n_tx, 0);
}

/* Both done with: b's counters and mbufs checked first, then a's. */
static void
pair_finish(struct pair *p)
{
	/* Every change a made, b made too. */
	assert_int_equal(fx_stat(&p->b, "peer.cmd_failed"), 0);
	assert_int_equal(fx_stat(&p->a, "peer.cmd_failed"), 0);
	fx_tx_clear(&p->a.link[0]);
	fx_finish(&p->b);
	fx_finish(&p->a);
}

static void
pair_snap(struct pair *p)
{
	fx_snap(&p->a);
	fx_snap(&p->b);
}

static void
ping(struct unit_fx *fx, const char *dst, uint16_t seq)
{
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(dst, &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 0x5eed, seq, 8), 0);
}

/* Frame i of l is our ICMP or ICMPv6 echo request seq, to eth_dst. */
static void
assert_echo(struct unit_link *l, unsigned i, const uint8_t *eth_dst, uint16_t seq)
{
	size_t len;
	const uint8_t *p = tx_frame(l, i, &len), *ic;

	if (wire_get16(p + 12) == ETHERTYPE_IPV6) {
		ic = tx_ipv6(l, i, eth_dst, &len) + IPV6_HDR_LEN;
		assert_int_equal(ic[0], ICMP6_ECHO_REQUEST);
	} else {
		ic = tx_ipv4(l, i, eth_dst, &len) + 20;
		assert_int_equal(ic[0], ICMP_ECHO);
	}
	assert_int_equal(wire_get16(ic + 4), 0x5eed);
	assert_int_equal(wire_get16(ic + 6), seq);
}

/* Polls both stacks every 100 ms for ns; no frame may leave either. */
static void
pair_quiet(struct pair *p, uint64_t ns)
{
	for (uint64_t t = 0; t < ns; t += 100 * MS) {
		fx_advance(&p->a, 100 * MS);
		fx_advance(&p->b, 100 * MS);
		fx_poll(&p->a);
		fx_poll(&p->b);
		assert_int_equal(p->a.link[0].n_tx, 0);
		assert_int_equal(p->b.link[0].n_tx, 0);
	}
}

/* a asks for A; A's reply arrives at b. */
static void
test_peer_arp_reply_elsewhere(void **state)
{
	struct pair *p = *state;
	struct unit_link *la, *lb;

	pair_start4(p);
	la = &p->a.link[0];
	lb = &p->b.link[0];
	pair_snap(p);
	ping(&p->a, "10.0.0.2", 1);
	ping(&p->a, "10.0.0.2", 2);
	fx_poll(&p->a);
	assert_int_equal(la->n_tx, 1);
	tx_arp(la, 0, ARP_OP_REQUEST, MAC_BCAST);
	fx_tx_clear(la);

	/* b learns A from the reply (for our address: RFC 826 merges it),
	 * sends nothing, drops nothing, and tells a. */
	fx_inject(&p->b, lb, pkt_arp_reply, sizeof(pkt_arp_reply));
	fx_poll(&p->b);
	assert_int_equal(lb->n_tx, 0);
	assert_int_equal(fx_drops_delta(&p->b), 0);
	assert_int_equal(fx_stat(&p->b, "neigh.entries"), 1);
	assert_int_equal(fx_delta(&p->b, "peer.sent"), 1);

	/* a's next poll: both held echoes leave for A's MAC, in order. */
	fx_poll(&p->a);
	assert_int_equal(la->n_tx, 2);
	assert_echo(la, 0, MAC_A, 1);
	assert_echo(la, 1, MAC_A, 2);
	fx_tx_clear(la);
	assert_int_equal(fx_stat(&p->a, "neigh.entries"), 1);
	assert_int_equal(fx_delta(&p->a, "peer.received"), 1);
	assert_int_equal(fx_delta(&p->a, "arp.requests_out"), 1);
	assert_int_equal(fx_drops_delta(&p->a), 0);

	/* Confirmed in a (REACHABLE): no more requests, no arp-timeout, and
	 * b never answers or probes anything for a. */
	pair_quiet(p, 3 * SEC);
	ping(&p->a, "10.0.0.2", 3);
	fx_poll(&p->a);
	assert_int_equal(la->n_tx, 1);
	assert_echo(la, 0, MAC_A, 3);
	assert_int_equal(fx_drops_delta(&p->a), 0);
	assert_int_equal(fx_drops_delta(&p->b), 0);
	assert_int_equal(fx_delta(&p->b, "arp.out"), 0);
	assert_int_equal(fx_delta(&p->a, "peer.sent"), 0);
	pair_finish(p);
}

/* Neighbour A asks b for our address with frame req: b answers (answer()
 * checks its one frame), and a, silently, learns A (STALE): its echo to
 * dst goes straight to A's MAC. */
static void
request_elsewhere(struct pair *p, const uint8_t *req, size_t len,
		  void (*answer)(struct unit_link *l), const char *dst)
{
	struct unit_link *la = &p->a.link[0], *lb = &p->b.link[0];

	pair_snap(p);
	fx_inject(&p->b, lb, req, len);
	fx_poll(&p->b);
	assert_int_equal(lb->n_tx, 1);
	answer(lb);
	fx_tx_clear(lb);
	fx_poll(&p->a);
	assert_int_equal(la->n_tx, 0);
	assert_int_equal(fx_stat(&p->a, "neigh.entries"), 1);
	ping(&p->a, dst, 1);
	fx_poll(&p->a);
	assert_int_equal(la->n_tx, 1);
	assert_echo(la, 0, MAC_A, 1);
	assert_int_equal(fx_drops_delta(&p->a), 0);
	assert_int_equal(fx_drops_delta(&p->b), 0);
	pair_finish(p);
}

static void
arp_answer(struct unit_link *l)
{
	tx_arp(l, 0, ARP_OP_REPLY, MAC_A);
}

static void
test_peer_arp_request_elsewhere(void **state)
{
	struct pair *p = *state;

	pair_start4(p);
	request_elsewhere(p, pkt_arp_req, sizeof(pkt_arp_req), arp_answer, "10.0.0.2");
}

/* An IPv6 pair, DAD done: only a probes (two addresses, two NS from ::);
 * b is not ready until a's verdict arrives, then sends nothing either. */
static void
pair_start6(struct pair *p)
{
	static const char *const addrs[] = { "fe80::ff:fe00:1/64", "fd00::1/64" };
	struct unit_link *la, *lb;

	pair_start(p, addrs, 2);
	la = &p->a.link[0];
	lb = &p->b.link[0];
	fx_poll(&p->a);
	assert_int_equal(la->n_tx, 2);
	tx_nd6(la, 0, MAC_SN1, ND_NEIGHBOR_SOLICIT, 0, "::", "ff02::1:ff00:1", "fe80::ff:fe00:1",
	       0);
	tx_nd6(la, 1, MAC_SN1, ND_NEIGHBOR_SOLICIT, 0, "::", "ff02::1:ff00:1", "fd00::1", 0);
	fx_tx_clear(la);
	fx_poll(&p->b);
	assert_int_equal(lb->n_tx, 0);
	assert_false(sonde_ready(p->b.st));
	/* b has no deadline of its own: long after, still tentative. */
	fx_advance(&p->b, 5 * SEC);
	fx_poll(&p->b);
	assert_false(sonde_ready(p->b.st));
	fx_advance(&p->a, 1 * SEC);
	fx_poll(&p->a);
	assert_true(sonde_ready(p->a.st));
	assert_false(sonde_ready(p->b.st));
	fx_poll(&p->b);
	assert_true(sonde_ready(p->b.st));
	assert_int_equal(la->n_tx, 0);
	assert_int_equal(lb->n_tx, 0);
}

/* a solicits A; A's NA arrives at b, which never asked. */
static void
test_peer_na_elsewhere(void **state)
{
	struct pair *p = *state;
	struct unit_link *la, *lb;

	pair_start6(p);
	la = &p->a.link[0];
	lb = &p->b.link[0];
	pair_snap(p);
	ping(&p->a, "fd00::2", 1);
	fx_poll(&p->a);
	assert_int_equal(la->n_tx, 1);
	tx_nd6(la, 0, MAC_SN2, ND_NEIGHBOR_SOLICIT, 0, "fd00::1", "ff02::1:ff00:2", "fd00::2",
	       ND_OPT_SOURCE_LINKADDR);
	fx_tx_clear(la);

	/* Not a drop in b (nd-unsolicited-advert): handed to a.  b makes no
	 * entry of it (RFC 4861 7.2.5: an NA creates none). */
	fx_inject(&p->b, lb, pkt6_na, sizeof(pkt6_na));
	fx_poll(&p->b);
	assert_int_equal(lb->n_tx, 0);
	assert_int_equal(fx_drops_delta(&p->b), 0);
	assert_int_equal(fx_stat(&p->b, "neigh.entries"), 0);
	assert_int_equal(fx_delta(&p->b, "peer.sent"), 1);

	fx_poll(&p->a);
	assert_int_equal(la->n_tx, 1);
	assert_echo(la, 0, MAC_A, 1);
	fx_tx_clear(la);
	assert_int_equal(fx_stat(&p->a, "neigh.entries"), 1);
	assert_int_equal(fx_drops_delta(&p->a), 0);
	/* Solicited: REACHABLE in a, so no NS for 3 s, and nothing from b. */
	pair_quiet(p, 3 * SEC);
	assert_int_equal(fx_delta(&p->a, "nd.ns_out"), 1);
	assert_int_equal(fx_delta(&p->b, "nd.ns_out") + fx_delta(&p->b, "nd.na_out"), 0);
	pair_finish(p);
}

static void
nd6_answer(struct unit_link *l)
{
	tx_nd6(l, 0, MAC_A, ND_NEIGHBOR_ADVERT, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE,
	       "fd00::1", "fd00::2", "fd00::1", ND_OPT_TARGET_LINKADDR);
}

/* A solicits fd00::1 (with its link-layer address) at b. */
static void
test_peer_ns_elsewhere(void **state)
{
	struct pair *p = *state;

	pair_start6(p);
	request_elsewhere(p, pkt6_ns, sizeof(pkt6_ns), nd6_answer, "fd00::2");
}

/* RFC 4862 5.4.3: another node's probe for fd00::1 reaches b while a's
 * DAD runs: b counts the conflict, and the address is a duplicate in both;
 * the link-local one comes through. */
static void
test_peer_dad_conflict(void **state)
{
	static const char *const addrs[] = { "fe80::ff:fe00:1/64", "fd00::1/64" };
	struct pair *p = *state;
	struct sonde_if_addr6 *a;

	pair_start(p, addrs, 2);
	fx_poll(&p->a);
	assert_int_equal(p->a.link[0].n_tx, 2);
	fx_tx_clear(&p->a.link[0]);
	pair_snap(p);
	fx_inject(&p->b, &p->b.link[0], pkt6_ns_dad, sizeof(pkt6_ns_dad));
	fx_poll(&p->b);
	assert_int_equal(p->b.link[0].n_tx, 0);
	assert_one_drop(&p->b, "drop.in.nd-dad-conflict");
	assert_int_equal(fx_delta(&p->b, "nd.dad_failed"), 1);
	fx_poll(&p->a);
	a = ipv6_if_find_addr(p->a.link[0].ifp, ip6("fd00::1").a);
	assert_non_null(a);
	assert_int_equal(a->state, ADDR6_DUPLICATE);
	assert_int_equal(fx_delta(&p->a, "nd.dad_failed"), 0);
	assert_int_equal(fx_drops_delta(&p->a), 0);
	/* a's deadline passes: the link-local address is preferred, in b too. */
	fx_advance(&p->a, 1 * SEC);
	fx_poll(&p->a);
	fx_poll(&p->b);
	assert_true(sonde_ready(p->a.st));
	assert_true(sonde_ready(p->b.st));
	a = ipv6_if_find_addr(p->b.link[0].ifp, ip6("fd00::1").a);
	assert_int_equal(a->state, ADDR6_DUPLICATE);
	a = ipv6_if_find_addr(p->b.link[0].ifp, ip6("fe80::ff:fe00:1").a);
	assert_int_equal(a->state, ADDR6_PREFERRED);
	assert_int_equal(p->a.link[0].n_tx + p->b.link[0].n_tx, 0);
	pair_finish(p);
}

/* A sibling that does not poll: its ring fills; the rest is counted
 * (peer.ring_full), and nothing is dropped. */
static void
test_peer_ring_full(void **state)
{
	struct pair *p = *state;
	struct peer_msg m = { .kind = PEER_NEIGH, .af = 4, .ifindex = 1, .news = NEIGH_NEWS_HEARD };
	uint64_t sent;

	pair_start4(p);
	pair_snap(p);
	memcpy(m.mac, MAC_A, 6);
	for (unsigned i = 0; i < 1100; i++) {
		uint32_t a = ip4("10.0.0.2");

		memcpy(m.addr, &a, 4);
		peer_post(p->a.st, &m);
	}
	sent = fx_delta(&p->a, "peer.sent");
	assert_true(sent >= 1000 && sent < 1100);
	assert_int_equal(fx_delta(&p->a, "peer.ring_full"), 1100 - sent);
	assert_int_equal(fx_drops_delta(&p->a), 0);
	/* b drains a bounded batch a poll, all in time: HEARD, no entry made. */
	for (unsigned i = 0; i < 40; i++)
		fx_poll(&p->b);
	assert_int_equal(fx_delta(&p->b, "peer.received"), sent);
	assert_int_equal(fx_stat(&p->b, "neigh.entries"), 0);
	assert_int_equal(p->b.link[0].n_tx, 0);
	assert_int_equal(fx_drops_delta(&p->b), 0);
	pair_finish(p);
}

/* Frame i of l is an echo reply to A (IPv4 or IPv6): the address it
 * answered from is from. */
static void
assert_echo_reply(struct unit_link *l, unsigned i, const char *from)
{
	size_t len;
	const uint8_t *p = tx_frame(l, i, &len), *ip;
	struct sonde_prefix a;

	assert_int_equal(sonde_prefix_parse(from, &a), 0);
	if (wire_get16(p + 12) == ETHERTYPE_IPV6) {
		ip = tx_ipv6(l, i, MAC_A, &len);
		assert_int_equal(ip[IPV6_HDR_LEN], ICMP6_ECHO_REPLY);
		assert_memory_equal(ip + 8, a.addr.v6, 16);
	} else {
		ip = tx_ipv4(l, i, MAC_A, &len);
		assert_int_equal(ip[20], ICMP_ECHOREPLY);
		assert_int_equal(wire_load32(ip + 12), a.addr.v4);
	}
}

/* Echo requests from A (which both stacks know) to each of a and b:
 * answered (1) or not (0), by both alike. */
static void
pair_echo(struct pair *p, const uint8_t *req, size_t len, const char *to, int answered)
{
	struct unit_fx *fx[2] = { &p->a, &p->b };

	for (unsigned i = 0; i < 2; i++) {
		struct unit_link *l = &fx[i]->link[0];

		fx_inject(fx[i], l, req, len);
		fx_poll(fx[i]);
		if (l->n_tx != (unsigned)answered) {
			for (unsigned j = 0; j < l->n_tx; j++) {
				size_t fl;
				const uint8_t *fp = tx_frame(l, j, &fl);

				print_message("stack %u frame %u type %04x len %zu\n", i, j,
					      wire_get16(fp + 12), fl);
			}
			fail_msg("to %s: %u frames, want %d", to ? to : "-", l->n_tx, answered);
		}
		if (answered)
			assert_echo_reply(l, 0, to);
		fx_tx_clear(l);
	}
}

/* What a's application changes at run time, through the public API, b
 * makes too at its next poll, and undoes with it: addresses, routes,
 * neighbours, a UDP service, forwarding, an interface's MTU; a change b
 * cannot make (an interface only a has) is counted and logged there. */
static void
test_peer_changes(void **state)
{
	static const char *const addrs[] = { "10.0.0.1/24", "fd00::1/64" };
	static const uint8_t mac_r[6] = { 0x02, 0, 0, 0, 0x00, 0x99 };
	struct pair *p = *state;
	struct unit_fx *fx[2];
	struct sonde_prefix pfx, gw, nb;
	uint8_t f[128];

	pair_start(p, addrs, 2);
	fx[0] = &p->a;
	fx[1] = &p->b;
	/* DAD: a probes, b takes a's verdict. */
	for (unsigned i = 0; i < 5 && !(sonde_ready(p->a.st) && sonde_ready(p->b.st)); i++) {
		fx_advance(&p->a, SEC);
		fx_advance(&p->b, SEC);
		fx_poll(&p->a);
		fx_poll(&p->b);
	}
	assert_true(sonde_ready(p->a.st) && sonde_ready(p->b.st));
	fx_tx_clear(&p->a.link[0]);
	fx_tx_clear(&p->b.link[0]);
	/* A is a permanent neighbour of both (a told b): the echo replies go
	 * out at once, with no ARP or ND. */
	assert_int_equal(sonde_prefix_parse("10.0.0.2", &nb), 0);
	assert_int_equal(sonde_neigh_add(p->a.st, p->a.link[0].ifp->index, &nb, MAC_A), 0);
	assert_int_equal(sonde_prefix_parse("fd00::2", &nb), 0);
	assert_int_equal(sonde_neigh_add(p->a.st, p->a.link[0].ifp->index, &nb, MAC_A), 0);
	fx_poll(&p->b);
	pair_echo(p, pkt_echo_req, sizeof(pkt_echo_req), "10.0.0.1", 1);
	pair_echo(p, pkt6_echo_req, sizeof(pkt6_echo_req), "fd00::1", 1);

	/* An address added: both answer at it (the request to 10.0.0.7 is
	 * A's echo request with its destination and checksum mended). */
	memcpy(f, pkt_echo_req, sizeof(pkt_echo_req));
	f[ETH_HDR_LEN + 19] = 7;
	wire_put16(f + ETH_HDR_LEN + 10, 0);
	wire_put16(f + ETH_HDR_LEN + 10, ref_cksum(f + ETH_HDR_LEN, 20));
	pair_echo(p, f, sizeof(pkt_echo_req), NULL, 0);
	assert_int_equal(sonde_prefix_parse("10.0.0.7/24", &pfx), 0);
	assert_int_equal(sonde_addr_add(p->a.st, p->a.link[0].ifp->index, &pfx), 0);
	fx_poll(&p->a);
	fx_poll(&p->b);
	assert_int_equal(p->a.link[0].n_tx, 1); /* its announcement, a's alone */
	assert_int_equal(p->b.link[0].n_tx, 0);
	fx_tx_clear(&p->a.link[0]);
	pair_echo(p, f, sizeof(pkt_echo_req), "10.0.0.7", 1);
	/* ... and removed: neither does. */
	assert_int_equal(sonde_addr_del(p->a.st, p->a.link[0].ifp->index, &pfx), 0);
	assert_int_equal(sonde_addr_del(p->a.st, p->a.link[0].ifp->index, &pfx), -EADDRNOTAVAIL);
	fx_poll(&p->b);
	pair_echo(p, f, sizeof(pkt_echo_req), NULL, 0);

	/* A route via R (a permanent neighbour too): both send there. */
	assert_int_equal(sonde_prefix_parse("10.0.0.9", &nb), 0);
	assert_int_equal(sonde_neigh_add(p->a.st, p->a.link[0].ifp->index, &nb, mac_r), 0);
	assert_int_equal(sonde_prefix_parse("10.9.0.0/16", &pfx), 0);
	assert_int_equal(sonde_prefix_parse("10.0.0.9", &gw), 0);
	assert_int_equal(sonde_route_add(p->a.st, &pfx, &gw), 0);
	fx_poll(&p->b);
	for (unsigned i = 0; i < 2; i++) {
		ping(fx[i], "10.9.0.1", (uint16_t)i);
		fx_poll(fx[i]);
		assert_int_equal(fx[i]->link[0].n_tx, 1);
		assert_echo(&fx[i]->link[0], 0, mac_r, (uint16_t)i);
		fx_tx_clear(&fx[i]->link[0]);
	}
	/* ... and removed: no route on either. */
	assert_int_equal(sonde_route_del(p->a.st, &pfx), 0);
	fx_poll(&p->b);
	for (unsigned i = 0; i < 2; i++) {
		struct sonde_prefix d;

		assert_int_equal(sonde_prefix_parse("10.9.0.1", &d), 0);
		assert_int_equal(sonde_ping(fx[i]->st, &d, 0x5eed, 9, 8), -EHOSTUNREACH);
		assert_int_equal(fx_stat(fx[i], "drop.out.no-route"), 1);
	}
	/* A forgotten: both ask for it (ARP) before they answer. */
	assert_int_equal(sonde_prefix_parse("10.0.0.2", &nb), 0);
	assert_int_equal(sonde_neigh_del(p->a.st, p->a.link[0].ifp->index, &nb), 0);
	fx_poll(&p->b);
	for (unsigned i = 0; i < 2; i++) {
		fx_inject(fx[i], &fx[i]->link[0], pkt_echo_req, sizeof(pkt_echo_req));
		fx_poll(fx[i]);
		assert_int_equal(fx[i]->link[0].n_tx, 1);
		tx_arp(&fx[i]->link[0], 0, ARP_OP_REQUEST, MAC_BCAST);
		fx_tx_clear(&fx[i]->link[0]);
	}
	/* The MTU: both fragment to it. */
	assert_int_equal(sonde_if_set_mtu(p->a.st, p->a.link[0].ifp->index, 1280), 0);
	fx_poll(&p->b);
	assert_int_equal(p->b.link[0].ifp->mtu, 1280);
	/* A UDP service: both echo. */
	assert_int_equal(sonde_udp_service(p->a.st, 7, SONDE_SERVICE_DISCARD), 0);
	fx_poll(&p->b);
	for (unsigned i = 0; i < 2; i++) {
		fx_snap(fx[i]);
		fx_inject(fx[i], &fx[i]->link[0], pkt_udp_echo, sizeof(pkt_udp_echo));
		fx_poll(fx[i]);
		assert_int_equal(fx_delta(fx[i], "udp.discarded"), 1);
	}
	assert_int_equal(sonde_forwarding(p->a.st, true), 0);
	fx_poll(&p->b);
	assert_true(p->b.st->forwarding);

	/* An interface only a has: b cannot add an address to it. */
	fx_link(&p->a, "test1", MAC_US1, 1500);
	fx_addr(&p->a, &p->a.link[1], "10.1.0.1/24");
	fx_tx_clear(&p->a.link[1]);
	fx_poll(&p->b);
	assert_int_equal(fx_stat(&p->b, "peer.cmd_failed"), 1);
	assert_int_equal(fx_stat(&p->a, "peer.cmd_failed"), 0);
	/* What waits for A is dropped when nobody answers (each stack held
	 * its own: the mbufs must all be back before the stacks go). */
	for (unsigned t = 0; t < 5; t++)
		for (unsigned i = 0; i < 2; i++) {
			fx_advance(fx[i], SEC);
			fx_poll(fx[i]);
			fx_tx_clear(&fx[i]->link[0]);
		}
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(fx_stat(fx[i], "drop.out.arp-timeout"), 1);
	fx_tx_clear(&p->a.link[1]);
	fx_finish(&p->b);
	fx_finish(&p->a);
}

static void
test_peer_link_errors(void **state)
{
	struct pair *p = *state;
	struct sonde_stack *sts[3];

	fx_start(&p->a, NULL);
	fx_start(&p->b, NULL);
	sts[0] = p->a.st;
	sts[1] = p->b.st;
	sts[2] = p->a.st;
	assert_int_equal(sonde_stacks_link(sts, 1), -EINVAL);
	assert_int_equal(sonde_stacks_link(NULL, 2), -EINVAL);
	assert_int_equal(sonde_stacks_link(sts, 3), -EINVAL); /* a twice */
	fx_link(&p->b, "test0", MAC_US0, 1500);
	assert_int_equal(sonde_stacks_link(sts, 2), -EBUSY); /* b has a port */
	fx_finish(&p->b);
	fx_start(&p->b, NULL);
	sts[1] = p->b.st;
	assert_int_equal(sonde_stacks_link(sts, 2), 0);
	assert_int_equal(sonde_stacks_link(sts, 2), -EALREADY);
	fx_finish(&p->b);
	fx_finish(&p->a);
}

/* --- decapsulated packets to the stack that owns their flow --- */

/* A port's RSS as port.c reads it from a PMD: a key and a table spreading
 * hashes over queues 0 and 1. */
static struct if_rss *
rss_two_queues(void)
{
	static const uint8_t key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
		0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
		0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	struct if_rss *r = rte_zmalloc("test_rss", sizeof(*r) + 128 * sizeof(r->reta[0]), 0);

	assert_non_null(r);
	memcpy(r->key, key, sizeof(key));
	r->key_len = sizeof(key);
	r->reta_size = 128;
	for (unsigned i = 0; i < 128; i++)
		r->reta[i] = (uint16_t)(i & 1);
	return r;
}

/* One IPIP frame from 10.0.0.2 to us (10.0.0.1): inside it a UDP datagram
 * from 192.168.5.2:sport to 192.168.5.1:7 (the echo service). */
static size_t
ipip_udp_frame(uint8_t *f, uint16_t sport)
{
	uint8_t *o = f + 14, *in = o + 20, *u = in + 20;
	size_t ulen = 8 + 8;

	memset(f, 0, 14 + 20 + 20 + ulen);
	memcpy(f, MAC_US0, 6);
	memcpy(f + 6, MAC_A, 6);
	wire_put16(f + 12, ETHERTYPE_IPV4);
	for (int i = 0; i < 2; i++) {
		uint8_t *ip = i ? in : o;

		ip[0] = 0x45;
		wire_put16(ip + 2, (uint16_t)(i ? 20 + ulen : 40 + ulen));
		ip[8] = 64;
		ip[9] = i ? IPPROTO_UDP_ : 4;
		frame_set_ip4(ip + 12, i ? "192.168.5.2" : "10.0.0.2");
		frame_set_ip4(ip + 16, i ? "192.168.5.1" : "10.0.0.1");
	}
	wire_put16(u, sport);
	wire_put16(u + 2, 7);
	wire_put16(u + 4, (uint16_t)ulen);
	memcpy(u + 8, "handoff!", 8);
	wire_put16(u + 6, ref_udp_cksum(in));
	wire_put16(in + 10, ref_cksum(in, 20));
	wire_put16(o + 10, ref_cksum(o, 20));
	return 14 + 20 + 20 + ulen;
}

/* Two stacks on the two queues of a port with RSS, each with the same ipip
 * tunnel.  The port hashes the outer packets to stack a's queue; the inner
 * flows are each a's or b's by the port's hash of the inner packet, and a
 * hands b's over: b's echo service answers them (from b's queue), a's its
 * own; counted on both sides.  Active opens over the tunnel pick ports by
 * that hash too: b's hash to queue 1, a's to queue 0. */
static void
test_peer_tunnel_handoff(void **state)
{
	static const char *const addrs[] = { "10.0.0.1/24" };
	struct pair *p = *state;
	struct sonde_if_conf tc = { .type = SONDE_IF_TUNNEL, .name = "ip.tun0" };
	struct sonde_prefix a, mac_of;
	struct unit_fx *fx[2];
	unsigned want[2] = { 0, 0 };
	int t;

	pair_start(p, addrs, 1);
	fx[0] = &p->a;
	fx[1] = &p->b;
	for (unsigned i = 0; i < 2; i++) {
		fx[i]->link[0].ifp->rss = rss_two_queues();
		fx[i]->link[0].ifp->queue_id = (uint16_t)i;
	}
	tc.tunnel.mode = SONDE_TUNNEL_IPIP;
	assert_int_equal(sonde_prefix_parse("10.0.0.1", &tc.tunnel.local), 0);
	assert_int_equal(sonde_prefix_parse("10.0.0.2", &tc.tunnel.remote), 0);
	/* Each stack makes the tunnel (as sonded does); what is set on it
	 * then, a's, reaches b by message. */
	t = sonde_if_create(p->a.st, &tc);
	assert_true(t > 0);
	assert_int_equal(sonde_if_create(p->b.st, &tc), t);
	assert_int_equal(sonde_prefix_parse("192.168.5.1/30", &a), 0);
	assert_int_equal(sonde_addr_add(p->a.st, t, &a), 0);
	assert_int_equal(sonde_prefix_parse("10.0.0.2", &mac_of), 0);
	assert_int_equal(sonde_neigh_add(p->a.st, p->a.link[0].ifp->index, &mac_of, MAC_A), 0);
	assert_int_equal(sonde_udp_service(p->a.st, 7, SONDE_SERVICE_ECHO), 0);
	fx_poll(&p->b);
	fx_tx_clear(&p->a.link[0]);
	fx_tx_clear(&p->b.link[0]);
	pair_snap(p);

	/* 32 flows, all in by a's queue. */
	for (uint16_t sport = 4000; sport < 4032; sport++) {
		uint8_t f[128];
		size_t len = ipip_udp_frame(f, sport);

		want[sock_rss_queue(p->a.link[0].ifp->rss, 4, f + 14 + 20 + 16, f + 14 + 20 + 12,
				    htons(7), htons(sport))]++;
		fx_inject(&p->a, &p->a.link[0], f, len);
	}
	assert_true(want[0] > 0 && want[1] > 0);
	fx_poll(&p->a);
	fx_poll(&p->b);
	assert_int_equal(fx_delta(&p->a, "tunnel.decap"), 32);
	assert_int_equal(fx_delta(&p->a, "peer.handoff_out"), want[1]);
	assert_int_equal(fx_delta(&p->b, "peer.handoff_in"), want[1]);
	assert_int_equal(fx_delta(&p->a, "udp.echoed"), want[0]);
	assert_int_equal(fx_delta(&p->b, "udp.echoed"), want[1]);
	/* Each answer left by the queue of the stack that made it, in IPIP
	 * (a may also ask for 10.0.0.2 again: ARP is not counted). */
	for (unsigned i = 0; i < 2; i++) {
		unsigned ipip = 0;

		for (unsigned k = 0; k < fx[i]->link[0].n_tx; k++) {
			size_t len;
			const uint8_t *f = tx_frame(&fx[i]->link[0], k, &len);

			if (wire_get16(f + 12) != ETHERTYPE_IPV4)
				continue;
			assert_int_equal(f[14 + 9], 4);
			assert_memory_equal(f + 14 + 20 + 20 + 8, "handoff!", 8);
			ipip++;
		}
		assert_int_equal(ipip, want[i]);
	}
	assert_int_equal(fx_drops_delta(&p->a), 0);
	assert_int_equal(fx_drops_delta(&p->b), 0);
	fx_tx_clear(&p->a.link[0]);
	fx_tx_clear(&p->b.link[0]);

	/* Active opens over the tunnel: ports whose flows come back to the
	 * opener's queue by the port's hash of the inner packet. */
	for (unsigned i = 0; i < 2; i++)
		for (unsigned c = 0; c < 8; c++) {
			struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80) };
			struct sockaddr_in me;
			socklen_t ml = sizeof(me);
			struct sonde_sock *s;

			inet_pton(AF_INET, "192.168.5.2", &to.sin_addr);
			assert_int_equal(sonde_socket(fx[i]->st, AF_INET, SOCK_STREAM, NULL, &s),
					 0);
			assert_int_equal(sonde_connect(s, (struct sockaddr *)&to, sizeof(to)),
					 -EINPROGRESS);
			assert_int_equal(sonde_getsockname(s, (struct sockaddr *)&me, &ml), 0);
			assert_int_equal(sock_rss_queue(fx[i]->link[0].ifp->rss, 4,
							(const uint8_t *)&me.sin_addr,
							(const uint8_t *)&to.sin_addr, me.sin_port,
							to.sin_port),
					 i);
			sonde_abort(s);
		}
	/* A poll lets the aborted connections go (and their SYNs). */
	for (unsigned i = 0; i < 2; i++) {
		fx_advance(fx[i], 100 * MS);
		fx_poll(fx[i]);
	}
	fx_tx_clear(&p->a.link[0]);
	fx_tx_clear(&p->b.link[0]);
	pair_finish(p);
}

int
main(void)
{
	static struct pair pair;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, pair_teardown, &pair)
	const struct CMUnitTest tests[] = {
		T(test_peer_arp_reply_elsewhere),
		T(test_peer_arp_request_elsewhere),
		T(test_peer_na_elsewhere),
		T(test_peer_ns_elsewhere),
		T(test_peer_dad_conflict),
		T(test_peer_ring_full),
		T(test_peer_changes),
		T(test_peer_link_errors),
		T(test_peer_tunnel_handoff),
	};
#undef T
	int r;

	unit_init_mem("peer", 512);
	r = cmocka_run_group_tests_name("peer", tests, NULL, NULL);
	unit_fini();
	return r;
}
