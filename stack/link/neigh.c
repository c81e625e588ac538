/*
 * neigh.c: the neighbour table shared by ARP and ND (see neigh.h).
 *
 * RFC 4861 7.3.2/7.3.3 states and timers (REACHABLE_TIME 30 s,
 * RETRANS_TIMER 1 s, DELAY_FIRST_PROBE_TIME 5 s, MAX_*CAST_SOLICIT 3);
 * RFC 1122 2.3.2.1/2.3.2.2 for ARP: at most one request a second per
 * neighbour, a small queue of packets waiting for resolution.
 * Entries live in an rte_hash keyed by (interface, family, address); the
 * entry array is indexed by the key's position.  Each entry's state has
 * its timer on the stack's wheel (timer.h).  In front of the
 * hash, a direct-mapped cache of entry pointers answers the common case (the
 * same few next hops, packet after packet) without hashing the key; a slot
 * is checked against the entry's key and state, so a stale slot only misses.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "link.h"
#include "neigh.h"
#include "stack.h"

#define NEIGH_MAX_SOLICIT 3
/* An unused STALE entry is forgotten after this (Linux: gc_stale_time). */
#define NEIGH_STALE_NS 60000000000ull

static void neigh_expire(struct timer *t, void *ctx);

static int
neigh_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	struct neigh_table *t = &st->neigh;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = { 0 };

	t->size = conf->arp_entries ? conf->arp_entries : 1024;
	t->queue_max = conf->arp_queue ? conf->arp_queue : 4;
	t->reachable_ns = (conf->arp_timeout_ms ? conf->arp_timeout_ms : 30000) * 1000000ull;
	t->retrans_ns = 1000000000ull;
	t->delay_ns = 5000000000ull;
	snprintf(name, sizeof(name), "snb%u_%x", st->id, (unsigned)(uintptr_t)st);
	hp.name = name;
	hp.entries = t->size;
	hp.key_len = sizeof(struct neigh_key);
	hp.hash_func = rte_hash_crc; /* the CPU's crc32 instruction where it has one */
	hp.socket_id = (int)rte_socket_id();
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL)
		return -rte_errno;
	/* rte_hash hands out key positions below its slot count, entries + 1. */
	t->n_slots = t->size + 1;
	t->entries = rte_zmalloc("sonde_neigh", sizeof(*t->entries) * t->n_slots, 0);
	t->qstore = rte_zmalloc("sonde_neighq",
				sizeof(struct rte_mbuf *) * t->n_slots * t->queue_max, 0);
	if (t->entries == NULL || t->qstore == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n_slots; i++) {
		t->entries[i].q = t->qstore + (size_t)i * t->queue_max;
		timer_init(&t->entries[i].timer, neigh_expire);
	}
	return 0;
}

static void
neigh_delete(struct sonde_stack *st, struct neigh_entry *e, enum drop_reason why)
{
	for (uint32_t i = 0; i < e->qlen; i++)
		pkt_drop(st, e->q[i], why);
	e->qlen = 0;
	e->state = NEIGH_FREE;
	timer_cancel(&st->wheel, &e->timer);
	dst_invalidate(st);
	rte_hash_del_key(st->neigh.hash, &e->key);
	st->neigh.used--;
}

static void
neigh_fini(struct sonde_stack *st)
{
	struct neigh_table *t = &st->neigh;

	if (t->entries)
		for (uint32_t i = 0; i < t->n_slots; i++)
			if (t->entries[i].state != NEIGH_FREE)
				neigh_delete(st, &t->entries[i], DROP_SHUTDOWN);
	rte_free(t->entries);
	rte_free(t->qstore);
	rte_hash_free(t->hash);
}

static void
neigh_key_make(struct neigh_key *k, uint16_t ifindex, int af, const void *addr)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, addr, af == 6 ? 16 : 4);
	k->ifindex = ifindex;
	k->af = (uint8_t)af;
}

__rte_noinline struct neigh_entry *
neigh_lookup_slow(struct sonde_stack *st, uint16_t ifindex, int af, const void *addr)
{
	uint32_t slot = neigh_cache_slot(ifindex, af, addr);
	struct neigh_entry *e;
	struct neigh_key k;
	int pos;

	neigh_key_make(&k, ifindex, af, addr);
	pos = rte_hash_lookup(st->neigh.hash, &k);
	if (pos < 0)
		return NULL;
	e = &st->neigh.entries[pos];
	st->neigh.cache[slot] = e;
	return e;
}

