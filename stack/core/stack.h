/*
 * stack.h: the stack instance and its interfaces (private to libsonde).
 *
 * Buffer rules, for every file in stack/: an input or output function
 * consumes the mbuf it is given (it sends it on, queues it or drops it with
 * pkt_drop()); a function taking a const mbuf pointer only borrows it.  IP
 * code keeps the mbuf's data pointer at the IP header; the Ethernet header is
 * prepended only when the packet is handed to a port.  m->port holds the
 * sonde interface index (not the DPDK port id) and m->packet_type the family
 * (RTE_PTYPE_L3_IPV4), so a drop anywhere can name both.  On input,
 * m->hash.usr is 1 when the packet was sent to a group: a link-layer
 * broadcast or multicast (eth_input) or an IPv4 broadcast (ipv4_input);
 * such packets are never answered with errors or echoes.
 *
 * No global mutable state: everything hangs off struct sonde_stack.
 */
#ifndef SONDE_STACK_H
#define SONDE_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>

#include "sonde/sonde.h"
#include <rte_ip_frag.h>

#include "drop.h"
#include "neigh.h"
#include "peer.h"
#include "wire.h"
#include "wire6.h"

#define SONDE_BURST 32
#define SONDE_MAX_IFS 16
#define SONDE_MAX_ADDRS 8
#define SONDE_IF_NONE UINT16_MAX
#define SONDE_LOOPQ 256 /* power of two */
#define SONDE_NAMSIZ 32
#define SONDE_PMTU6_SLOTS 256
#define ROUTE6_CACHE_SLOTS 64
#define FAST_DST_SLOTS 256 /* power of two */

struct sonde_if;
struct sonde_pcap;
struct rte_hash;
struct rte_lpm;
struct rte_lpm6;

/* How packets get in and out of an interface: drivers/ implements these. */
struct sonde_if_ops {
	uint16_t (*rx)(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx)(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n);
	void (*close)(struct sonde_if *ifp);
};

enum sonde_if_kind { IF_KIND_PORT, IF_KIND_LOOP };

struct sonde_if_addr4 {
	uint32_t addr;	/* network order */
	uint32_t mask;	/* network order */
	uint32_t bcast; /* the subnet's directed broadcast; 0 for /31 and /32 */
	uint8_t plen;
};

enum addr6_state { ADDR6_TENTATIVE, ADDR6_PREFERRED, ADDR6_DUPLICATE };

struct sonde_if_addr6 {
	uint8_t addr[16];
	uint8_t plen;
	uint8_t state; /* enum addr6_state: RFC 4862 5.4 */
	uint8_t dad_sent;
	uint64_t dad_deadline;
};

