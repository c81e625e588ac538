/*
 * arp.c: ARP (RFC 826) over the shared neighbour table (neigh.c).
 *
 * RFC 826's reception algorithm, with RFC 5227's announcements and
 * conflict detection; requests limited to one a second per neighbour
 * (RFC 1122 2.3.2.1) by the table's timers.  A reply confirms a neighbour
 * (REACHABLE); a request from it only tells us where it is (STALE), as
 * Linux does, so reachability is checked before it is trusted for long.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "ip.h"
#include "link.h"
#include "neigh.h"
#include "stack.h"

static const uint8_t eth_zero[ETH_ADDR_LEN];

static void
arp_send(struct sonde_stack *st, struct sonde_if *ifp, uint16_t op, const uint8_t *eth_dst,
	 const uint8_t *tha, uint32_t spa, uint32_t tpa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	struct eth_hdr_view eh;
	struct arp_view a;
	uint8_t *p;

	if (m == NULL)
		return;
	/* 60 bytes: the Ethernet minimum without FCS, zero-padded. */
	p = (uint8_t *)rte_pktmbuf_append(m, 60);
	memset(p, 0, 60);
	memcpy(eh.dst, eth_dst, ETH_ADDR_LEN);
	memcpy(eh.src, ifp->mac, ETH_ADDR_LEN);
	eh.type = ETHERTYPE_ARP;
	wire_eth_emit(p, &eh);
	a.op = op;
	memcpy(a.sha, ifp->mac, ETH_ADDR_LEN);
	a.spa = spa;
	memcpy(a.tha, tha, ETH_ADDR_LEN);
	a.tpa = tpa;
	wire_arp_emit(p + ETH_HDR_LEN, &a);
	pkt_meta_init(m, ifp->index, 0); /* not IP: no IP probe sees it */
	st->stats.arp_out++;
	if (op == ARP_OP_REQUEST)
		st->stats.arp_requests_out++;
	else
		st->stats.arp_replies_out++;
	if_enqueue(st, ifp, m);
}

/* The neigh_family solicit hook: broadcast, or unicast to the cached MAC
 * when checking reachability. */
static void
arp_solicit(struct sonde_stack *st, struct sonde_if *ifp, const struct neigh_entry *e,
	    const uint8_t *mac)
{
	uint32_t tpa;

	memcpy(&tpa, e->key.addr, 4);
	arp_send(st, ifp, ARP_OP_REQUEST, mac ? mac : eth_broadcast_addr(), eth_zero,
		 ipv4_if_addr(ifp, tpa), tpa);
}

const struct neigh_family arp_family = {
	.solicit = arp_solicit,
	.drop_unresolved = DROP_ARP_TIMEOUT,
	.drop_queue_full = DROP_ARP_QUEUE_FULL,
	.drop_table_full = DROP_ARP_TABLE_FULL,
};

/* RFC 5227 2.3: announce an address with a request whose sender and target
 * are both the address. */
void
arp_announce(struct sonde_stack *st, struct sonde_if *ifp, uint32_t addr)
{
	arp_send(st, ifp, ARP_OP_REQUEST, eth_broadcast_addr(), eth_zero, addr, addr);
}

static bool
arp_sender_ok(const uint8_t *sha, uint32_t spa)
{
	uint32_t h = rte_be_to_cpu_32(spa);

	/* A sender must be unicast on both layers to be learnt. */
	if (sha[0] & 1)
		return false;
	if (h == 0 || h == 0xffffffff || (h >> 28) == 0xe || (h >> 24) == 127)
		return false;
	return true;
}

/* RFC 826 "Packet reception", with the merge before the target check. */
static void
arp_input_one(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	struct arp_view a;
	bool for_us = false;
	int r;

	st->stats.arp_in++;
	r = wire_arp_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &a);
	if (r)
		goto drop;
	for (unsigned i = 0; i < ifp->n_v4; i++)
		if (ifp->v4[i].addr == a.tpa)
			for_us = true;
	if (a.spa != 0 && ipv4_is_local(st, a.spa)) {
		/* Someone else claims our address (RFC 5227 2.4): keep it, count it. */
		r = DROP_ARP_ADDR_CONFLICT;
		goto drop;
	}
	if (a.spa == 0) {
		/* An RFC 5227 probe: answer it if it asks for our address, learn nothing. */
		if (!for_us || a.op != ARP_OP_REQUEST) {
			r = DROP_ARP_NOT_FOR_US;
			goto drop;
		}
	} else if (!arp_sender_ok(a.sha, a.spa)) {
		r = DROP_ARP_BAD_SENDER;
		goto drop;
	} else {
		/* Merge what we know; learn a new neighbour only when it talks to
		 * us.  Sibling stacks (peer.c) merge it too: the reply may
		 * answer a request one of them sent. */
		enum neigh_news news =
			a.op == ARP_OP_REPLY && for_us ? NEIGH_NEWS_CONFIRMED : NEIGH_NEWS_HEARD;

		neigh_update(st, ifp, 4, &a.spa, a.sha, news, for_us);
		peer_post_neigh(st, ifp, 4, &a.spa, a.sha, (uint8_t)news, for_us);
	}
	if (!for_us) {
		r = DROP_ARP_NOT_FOR_US;
		goto drop;
	}
	if (a.op == ARP_OP_REQUEST)
		arp_send(st, ifp, ARP_OP_REPLY, a.sha, a.sha, a.tpa, a.spa);
	rte_pktmbuf_free(m);
	return;
drop:
	pkt_drop(st, m, (enum drop_reason)r);
}

static void
arp_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		arp_input_one(st, ifp, pkts[i]);
}

static int
arp_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	return proto_eth_register(st, ETHERTYPE_ARP, arp_input);
}

const struct sonde_layer arp_layer = {
	.name = "arp",
	.init = arp_init,
};