static struct neigh_entry *
neigh_create(struct sonde_stack *st, uint16_t ifindex, int af, const void *addr)
{
	struct neigh_key k;
	struct neigh_entry *e;
	int pos;

	neigh_key_make(&k, ifindex, af, addr);
	pos = rte_hash_add_key(st->neigh.hash, &k);
	if (pos < 0)
		return NULL;
	e = &st->neigh.entries[pos];
	e->key = k;
	e->qlen = 0;
	e->probes = 0;
	e->router = false;
	st->neigh.used++;
	return e;
}

/* The entry's timer, at deadline (none for 0 or UINT64_MAX). */
static void
neigh_arm(struct sonde_stack *st, struct neigh_entry *e, uint64_t deadline)
{
	e->deadline = deadline;
	if (deadline == 0 || deadline == UINT64_MAX)
		timer_cancel(&st->wheel, &e->timer);
	else
		timer_arm(&st->wheel, &e->timer, deadline);
}

/* Every change of an entry's state or MAC comes through here or
 * neigh_delete(): the destination cache's copy of it is then stale. */
static void
neigh_set(struct sonde_stack *st, struct neigh_entry *e, enum neigh_state s, uint64_t deadline)
{
	dst_invalidate(st);
	e->state = s;
	e->probes = 0;
	neigh_arm(st, e, deadline);
}

void
neigh_doubt(struct sonde_stack *st, struct neigh_entry *e)
{
	if (e->state == NEIGH_REACHABLE)
		neigh_set(st, e, NEIGH_STALE, st->now + NEIGH_STALE_NS);
}

static void
neigh_solicit(struct sonde_stack *st, struct neigh_entry *e, bool unicast)
{
	struct sonde_if *ifp = stack_if(st, e->key.ifindex);

	e->probes++;
	neigh_arm(st, e, st->now + st->neigh.retrans_ns);
	if (ifp != NULL)
		neigh_family_of(e->key.af)->solicit(st, ifp, e, unicast ? e->mac : NULL);
}

void
neigh_output(struct sonde_stack *st, const struct neigh_family *fam, struct sonde_if *ifp,
	     struct rte_mbuf *m, int af, const void *addr)
{
	struct neigh_entry *e = neigh_lookup(st, ifp->index, af, addr);

	if (likely(e != NULL && e->state != NEIGH_INCOMPLETE)) {
		/* RFC 4861 7.3.3: using a STALE entry starts the delay. */
		if (unlikely(e->state == NEIGH_STALE))
			neigh_set(st, e, NEIGH_DELAY, st->now + st->neigh.delay_ns);
		eth_output_ip(st, ifp, m, e->mac);
		return;
	}
	if (e == NULL) {
		e = neigh_create(st, ifp->index, af, addr);
		if (e == NULL) {
			pkt_drop(st, m, fam->drop_table_full);
			return;
		}
		neigh_set(st, e, NEIGH_INCOMPLETE, 0);
		e->q[e->qlen++] = m;
		neigh_solicit(st, e, false);
		return;
	}
	/* RFC 4861 7.2.2: hold a few, dropping the oldest. */
	if (e->qlen == st->neigh.queue_max) {
		pkt_drop(st, e->q[0], fam->drop_queue_full);
		memmove(e->q, e->q + 1, sizeof(e->q[0]) * (e->qlen - 1));
		e->qlen--;
	}
	e->q[e->qlen++] = m;
}

struct neigh_entry *
neigh_update(struct sonde_stack *st, struct sonde_if *ifp, int af, const void *addr,
	     const uint8_t *mac, enum neigh_news news, bool create)
{
	struct neigh_entry *e = neigh_lookup(st, ifp->index, af, addr);
	bool changed;

	if (e == NULL) {
		if (!create)
			return NULL;
		e = neigh_create(st, ifp->index, af, addr);
		if (e == NULL)
			return NULL;
		e->state = NEIGH_INCOMPLETE;
	}
	/* What the application set, a packet does not change. */
	if (e->state == NEIGH_PERMANENT)
		return e;
	changed = e->state == NEIGH_INCOMPLETE || memcmp(e->mac, mac, ETH_ADDR_LEN) != 0;
	switch (news) {
	case NEIGH_NEWS_CONFIRMED:
		memcpy(e->mac, mac, ETH_ADDR_LEN);
		neigh_set(st, e, NEIGH_REACHABLE, st->now + st->neigh.reachable_ns);
		break;
	case NEIGH_NEWS_HEARD:
	case NEIGH_NEWS_OVERRIDE:
		if (changed) {
			memcpy(e->mac, mac, ETH_ADDR_LEN);
			neigh_set(st, e, NEIGH_STALE, st->now + NEIGH_STALE_NS);
		}
		break;
	}
	/* Release what waited for the address, in order. */
	for (uint32_t i = 0; i < e->qlen; i++)
		eth_output_ip(st, ifp, e->q[i], e->mac);
	e->qlen = 0;
	return e;
}