struct sonde_if {
	uint16_t index;
	enum sonde_if_kind kind;
	char name[SONDE_NAMSIZ];
	uint16_t port_id;
	uint16_t queue_id; /* the port's rx/tx queue pair this stack uses */
	uint8_t mac[ETH_ADDR_LEN];
	uint16_t mtu;
	uint8_t l2_len;	   /* link header length on the wire */
	bool csum_rx_ipv4; /* the NIC validates IPv4 header checksums */
	bool csum_tx_ipv4; /* the NIC fills IPv4 header checksums */
	const struct sonde_if_ops *ops;
	struct sonde_pcap *pcap;
	struct sonde_if_addr4 v4[SONDE_MAX_ADDRS];
	unsigned n_v4;
	struct sonde_if_addr6 v6[SONDE_MAX_ADDRS];
	unsigned n_v6;
	struct rte_mbuf *txq[SONDE_BURST];
	unsigned n_txq;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

/* A next hop, as stored behind an rte_lpm or rte_lpm6 route. */
struct route_nh {
	uint32_t gw4;	 /* network order; 0 = on-link */
	uint8_t gw6[16]; /* :: = on-link */
	uint16_t ifindex;
	uint8_t af;
	bool used;
};

/* A token bucket: burst events, refilled at rate a second. */
struct ratelimit {
	uint32_t rate, burst;
	uint64_t tokens_ns; /* credit, in ns of refill time */
	uint64_t last;
};

struct frag_state {
	struct rte_ip_frag_tbl *tbl;
	struct rte_ip_frag_death_row dr;
	struct rte_mempool *indirect;
	uint64_t timeout_ns;
	uint32_t held, held_max; /* fragments in the table, and the cap */
};

struct pmtu6_entry {
	uint8_t dst[16];
	uint32_t mtu;
	uint64_t expires;
};

struct stats {
	uint64_t ipv4_in, ipv4_in_delivered, ipv4_forwarded, ipv4_out;
	uint64_t ipv6_in, ipv6_in_delivered, ipv6_forwarded, ipv6_out;
	uint64_t icmp_in, icmp_out, icmp_echo_replies, icmp_errors_out, icmp_ratelimited;
	uint64_t icmp6_in, icmp6_out, icmp6_echo_replies, icmp6_errors_out, icmp6_ratelimited;
	uint64_t nd_ns_in, nd_na_in, nd_ns_out, nd_na_out, nd_rs_ignored, nd_ra_ignored;
	uint64_t nd_dad_failed, pmtu6_updates;
	uint64_t frag_in, frag_reassembled, frag_out, frag_fragmented;
	uint64_t udp_in, udp_echoed, udp_discarded;
	uint64_t arp_in, arp_out, arp_requests_out, arp_replies_out;
	uint64_t loop_pkts;
	uint64_t poll_rx, poll_busy,
		poll_busy_ns; /* packets taken in by polls that had work, those polls, their time */
	uint64_t fast_rx;     /* frames the fast path took whole (fast.c) */
	uint64_t peer_sent, peer_received, peer_ring_full;
	uint64_t drops[DROP_REASON_MAX];
};

struct sonde_stack {
	uint32_t id;
	uint32_t pid;
	struct rte_mempool *pool;
	bool forwarding;
	bool probes_on;	   /* any probe switched on, as of this poll (probes.h) */
	bool poll_busy;	   /* the last poll took packets in */
	bool fastpath;	   /* offer frames to fast_input() while no probe is on */
	uint64_t tsc_mult; /* ns per TSC cycle, 40 fraction bits (sonde_now) */
	uint64_t now;	   /* ns, set by sonde_poll */

	struct sonde_if *ifs[SONDE_MAX_IFS];
	unsigned n_ifs;
	struct sonde_if *lo;

	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	struct route_nh *nh;
	uint32_t n_nh_max;
	int default4, default6; /* 0/0 and ::/0, kept beside rte_lpm (depth 0 refused); -1: none */
	struct route6_cache {
		uint8_t dst[16];
		int32_t nh; /* index in nh, or -1: no route */
		uint32_t gen;
	} route6_cache[ROUTE6_CACHE_SLOTS];
	uint32_t route_gen; /* bumped by every route change */
	/* fast.c's memo of what the lookups say of an address seen on an
	 * interface; valid while its gen is fast_gen, which every change of
	 * an address, a route, a neighbour or a path MTU bumps (fast_stale()).
	 * Two-way: an address has slots h and h ^ 1. */
	struct fast_dst {
		uint8_t addr[16]; /* IPv4: the first four bytes, the rest zero */
		uint32_t gen;
		uint32_t tag;		   /* the interface it was seen on << 8 | 4 or 6 */
		struct sonde_if *out;	   /* where a packet to it leaves at once; NULL: not so */
		uint64_t pmtu_until;	   /* ns; 0: no packet too big taught a path MTU */
		uint32_t pmtu;		   /* IPv6: that path MTU, until pmtu_until */
		uint8_t mac[ETH_ADDR_LEN]; /* to whom, there */
		uint8_t flags;
	} fast_dst[FAST_DST_SLOTS];
	uint32_t fast_gen;

	struct neigh_table neigh;
	struct peer_state peer; /* sibling stacks on other lcores (peer.c) */
	struct frag_state frag;
	struct pmtu6_entry pmtu6[SONDE_PMTU6_SLOTS];

	/* lo0: packets to our own addresses wait here for the next poll. */
	struct rte_mbuf *loopq[SONDE_LOOPQ];
	uint32_t loop_head, loop_tail;

	/* Every interface's IPv4 addresses in one array: the per-packet "is it
	 * ours" test reads one cache line, not every interface. */
	uint32_t local4[SONDE_MAX_IFS * SONDE_MAX_ADDRS];
	unsigned n_local4;
	uint8_t local6[SONDE_MAX_IFS * SONDE_MAX_ADDRS][16]; /* the preferred ones (RFC 4862) */
	unsigned n_local6;

