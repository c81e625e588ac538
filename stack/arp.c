/*
 * arp.c: the ARP neighbour table (RFC 826, with RFC 1122 2.3.2.1's
 * flooding limits and RFC 5227's announcements).
 *
 * Entries live in an rte_hash keyed by (interface, IPv4 address); the entry
 * array is indexed by the key's position in the hash.  An entry is
 * INCOMPLETE while we ask (holding at most arp_queue packets, oldest dropped
 * first) and REACHABLE once answered; it is refreshed by a unicast request
 * shortly before it expires, and deleted when it expires unconfirmed.
 * Requests for an unresolved neighbour go out at most once a second
 * (RFC 1122 2.3.2.1), three times, then the held packets are dropped.
 */
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "stack.h"

#define ARP_RETRIES 3
#define ARP_RETRY_NS 1000000000ull
#define ARP_REFRESH_NS 5000000000ull /* ask again this long before expiry */
#define ARP_SCAN_NS 100000000ull

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE };

struct arp_key {
	uint32_t addr;
	uint16_t ifindex;
	uint16_t pad;
};

struct arp_entry {
	enum arp_state state;
	uint8_t mac[ETH_ADDR_LEN];
	uint8_t tries;
	uint32_t addr;
	uint16_t ifindex;
	uint64_t confirmed; /* ns */
	uint64_t last_req;  /* ns */
	struct rte_mbuf **q;
	uint32_t qlen;
};

int
arp_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	struct arp_table *t = &st->arp;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = { 0 };

	t->size = conf->arp_entries ? conf->arp_entries : 1024;
	t->timeout_ms = conf->arp_timeout_ms ? conf->arp_timeout_ms : 60000;
	t->queue_max = conf->arp_queue ? conf->arp_queue : 4;
	snprintf(name, sizeof(name), "sonde_arp%u_%p", st->id, (void *)st);
	hp.name = name;
	hp.entries = t->size;
	hp.key_len = sizeof(struct arp_key);
	hp.hash_func = rte_jhash;
	hp.socket_id = (int)rte_socket_id();
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL)
		return -rte_errno;
	/* rte_hash hands out key positions below its slot count, entries + 1. */
	t->n_slots = t->size + 1;
	t->entries = rte_zmalloc("sonde_arp", sizeof(*t->entries) * t->n_slots, 0);
	t->qstore = rte_zmalloc("sonde_arpq",
				sizeof(struct rte_mbuf *) * t->n_slots * t->queue_max, 0);
	if (t->entries == NULL || t->qstore == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n_slots; i++)
		t->entries[i].q = t->qstore + (size_t)i * t->queue_max;
	return 0;
}

static void
arp_entry_delete(struct sonde_stack *st, struct arp_entry *e, enum drop_reason why)
{
	struct arp_key k = { .addr = e->addr, .ifindex = e->ifindex };

	for (uint32_t i = 0; i < e->qlen; i++)
		pkt_drop(st, e->q[i], why);
	e->qlen = 0;
	e->state = ARP_FREE;
	rte_hash_del_key(st->arp.hash, &k);
}

void
arp_fini(struct sonde_stack *st)
{
	struct arp_table *t = &st->arp;

	if (t->entries)
		for (uint32_t i = 0; i < t->n_slots; i++)
			if (t->entries[i].state != ARP_FREE)
				arp_entry_delete(st, &t->entries[i], DROP_SHUTDOWN);
	rte_free(t->entries);
	rte_free(t->qstore);
	rte_hash_free(t->hash);
}

static struct arp_entry *
arp_lookup(struct sonde_stack *st, uint16_t ifindex, uint32_t addr)
{
	struct arp_key k = { .addr = addr, .ifindex = ifindex };
	int pos = rte_hash_lookup(st->arp.hash, &k);

	return pos >= 0 ? &st->arp.entries[pos] : NULL;
}

static struct arp_entry *
arp_create(struct sonde_stack *st, uint16_t ifindex, uint32_t addr)
{
	struct arp_key k = { .addr = addr, .ifindex = ifindex };
	int pos = rte_hash_add_key(st->arp.hash, &k);
	struct arp_entry *e;

	if (pos < 0)
		return NULL;
	e = &st->arp.entries[pos];
	e->addr = addr;
	e->ifindex = ifindex;
	e->qlen = 0;
	e->tries = 0;
	e->last_req = 0;
	e->confirmed = 0;
	return e;
}

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
	m->packet_type = RTE_PTYPE_L2_ETHER_ARP;
	m->port = ifp->index;
	st->stats.arp_out++;
	if (op == ARP_OP_REQUEST)
		st->stats.arp_requests_out++;
	else
		st->stats.arp_replies_out++;
	if_enqueue(st, ifp, m);
}

static void
arp_request(struct sonde_stack *st, struct sonde_if *ifp, struct arp_entry *e, const uint8_t *dst)
{
	static const uint8_t zero[ETH_ADDR_LEN];
	uint32_t spa = ipv4_if_addr(ifp, e->addr);

	e->last_req = st->now;
	e->tries++;
	arp_send(st, ifp, ARP_OP_REQUEST, dst ? dst : eth_broadcast_addr(), zero, spa, e->addr);
}