const struct neigh_family *
neigh_family_of(int af)
{
	return af == 6 ? &nd6_family : &arp_family;
}

/* RFC 4861 7.3.3: the state's time is up. */
static void
neigh_expire(struct timer *t, void *ctx)
{
	struct neigh_entry *e = container_of(t, struct neigh_entry, timer);
	struct sonde_stack *st = ctx;

	switch (e->state) {
	case NEIGH_INCOMPLETE:
	case NEIGH_PROBE:
		if (e->probes >= NEIGH_MAX_SOLICIT)
			neigh_delete(st, e, neigh_family_of(e->key.af)->drop_unresolved);
		else
			neigh_solicit(st, e, e->state == NEIGH_PROBE);
		break;
	case NEIGH_REACHABLE: neigh_set(st, e, NEIGH_STALE, st->now + NEIGH_STALE_NS); break;
	case NEIGH_STALE:
		neigh_delete(st, e, DROP_SHUTDOWN); /* holds no packets */
		break;
	case NEIGH_DELAY:
		neigh_set(st, e, NEIGH_PROBE, 0);
		neigh_solicit(st, e, true);
		break;
	default: break;
	}
}

static void
neigh_if_detach(struct sonde_stack *st, struct sonde_if *ifp)
{
	struct neigh_table *t = &st->neigh;

	for (uint32_t i = 0; i < t->n_slots; i++)
		if (t->entries[i].state != NEIGH_FREE && t->entries[i].key.ifindex == ifp->index)
			neigh_delete(st, &t->entries[i],
				     st->closing ? DROP_SHUTDOWN : DROP_IF_DOWN);
	memset(t->cache, 0, sizeof(t->cache));
}

static int
neigh_args(struct sonde_stack *st, int ifindex, const struct sonde_prefix *addr,
	   struct sonde_if **ifp)
{
	*ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;
	if (*ifp == NULL || (*ifp)->kind != &eth_kind)
		return -ENODEV;
	if (addr->af != AF_INET && addr->af != AF_INET6)
		return -EAFNOSUPPORT;
	return 0;
}

int
sonde_neigh_add(struct sonde_stack *st, int ifindex, const struct sonde_prefix *addr,
		const uint8_t mac[6])
{
	struct sonde_prefix macp = { .af = AF_UNSPEC };
	int af = addr->af == AF_INET ? 4 : 6;
	const void *a = af == 4 ? (const void *)&addr->addr.v4 : addr->addr.v6;
	struct neigh_entry *e;
	struct sonde_if *ifp;
	int r = neigh_args(st, ifindex, addr, &ifp);

	if (r)
		return r;
	if (mac[0] & 1)
		return -EINVAL; /* a neighbour is a unicast station */
	e = neigh_lookup(st, ifp->index, af, a);
	if (e == NULL)
		e = neigh_create(st, ifp->index, af, a);
	if (e == NULL)
		return -ENOSPC;
	memcpy(e->mac, mac, ETH_ADDR_LEN);
	neigh_set(st, e, NEIGH_PERMANENT, UINT64_MAX);
	/* Release what waited for it, in order. */
	for (uint32_t i = 0; i < e->qlen; i++)
		eth_output_ip(st, ifp, e->q[i], e->mac);
	e->qlen = 0;
	memcpy(macp.addr.v6, mac, ETH_ADDR_LEN);
	peer_post_cmd(st, PEER_NEIGH_ADD, ifindex, addr, &macp);
	return 0;
}

int
sonde_neigh_del(struct sonde_stack *st, int ifindex, const struct sonde_prefix *addr)
{
	int af = addr->af == AF_INET ? 4 : 6;
	struct neigh_entry *e;
	struct sonde_if *ifp;
	int r = neigh_args(st, ifindex, addr, &ifp);

	if (r)
		return r;
	e = neigh_lookup(st, ifp->index, af,
			 af == 4 ? (const void *)&addr->addr.v4 : (const void *)addr->addr.v6);
	if (e == NULL)
		return -ENOENT;
	neigh_delete(st, e, af == 4 ? DROP_ARP_TIMEOUT : DROP_ND_TIMEOUT);
	peer_post_cmd(st, PEER_NEIGH_DEL, ifindex, addr, NULL);
	return 0;
}

const struct sonde_layer neigh_layer = {
	.name = "neigh",
	.init = neigh_init,
	.fini = neigh_fini,
	.if_detach = neigh_if_detach,
};