	uint16_t ip_ident;
	uint32_t dad_pending; /* tentative addresses: nd6_timer has work only then */
	uint32_t frag6_ident;

	/* ICMP error rate limits (RFC 1812 4.3.2.8, RFC 4443 2.4(f)). */
	struct ratelimit icmp_rl, icmp6_rl;

	/* UDP ports with a built-in service (enum sonde_service), both families. */
	uint8_t udp_service[65536];

	struct stats stats;
};

/* struct fast_dst flags: the address is one of ours; IPv4: a broadcast on the
 * interface it was seen on; IPv6: an address of that interface, in any state. */
#define FAST_LOCAL 1
#define FAST_BCAST 2
#define FAST_IFADDR 4

/* What fast.c remembered of addresses, routes and neighbours is stale. */
static inline void
fast_stale(struct sonde_stack *st)
{
	st->fast_gen++;
}

/* IPv4 address classes, on host-order addresses (RFC 1122 3.2.1.3). */
#define IN_MULTICAST_H(h) (((h) >> 28) == 0xe)
#define IN_LOOPBACK_H(h) (((h) >> 24) == 127)

/*
 * The lookups every packet makes, inline (and always so, for the fast path's
 * code not to depend on what else the build holds: fast.c); what they fall
 * back to on a miss is out of line.
 */

/* One of our addresses?  Every interface's, in one array (weak host model,
 * RFC 1122 3.3.4.2). */
static __rte_always_inline bool
ipv4_is_local(const struct sonde_stack *st, uint32_t addr)
{
	for (unsigned i = 0; i < st->n_local4; i++)
		if (st->local4[i] == addr)
			return true;
	return false;
}

/* The limited broadcast, or a directed broadcast of one of ifp's subnets. */
static __rte_always_inline bool
ipv4_is_broadcast(const struct sonde_stack *st, const struct sonde_if *ifp, uint32_t addr)
{
	(void)st;
	if (addr == 0xffffffff)
		return true;
	if (ifp == NULL)
		return false;
	for (unsigned j = 0; j < ifp->n_v4; j++)
		if (ifp->v4[j].bcast == addr && addr != 0)
			return true;
	return false;
}

/* One of our usable (not tentative, not duplicate) unicast addresses? */
static __rte_always_inline bool
ipv6_is_local(const struct sonde_stack *st, const uint8_t *a)
{
	for (unsigned i = 0; i < st->n_local6; i++)
		if (ipv6_addr_eq(st->local6[i], a))
			return true;
	return false;
}

static __rte_always_inline struct sonde_if_addr6 *
ipv6_if_find_addr(struct sonde_if *ifp, const uint8_t *a)
{
	for (unsigned j = 0; j < ifp->n_v6; j++)
		if (ipv6_addr_eq(ifp->v6[j].addr, a))
			return &ifp->v6[j];
	return NULL;
}

/* The next hop for dst, or NULL. */
static __rte_always_inline const struct route_nh *
route4_lookup(const struct sonde_stack *st, uint32_t dst)
{
	uint32_t idx;

	if (rte_lpm_lookup(st->lpm4, rte_be_to_cpu_32(dst), &idx) == 0)
		return &st->nh[idx];
	return st->default4 >= 0 ? &st->nh[st->default4] : NULL;
}

const struct route_nh *route6_lookup_slow(struct sonde_stack *st, struct route6_cache *c,
					  const uint8_t *dst);

/* In front of rte_lpm6, whose lookup walks up to 13 dependent table levels
 * (perf: a tenth of an IPv6 echo's time), a direct-mapped cache of recent
 * destinations; any route change bumps st->route_gen, which empties it. */
static __rte_always_inline const struct route_nh *
route6_lookup(struct sonde_stack *st, const uint8_t *dst)
{
	uint32_t h = wire_load32(dst) ^ wire_load32(dst + 4) ^ wire_load32(dst + 8) ^
		     wire_load32(dst + 12);
	struct route6_cache *c = &st->route6_cache[(h ^ h >> 16 ^ h >> 8) % ROUTE6_CACHE_SLOTS];

	if (likely(c->gen == st->route_gen && ipv6_addr_eq(c->dst, dst)))
		return c->nh >= 0 ? &st->nh[c->nh] : NULL;
	return route6_lookup_slow(st, c, dst);
}

/* The entry for (ifindex, af, addr), or NULL: the cache first, inline; the
 * hash table on a miss. */
static __rte_always_inline struct neigh_entry *
neigh_lookup(struct sonde_stack *st, uint16_t ifindex, int af, const void *addr)
{
	struct neigh_entry *e = st->neigh.cache[neigh_cache_slot(ifindex, af, addr)];

	if (likely(e != NULL && neigh_entry_is(e, ifindex, af, addr)))
		return e;
	return neigh_lookup_slow(st, ifindex, af, addr);
}

/* The path MTU cache: direct-mapped, bounded, entries expire (RFC 8201 5.3). */
static __rte_always_inline struct pmtu6_entry *
pmtu6_slot(struct sonde_stack *st, const uint8_t *dst)
{
	uint32_t w[4];

	memcpy(w, dst, 16);
	w[0] ^= w[1] ^ w[2] ^ w[3];
	w[0] ^= w[0] >> 16;
	return &st->pmtu6[(w[0] ^ w[0] >> 8) % SONDE_PMTU6_SLOTS];
}

/* The path MTU towards dst that packet too big taught us, or UINT32_MAX. */
static __rte_always_inline uint32_t
pmtu6_get(struct sonde_stack *st, const uint8_t *dst)
{
	struct pmtu6_entry *e = pmtu6_slot(st, dst);

	if (e->expires > st->now && ipv6_addr_eq(e->dst, dst))
		return e->mtu;
	return UINT32_MAX;
}

void if_flush(struct sonde_stack *st, struct sonde_if *ifp);

/* Queues a finished frame for transmission. */
static __rte_always_inline void
if_enqueue(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	ifp->txq[ifp->n_txq++] = m;
	if (ifp->n_txq == SONDE_BURST)
		if_flush(st, ifp);
}

/* The one's-complement sum (folded, not complemented) of len bytes at off
 * in m, added to sum (a pseudo-header's, or 0); -1 if m is shorter.  One
 * segment is summed in place by wire_sum(); a reassembled chain goes
 * through rte_raw_cksum_mbuf(). */
static inline int
pkt_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint32_t sum, uint16_t *out)
{
	uint16_t body;

	if (likely(off + len <= rte_pktmbuf_data_len(m))) {
		*out = wire_sum_fold(
			wire_sum(rte_pktmbuf_mtod_offset(m, const uint8_t *, off), len, sum));
		return 0;
	}
	if (rte_raw_cksum_mbuf(m, off, len, &body) != 0)
		return -1;
	*out = wire_sum_fold((uint64_t)sum + body);
	return 0;
}