/* RFC 5227 2.3: announce an address with a request whose sender and target
 * are both the address. */
void
arp_announce(struct sonde_stack *st, struct sonde_if *ifp, uint32_t addr)
{
	static const uint8_t zero[ETH_ADDR_LEN];

	arp_send(st, ifp, ARP_OP_REQUEST, eth_broadcast_addr(), zero, addr, addr);
}

static void
arp_confirm(struct sonde_stack *st, struct sonde_if *ifp, struct arp_entry *e, const uint8_t *mac)
{
	memcpy(e->mac, mac, ETH_ADDR_LEN);
	e->state = ARP_REACHABLE;
	e->confirmed = st->now;
	e->tries = 0;
	/* Release what waited for the answer, in order. */
	for (uint32_t i = 0; i < e->qlen; i++)
		eth_output_ip(st, ifp, e->q[i], e->mac);
	e->qlen = 0;
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
void
arp_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	struct arp_view a;
	struct arp_entry *e;
	bool merged = false, for_us;
	int r;

	st->stats.arp_in++;
	r = wire_arp_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &a);
	if (r) {
		pkt_drop(st, m, (enum drop_reason)r);
		return;
	}
	for_us = false;
	for (unsigned i = 0; i < ifp->n_v4; i++)
		if (ifp->v4[i].addr == a.tpa)
			for_us = true;
	if (a.spa != 0 && ipv4_is_local(st, a.spa)) {
		/* Someone else claims our address (RFC 5227 2.4): keep it, count it. */
		pkt_drop(st, m, DROP_ARP_ADDR_CONFLICT);
		return;
	}
	if (a.spa == 0) {
		/* An RFC 5227 probe: answer it if it asks for our address, learn nothing. */
		if (!for_us || a.op != ARP_OP_REQUEST) {
			pkt_drop(st, m, DROP_ARP_NOT_FOR_US);
			return;
		}
	} else if (!arp_sender_ok(a.sha, a.spa)) {
		pkt_drop(st, m, DROP_ARP_BAD_SENDER);
		return;
	} else {
		e = arp_lookup(st, ifp->index, a.spa);
		if (e != NULL) {
			arp_confirm(st, ifp, e, a.sha);
			merged = true;
		}
		if (for_us && !merged) {
			e = arp_create(st, ifp->index, a.spa);
			if (e != NULL)
				arp_confirm(st, ifp, e, a.sha);
		}
	}
	if (!for_us) {
		pkt_drop(st, m, DROP_ARP_NOT_FOR_US);
		return;
	}
	if (a.op == ARP_OP_REQUEST)
		arp_send(st, ifp, ARP_OP_REPLY, a.sha, a.sha, a.tpa, a.spa);
	rte_pktmbuf_free(m);
}

void
arp_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh)
{
	struct arp_entry *e = arp_lookup(st, ifp->index, nh);
	uint64_t timeout = (uint64_t)st->arp.timeout_ms * 1000000ull;
	/* Lifetimes shorter than the margin refresh half-way instead. */
	uint64_t refresh = timeout > ARP_REFRESH_NS ? timeout - ARP_REFRESH_NS : timeout / 2;

	if (likely(e != NULL && e->state == ARP_REACHABLE)) {
		/* Refresh with a unicast request before the entry runs out. */
		if (unlikely(st->now - e->confirmed > refresh &&
			     st->now - e->last_req > ARP_RETRY_NS))
			arp_request(st, ifp, e, e->mac);
		eth_output_ip(st, ifp, m, e->mac);
		return;
	}
	if (e == NULL) {
		e = arp_create(st, ifp->index, nh);
		if (e == NULL) {
			pkt_drop(st, m, DROP_ARP_TABLE_FULL);
			return;
		}
		e->state = ARP_INCOMPLETE;
		arp_request(st, ifp, e, NULL);
	}
	if (e->qlen == st->arp.queue_max) {
		pkt_drop(st, e->q[0], DROP_ARP_QUEUE_FULL);
		memmove(e->q, e->q + 1, sizeof(e->q[0]) * (e->qlen - 1));
		e->qlen--;
	}
	e->q[e->qlen++] = m;
}

void
arp_timer(struct sonde_stack *st)
{
	struct arp_table *t = &st->arp;
	uint64_t timeout = (uint64_t)t->timeout_ms * 1000000ull;
	const void *key;
	void *data;
	uint32_t iter = 0;
	int32_t pos;

	if (st->now < t->next_scan)
		return;
	t->next_scan = st->now + ARP_SCAN_NS;
	while ((pos = rte_hash_iterate(t->hash, &key, &data, &iter)) >= 0) {
		struct arp_entry *e = &t->entries[pos];

		if (e->state == ARP_INCOMPLETE) {
			if (st->now - e->last_req < ARP_RETRY_NS)
				continue;
			if (e->tries >= ARP_RETRIES)
				arp_entry_delete(st, e, DROP_ARP_TIMEOUT);
			else
				arp_request(st, stack_if(st, e->ifindex), e, NULL);
		} else if (e->state == ARP_REACHABLE && st->now - e->confirmed > timeout) {
			arp_entry_delete(st, e, DROP_ARP_TIMEOUT);
		}
	}
}
