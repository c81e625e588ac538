/*
 * peer.h: sibling stacks, one per lcore, sharing ports queue by queue
 * (peer.c).
 *
 * Linked stacks share no mutable state on the fast path.  What they must
 * agree on crosses by message, through one multi-producer single-consumer
 * rte_ring per stack: what a packet taught one stack about a neighbour
 * (ARP, NS, NA), and the outcome of Duplicate Address Detection.
 */
#ifndef SONDE_PEER_H
#define SONDE_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "sonde/sonde.h"
#include "wire.h"

#define SONDE_MAX_STACKS 32

struct rte_ring;
struct sonde_if;
struct sonde_stack;

enum peer_kind {
	PEER_NEIGH, /* ARP or an NS: neigh_update(news, create) */
	PEER_NA,    /* an NA: RFC 4861 7.2.5 against the sibling's own entry */
	PEER_DAD,   /* DAD done for one of our addresses: preferred or duplicate */
	/* A change the application made on one stack, for every other to
	 * make too (the public call's arguments: a, b): */
	PEER_ADDR_ADD,	 /* sonde_addr_add(ifindex, a) */
	PEER_ADDR_DEL,	 /* sonde_addr_del(ifindex, a) */
	PEER_ROUTE_ADD,	 /* sonde_route_add(a, b) */
	PEER_ROUTE_DEL,	 /* sonde_route_del(a) */
	PEER_NEIGH_ADD,	 /* sonde_neigh_add(ifindex, a, b's first 6 bytes) */
	PEER_NEIGH_DEL,	 /* sonde_neigh_del(ifindex, a) */
	PEER_SERVICE,	 /* sonde_udp_service(a.addr.v4, a.plen) */
	PEER_MTU,	 /* sonde_if_set_mtu(ifindex, a.addr.v4) */
	PEER_FORWARDING, /* sonde_forwarding(a.plen) */
	PEER_LISTEN,	 /* sonde_listen() of a TCP socket on a.addr: sock_listen_peer(a, b) */
};

#define PEER_F_CREATE 0x01    /* PEER_NEIGH: make the entry if there is none */
#define PEER_F_LLADDR 0x02    /* PEER_NA: mac is the target link-layer address */
#define PEER_F_DUPLICATE 0x04 /* PEER_DAD: a duplicate (else preferred) */

/* Copied into the ring (rte_ring_*_elem). */
struct peer_msg {
	uint8_t kind;	  /* enum peer_kind */
	uint8_t af;	  /* 4 or 6 */
	uint16_t ifindex; /* linked stacks have the same interfaces at the same indexes */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes, network order */
	uint8_t mac[ETH_ADDR_LEN];
	uint8_t news;	   /* PEER_NEIGH: enum neigh_news */
	uint8_t flags;	   /* PEER_F_* */
	uint32_t na_flags; /* PEER_NA: the advertisement's R, S and O bits (ND_NA_FLAG_*) */
	/* The commands: the public call's two prefixes, whole. */
	struct sonde_prefix a, b;
};

struct peer_state {
	struct rte_ring *ring;			    /* ours: siblings post, we drain */
	struct rte_ring *sib[SONDE_MAX_STACKS - 1]; /* theirs */
	unsigned n_sib;
	/* Applying a sibling's command: the public calls it makes post
	 * nothing (the sibling posted to every stack already). */
	bool applying;
	/* Not the first of its group: DAD probes and ARP announcements are
	 * the first stack's; this one takes their outcome by message. */
	bool follower;
	/* Packets handed over (peer_handoff): ours, and every stack's of the
	 * group by its place in it, which is the queue it polls on every
	 * port (stack i on queue i: sonde.h). */
	struct rte_ring *pkts;
	struct rte_ring *pkts_of[SONDE_MAX_STACKS];
	unsigned n_stacks;
};

void peer_fini(struct sonde_stack *st);
/* Applies what siblings posted (a bounded batch); from sonde_poll. */
void peer_poll(struct sonde_stack *st);
/* Posts a message to every sibling; a full ring is counted
 * (peer.ring_full), and the sibling then resolves as it would alone. */
void peer_post(struct sonde_stack *st, const struct peer_msg *m);
/* What a packet on ifp said about neighbour addr: neigh_update's
 * arguments, replayed by each sibling. */
void peer_post_neigh(struct sonde_stack *st, const struct sonde_if *ifp, int af, const void *addr,
		     const uint8_t *mac, uint8_t news, bool create);

/* The application changed st (a public call that succeeded): every sibling
 * makes the same change at its next poll.  Returns once it is queued;
 * nothing when st has no siblings or is applying a sibling's command. */
void peer_post_cmd(struct sonde_stack *st, enum peer_kind kind, int ifindex,
		   const struct sonde_prefix *a, const struct sonde_prefix *b);

/* m (data at its IP header, meta's ifindex and af the interface it came
 * in on and its family) to the linked stack that polls queue q, for IP
 * input there at its next poll: a decapsulated packet whose flow that
 * stack owns (tunnel.c).  Counted (peer.handoff_out, _in); a full ring, or
 * a queue no stack of the group has, is a drop (handoff-ring-full). */
void peer_handoff(struct sonde_stack *st, uint16_t q, struct rte_mbuf *m);

/* The transport's (sock.c): a TCP listener made on a sibling, made here
 * too (PEER_LISTEN's a and b, as peer_post_listen packs them). */
int sock_listen_peer(struct sonde_stack *st, const struct sonde_prefix *a,
		     const struct sonde_prefix *b);

#endif