static inline struct sonde_if *
stack_if(const struct sonde_stack *st, uint16_t index)
{
	return index < st->n_ifs ? st->ifs[index] : NULL;
}

/* stack.c: adds an Ethernet interface driven by ops (a test driver, a
 * wrapper around another interface); ops->close may be NULL. */
struct sonde_if *stack_if_attach(struct sonde_stack *st, const struct sonde_if_ops *ops,
				 const char *name, const uint8_t *mac, uint16_t mtu);

/* fast.c: the received burst pkts[0..n), in order, through the fast path;
 * what it does not take goes to eth_input().  Only while no probe is on. */
void fast_rx(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n);

/* eth.c */
void eth_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
/* Sends IP packet m (data at the IP header) to neighbour MAC dst on ifp:
 * fires send, prepends the Ethernet header and queues the frame. */
void eth_output_ip(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
		   const uint8_t *dst);
/* Queues a finished frame for transmission. */
const uint8_t *eth_broadcast_addr(void);

/* stack.c */
/* lo0: fires local-send and queues m (data at the IP header) for the next poll. */
void loop_enqueue(struct sonde_stack *st, struct rte_mbuf *m);
bool ratelimit_ok(struct ratelimit *rl, uint64_t now);

/* arp.c */
extern const struct neigh_family arp_family;
void arp_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
void arp_announce(struct sonde_stack *st, struct sonde_if *ifp, uint32_t addr);

/* nd6.c */
extern const struct neigh_family nd6_family;
void nd6_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv6_view *ip);
void nd6_dad_start(struct sonde_stack *st, struct sonde_if *ifp, struct sonde_if_addr6 *a);
void nd6_timer(struct sonde_stack *st);
/* A sibling stack's news (peer.c): an advertisement for target (tllao NULL
 * when it had no link-layer address option) with flags ND_NA_FLAG_*, and
 * the verdict of DAD on addr. */
void nd6_na_peer(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *target,
		 const uint8_t *tllao, uint32_t flags);
void nd6_dad_peer(struct sonde_stack *st, struct sonde_if *ifp, const uint8_t *addr,
		  bool duplicate);

/* ipv4.c */
void ipv4_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
/* Prepends an IPv4 header to m (data at the transport header) and sends it.
 * src 0 picks the outgoing interface's address. */
int ipv4_output(struct sonde_stack *st, struct rte_mbuf *m, uint32_t src, uint32_t dst,
		uint8_t proto, uint8_t ttl, uint8_t tos);
void ipv4_send_nh(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh);
void ipv4_loop_input(struct sonde_stack *st, struct rte_mbuf *m);
uint32_t ipv4_if_addr(const struct sonde_if *ifp, uint32_t peer);

/* ipv6.c */
extern const uint8_t ipv6_all_nodes[16];
void ipv6_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
/* Prepends an IPv6 header to m (data at the upper-layer header) and sends
 * it, fragmenting at the source when it exceeds the path MTU.  ifhint names
 * the interface for link-local and multicast destinations (-1: none). */
int ipv6_output(struct sonde_stack *st, struct rte_mbuf *m, const uint8_t *src, const uint8_t *dst,
		uint8_t nxt, uint8_t hlim, uint8_t tclass, int ifhint);
struct sonde_if *ipv6_route(struct sonde_stack *st, const uint8_t *dst, int ifhint, uint8_t *nh);
void ipv6_send_nh(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
		  const uint8_t *nh);
void ipv6_loop_input(struct sonde_stack *st, struct rte_mbuf *m);
/* Call after any IPv6 address is added or changes state. */
void ipv6_local_rebuild(struct sonde_stack *st);
bool ipv6_if_joined(const struct sonde_stack *st, const struct sonde_if *ifp, const uint8_t *a);
bool ipv6_select_source(const struct sonde_if *ifp, const uint8_t *dst, uint8_t *src);

/* route.c */
int route_init(struct sonde_stack *st, const struct sonde_conf *conf);
void route_fini(struct sonde_stack *st);
int route4_add(struct sonde_stack *st, uint32_t dst, uint8_t plen, uint32_t gw, uint16_t ifindex);
int route6_add(struct sonde_stack *st, const uint8_t *dst, uint8_t plen, const uint8_t *gw,
	       uint16_t ifindex);

/* icmp.c */
void icmp_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip);
/* Sends an ICMP error about m (data at its IP header; borrowed) per RFC 1122
 * 3.2.2 and RFC 1812 4.3.2.7: never about an ICMP error, a broadcast or
 * multicast, a non-initial fragment or a source that is not unicast. */
void icmp_error(struct sonde_stack *st, const struct rte_mbuf *m, uint8_t type, uint8_t code,
		uint32_t info);

/* icmp6.c */
void icmp6_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv6_view *ip);
/* The same for ICMPv6, per RFC 4443 2.4. */
void icmp6_error(struct sonde_stack *st, const struct rte_mbuf *m, uint8_t type, uint8_t code,
		 uint32_t info);
void pmtu6_set(struct sonde_stack *st, const uint8_t *dst, uint32_t mtu);

/* frag.c */
int frag_init(struct sonde_stack *st, const struct sonde_conf *conf);
void frag_fini(struct sonde_stack *st);
void frag_timer(struct sonde_stack *st);
/* Takes a fragment (data at the IP header): returns the whole datagram when
 * this fragment completes it, else NULL (held, or dropped with a reason). */
struct rte_mbuf *frag4_input(struct sonde_stack *st, struct rte_mbuf *m,
			     const struct ipv4_view *ip);
struct rte_mbuf *frag6_input(struct sonde_stack *st, struct rte_mbuf *m, uint32_t off,
			     const struct frag6_view *fv);
int frag4_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh);
int frag6_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
		 const uint8_t *nh, uint32_t mtu);

/* udp.c */
void udp_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip);
void udp6_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv6_view *ip);

#endif
