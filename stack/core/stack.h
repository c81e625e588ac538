/*
 * stack.h: the stack instance, its interfaces and its joints (private to
 * libsonde).
 *
 * Buffer rules, for every file in stack/: an input or output function
 * consumes the mbufs it is given (it sends them on, queues them or drops
 * them with pkt_drop()); a function taking a const mbuf pointer only
 * borrows it.  IP code keeps the mbuf's data pointer at the IP header; a
 * link header is prepended only when the packet is handed to an interface.
 * What the stack knows of a packet beyond its bytes (the interface, the
 * family, whether it was sent to a group) is in its pkt_meta (meta.h).
 *
 * The data path works a burst at a time per layer: a driver's burst goes
 * to the interface kind's input (Ethernet), which hands runs of packets to
 * the handler registered for their EtherType (IPv4, IPv6, ARP), which hands
 * runs to the handler registered for their IP protocol (ICMP, UDP, ...).
 * A run is a stretch of consecutive packets with the same handler, so a
 * burst keeps its order through every layer.  Probe sites are gated once
 * per burst (probes.h).
 *
 * No global mutable state: everything hangs off struct sonde_stack (the
 * mbuf dynamic field's offset, a process-wide fact, aside: meta.h).
 */
#ifndef SONDE_STACK_H
#define SONDE_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "sonde/sonde.h"

#include "drop.h"
#include "meta.h"
#include "neigh.h"
#include "peer.h"
#include "runs.h"
#include "timer.h"
#include "wire.h"
#include "wire6.h"

#define SONDE_BURST 32
#define SONDE_MAX_IFS 64 /* interface masks are one uint64_t */
#define SONDE_MAX_ADDRS 8
#define SONDE_LOOPQ 256 /* power of two */
#define SONDE_NAMSIZ 32
#define SONDE_PMTU6_SLOTS 256
#define SONDE_ETH_TYPES 8
#define DST_SLOTS 256 /* power of two */

struct if_fault;
struct sonde_if;
struct sonde_pcap;
struct sonde_stack;
struct rte_hash;
struct rte_lpm;
struct rte_lpm6;
struct reass_table;
struct route_list;
struct sock_state;
struct tun_state;

/* A burst of frames or packets for a layer, all from interface ifp. */
typedef void (*pkt_burst_fn)(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts,
			     uint16_t n);
/* A run of packets for an upper protocol: data at the IP header, its
 * length (with any extension headers) in pkt_meta's l3_len, the upper
 * header after it (pkt_l4), the in-interface and family in pkt_meta. */
typedef void (*ip_upper_fn)(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n);
/* One packet for a handler that consumes it. */
typedef void (*pkt_one_fn)(struct sonde_stack *st, struct rte_mbuf *m);
/* Reassembly: takes a fragment (data at the IP header; off is the IPv6
 * fragment header's offset) and returns the whole datagram when this one
 * completes it, else NULL (held, or dropped with a reason).  The datagram
 * is a chain whose first segment holds its own header, the first
 * fragment's: what follows reads nothing of the fragment that completed
 * it. */
typedef struct rte_mbuf *(*reass_fn)(struct sonde_stack *st, struct rte_mbuf *m, uint32_t off);

/* An ICMP or ICMPv6 error about a packet we sent, for the transport that
 * sent it (registered per family and protocol: proto_ip_err_register).
 * icmp.c and icmp6.c call it for destination unreachable, time exceeded,
 * parameter problem, and fragmentation needed (IPv4) or packet too big
 * (IPv6), once the quote is known to hold the IP header (and any IPv6
 * extension headers) and 8 bytes past it, and its source is an address of
 * ours.  err and hard are Linux's mapping (icmp_err_convert,
 * icmpv6_err_convert): a positive errno, and whether the error is hard
 * (RFC 1122 4.2.3.9: a soft one says a path may come back). */
struct ip_err {
	uint8_t af;   /* 4 or 6 */
	uint8_t type; /* ICMP_UNREACH, ICMP6_PACKET_TOO_BIG, ... */
	uint8_t code;
	bool hard;
	int err;	   /* ECONNREFUSED, EHOSTUNREACH, EMSGSIZE, ... */
	uint32_t info;	   /* the next-hop or path MTU for fragmentation needed and
			      packet too big; the pointer for parameter problem; else 0 */
	const uint8_t *ip; /* the quoted IP header: our packet, as it left */
	uint32_t len;	   /* bytes quoted from ip on (at least l4_off + 8) */
	uint32_t l4_off;   /* the quoted transport header's offset from ip */
};
typedef void (*ip_err_fn)(struct sonde_stack *st, const struct ip_err *e);

/* How frames get in and out of an interface: drivers/ implements these
 * (a DPDK port, an embedder's callbacks); NULL for an interface with no
 * frames of its own (lo0 reads its queue). */
struct if_driver {
	uint16_t (*rx)(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx)(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n);
	void (*close)(struct sonde_if *ifp);
};

/* What an interface is: how its frames are read and how IP packets leave
 * it.  Ethernet (a DPDK port, a driver's callbacks) resolves the next hop
 * and prepends a header; lo0 queues the packet for the next poll; a tunnel
 * encapsulates and sends the result on its underlay. */
struct if_kind {
	const char *name;
	uint8_t l2_len; /* link header bytes on the wire */
	int dlt;	/* pcap link type of its frames */
	/* Frames the driver received, data at the link header. */
	pkt_burst_fn input;
	/* Whether a packet to next hop nh (af 4 or 6) can leave at once;
	 * if so *l2 is what xmit needs for it (Ethernet: its neighbour
	 * entry, or NULL for a group address).  For the destination cache:
	 * whatever changes the answer must call dst_invalidate(). */
	bool (*resolve)(struct sonde_stack *st, struct sonde_if *ifp, int af, const uint8_t *nh,
			void **l2);
	/* IP packets that resolve() said can leave, with what it gave. */
	void (*xmit)(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts,
		     void *const *l2, uint16_t n);
	/* One IP packet to next hop nh, resolving it first as needed. */
	void (*output)(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, int af,
		       const uint8_t *nh);
	/* Once the interface's MAC and MTU are known (may be NULL). */
	void (*attach)(struct sonde_if *ifp);
	/* A kind with no driver (a tunnel): what sonde_if_create() does to
	 * make an interface of it from the application's conf, ifp made. */
	int (*create)(struct sonde_stack *st, struct sonde_if *ifp,
		      const struct sonde_if_conf *conf);
	/* The interface whose RSS spreads the flows this one receives (a
	 * tunnel: the port its outer packets come in by), or NULL; not set:
	 * the interface itself.  Active opens pick ports by it (sock.c). */
	const struct sonde_if *(*rss_under)(struct sonde_stack *st, const struct sonde_if *ifp);
};

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

/* How a port spreads received flows over its queues (RSS: a Toeplitz
 * hash of addresses and ports, then the redirection table), as port.c
 * read it from the PMD: active opens pick local ports whose replies hash
 * to this stack's queue (sock.c). */
struct if_rss {
	uint8_t key[64];
	uint8_t key_len;
	uint16_t reta_size;
	uint16_t reta[]; /* queue by hash % reta_size */
};

struct sonde_if {
	uint16_t index;
	const struct if_kind *kind;
	const struct if_driver *drv;
	char name[SONDE_NAMSIZ];
	uint16_t port_id;  /* a DPDK port's id, else UINT16_MAX */
	uint16_t queue_id; /* the port's rx/tx queue pair this stack uses */
	uint8_t mac[ETH_ADDR_LEN];
	uint16_t mtu;
	/* Ethernet: the header's last 8 bytes (our MAC, the EtherType) for
	 * IPv4 [0] and IPv6 [1], written in one store a frame. */
	uint8_t eth_tail[2][8];
	bool csum_rx_ipv4; /* the NIC validates IPv4 header checksums */
	bool csum_tx_ipv4; /* the NIC fills IPv4 header checksums */
	struct sonde_pcap *pcap;
	struct sonde_if_addr4 v4[SONDE_MAX_ADDRS];
	unsigned n_v4;
	struct sonde_if_addr6 v6[SONDE_MAX_ADDRS];
	unsigned n_v6;
	struct rte_mbuf *txq[SONDE_BURST];
	unsigned n_txq;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	/* SONDE_IF_DRIVER: the embedder's callbacks. */
	struct sonde_if_driver user;
	/* A fault injector (drivers/fault.c): drv is then its wrapper, and
	 * under the driver it wraps. */
	struct if_fault *fault;
	const struct if_driver *under;
	struct if_rss *rss; /* NULL: the port does no RSS (or has one queue) */
	void *priv;	    /* the kind's own (a tunnel's endpoints) */
};

/* The driver that moves ifp's frames, under any fault injector: what the
 * core asks when it needs to know a port from callbacks. */
static inline const struct if_driver *
if_base_drv(const struct sonde_if *ifp)
{
	return ifp->under ? ifp->under : ifp->drv;
}

/* A next hop, as stored behind an rte_lpm or rte_lpm6 route. */
struct route_nh {
	uint32_t gw4;	 /* network order; 0 = on-link */
	uint8_t gw6[16]; /* :: = on-link */
	uint16_t ifindex;
	uint8_t af;
	uint32_t refs; /* routes using it; 0 = free */
};

/*
 * The destination cache: what the route, neighbour and address tables say
 * of one address, so that a packet makes one probe here instead of the
 * local-address, broadcast, route, neighbour and path MTU lookups.  Owned
 * by the IP layer (dst.c); valid while st->dst_gen is what it was filled
 * under: every change of an address, a route, a neighbour's state or MAC,
 * a path MTU or an interface calls dst_invalidate(), the one place that
 * empties it.  Two-way: an address has slots h and h ^ 1, so that a flow's
 * two ends that share a pair both stay.  An entry is good until the next
 * lookup, which may fill or move it: copy what is needed first.
 */
#define DST_LOCAL 0x01 /* one of our usable addresses */
#define DST_ROUTE 0x02 /* out is where a packet to it leaves */
#define DST_READY 0x04 /* ... and it can leave at once, with l2 */

struct dst {
	uint8_t addr[16]; /* IPv4: the first four bytes, the rest zero */
	uint32_t gen;
	uint32_t tag; /* scope << 8 | af; scope: the interface, for IPv6 link-local and multicast */
	uint8_t flags;
	uint32_t mtu; /* what a packet to it may be: the link's, or a smaller path MTU */
	/* IPv4: the interfaces (by index bit) of which it is the limited or a
	 * directed broadcast; IPv6: those that hold it as an address, in any
	 * state. */
	uint64_t ifmask;
	struct sonde_if *out;
	void *l2;
} __rte_cache_aligned;

/* A token bucket: burst events, refilled at rate a second. */
struct ratelimit {
	uint32_t rate, burst;
	uint64_t tokens_ns; /* credit, in ns of refill time */
	uint64_t last;
};

struct frag_state {
	struct reass_table *reass;    /* datagrams in reassembly (ip/reass.c) */
	struct rte_mempool *indirect; /* fragmentation's (ip/frag.c) */
	uint64_t timeout_ns;
	uint32_t held, held_max; /* mbufs held for reassembly, and the cap */
	uint32_t held_peak;	 /* the most held at once, since the stack began */
};

struct pmtu6_entry {
	uint8_t dst[16];
	uint32_t mtu;
	uint64_t expires;
	struct timer timer; /* at expires: the entry goes (icmp6.c) */
};

/* udp_service[]: the port is an encapsulation's (st->udp_encap: ESP's). */
#define UDP_SERVICE_ENCAP 0xff

struct stats {
	uint64_t ipv4_in, ipv4_in_delivered, ipv4_forwarded, ipv4_out;
	uint64_t ipv6_in, ipv6_in_delivered, ipv6_forwarded, ipv6_out;
	uint64_t icmp_in, icmp_out, icmp_echo_replies, icmp_errors_out, icmp_ratelimited;
	uint64_t icmp6_in, icmp6_out, icmp6_echo_replies, icmp6_errors_out, icmp6_ratelimited;
	uint64_t nd_ns_in, nd_na_in, nd_ns_out, nd_na_out, nd_rs_ignored, nd_ra_ignored;
	uint64_t nd_dad_failed, pmtu6_updates;
	uint64_t frag_in, frag_reassembled, frag_out, frag_fragmented;
	uint64_t udp_in, udp_echoed, udp_discarded, udp_delivered, udp_out;
	/* RFC 4022's tcpActiveOpens, tcpPassiveOpens, tcpAttemptFails,
	 * tcpEstabResets, tcpInSegs, tcpOutSegs, tcpRetransSegs, tcpInErrs,
	 * tcpOutRsts; and ours. */
	uint64_t tcp_active_opens, tcp_passive_opens, tcp_attempt_fails, tcp_estab_resets;
	uint64_t tcp_in_segs, tcp_out_segs, tcp_retrans_segs, tcp_in_errs, tcp_out_rsts;
	uint64_t tcp_established; /* connections that reached ESTABLISHED */
	uint64_t tcp_rto, tcp_fast_retrans, tcp_sack_retrans, tcp_challenge_acks;
	uint64_t tcp_syncookies_sent, tcp_syncookies_ok, tcp_syncookies_failed;
	uint64_t tcp_tw_recycled;
	uint64_t tcp_zwp, tcp_keepalive_probes, tcp_keepalive_drops, tcp_ecn_ce;
	uint64_t tun_encap, tun_decap; /* packets into and out of tunnels */
	uint64_t tun_pmtu,
		tun_icmp_relayed; /* a tunnel's MTU lowered; errors told the inner sender */
	uint64_t esp_out, esp_in; /* ESP packets made, and taken in (ICV good) */
	uint64_t esp_keepalive_out, esp_keepalive_in; /* RFC 3948 2.2 */
	uint64_t arp_in, arp_out, arp_requests_out, arp_replies_out;
	uint64_t loop_pkts;
	uint64_t poll_rx, poll_busy,
		poll_busy_ns; /* packets taken in by polls that had work, those polls, their time */
	uint64_t dst_misses;
	uint64_t peer_sent, peer_received, peer_ring_full, peer_cmd_failed;
	uint64_t peer_handoff_out,
		peer_handoff_in; /* packets handed to the stack owning their flow */
	uint64_t drops[DROP_REASON_MAX];
};

struct sonde_stack {
	uint32_t id;
	uint32_t pid;
	struct rte_mempool *pool;
	bool forwarding;
	bool closing;	    /* sonde_stack_destroy() is running: drops are "shutdown" */
	bool probes_on;	    /* any probe switched on, as of this poll (probes.h) */
	uint64_t gate_next; /* ns: when sonde_poll reads the semaphores again */
	bool poll_busy;	    /* the last poll took packets in */
	uint64_t tsc_mult;  /* ns per TSC cycle, 40 fraction bits (sonde_now) */
	uint64_t now;	    /* ns, set by sonde_poll */

	const struct if_kind *kinds[SONDE_IF_TYPES]; /* what each type the API names is */
	struct sonde_if *ifs[SONDE_MAX_IFS];	     /* by index; NULL: free */
	unsigned n_ifs;				     /* one past the highest index in use */
	struct sonde_if *lo;

	/* The joints: what each layer registered when the stack was made. */
	struct {
		uint16_t type;
		pkt_burst_fn fn;
	} eth_types[SONDE_ETH_TYPES];
	unsigned n_eth_types;
	pkt_burst_fn l3_input[2]; /* [0] IPv4, [1] IPv6: from an interface with no link header */
	pkt_burst_fn l3_local[2]; /* ... from lo0: our own packets, delivered */
	ip_upper_fn ip_proto[2][256];
	ip_err_fn ip_err[2][256]; /* ICMP errors about what a protocol sent */
	reass_fn reass[2];
	pkt_one_fn icmp6_types[256]; /* ICMPv6 messages by type (ND's, registered by nd6.c) */

	/* Every timer of every layer, run by sonde_poll() on its now; a
	 * callback gets the stack as its ctx. */
	struct timer_wheel wheel;

	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	struct route_list *routes; /* route.c's list of what is in them */
	struct route_nh *nh;
	uint32_t n_nh_max;
	int default4, default6; /* 0/0 and ::/0, kept beside rte_lpm (depth 0 refused); -1: none */

	uint32_t dst_gen;
	struct dst dst[DST_SLOTS];

	struct neigh_table neigh;
	struct peer_state peer; /* sibling stacks on other lcores (peer.c) */
	struct frag_state frag;
	struct pmtu6_entry pmtu6[SONDE_PMTU6_SLOTS];

	/* lo0: packets to our own addresses wait here for the next poll. */
	struct rte_mbuf *loopq[SONDE_LOOPQ];
	uint32_t loop_head, loop_tail, loop_budget;

	/* Every interface's IPv4 addresses in one array: the "is it ours"
	 * test on a destination cache miss reads one cache line. */
	uint32_t local4[SONDE_MAX_IFS * SONDE_MAX_ADDRS];
	unsigned n_local4;
	uint8_t local6[SONDE_MAX_IFS * SONDE_MAX_ADDRS][16]; /* the preferred ones (RFC 4862) */
	unsigned n_local6;
	/* Which addresses may be ours (or, IPv4, a broadcast of ours): a bit
	 * by a hash of each, set when the arrays above are rebuilt.  Most
	 * sources are nobody's of ours, and this says so without a lookup. */
	uint64_t maybe_local4[4], maybe_local6[4];

	uint16_t ip_ident;
	uint32_t dad_pending;	/* tentative addresses */
	struct timer dad_timer; /* their DAD's (nd6.c) */
	uint32_t frag6_ident;

	/* ICMP error rate limits (RFC 1812 4.3.2.8, RFC 4443 2.4(f)). */
	struct ratelimit icmp_rl, icmp6_rl;

	/* Sockets, both transports (stack/transport/sock.c). */
	struct sock_state *sk;
	uint32_t tcp_curr_estab; /* RFC 4022 tcpCurrEstab: ESTABLISHED or CLOSE-WAIT now */

	/* Tunnels (stack/tunnel/tunnel.c) and their ESP (esp.c). */
	struct tun_state *tun;
	struct esp_state *esp;
	/* ESP between write and send (PKT_XFRM): each of pkts replaced by its
	 * ESP packet, or NULL when dropped (counted). */
	void (*xfrm_out)(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n);
	/* Datagrams to a UDP encapsulation port (udp_service UDP_SERVICE_ENCAP,
	 * RFC 3948's 4500): data at the IP header, the UDP header checked. */
	ip_upper_fn udp_encap;
	ip_err_fn udp_encap_err; /* an ICMP error about one such datagram of ours */

	/* UDP ports with a built-in service (enum sonde_service), both
	 * families, or UDP_SERVICE_ENCAP. */
	uint8_t udp_service[65536];

	struct stats stats;
};

/* IPv4 address classes, on host-order addresses (RFC 1122 3.2.1.3). */
#define IN_MULTICAST_H(h) (((h) >> 28) == 0xe)
#define IN_LOOPBACK_H(h) (((h) >> 24) == 127)

static inline struct sonde_if *
stack_if(const struct sonde_stack *st, uint16_t index)
{
	return index < st->n_ifs ? st->ifs[index] : NULL;
}

/* The family's index in the per-family tables. */
static inline unsigned
af_idx(int af)
{
	return af == 6;
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

/* rte_pktmbuf_adj() and _prepend() for a length known to fit (the data or
 * the headroom checked before): no check, no return. */
static __rte_always_inline void
pkt_adj(struct rte_mbuf *m, uint16_t len)
{
	m->data_off += len;
	m->data_len -= len;
	m->pkt_len -= len;
}

static __rte_always_inline void
pkt_prepend(struct rte_mbuf *m, uint16_t len)
{
	m->data_off -= len;
	m->data_len += len;
	m->pkt_len += len;
}

/* An upper layer's view of a packet to it (data at the IP header, whose
 * length with its extension headers is pkt_meta's l3_len): where its own
 * header starts, in the first segment, and how many bytes are its. */
static __rte_always_inline uint8_t *
pkt_l4(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, pkt_meta(m)->l3_len);
}

static __rte_always_inline uint32_t
pkt_l4_len(const struct rte_mbuf *m)
{
	return rte_pktmbuf_pkt_len(m) - pkt_meta_c(m)->l3_len;
}

/* --- core: registration (proto.c) --- */

/* A layer of the stack: what it sets up and registers when a stack is made,
 * and takes down when it goes.  stack/layers.c lists them, in order. */
struct sonde_layer {
	const char *name;
	int (*init)(struct sonde_stack *st, const struct sonde_conf *conf);
	void (*fini)(struct sonde_stack *st);
	/* The stack is going, its interfaces still up: a last word (TCP's
	 * resets), sent before anything is taken down. */
	void (*stop)(struct sonde_stack *st);
	/* Interface ifp is going away: forget what this layer has on it. */
	void (*if_detach)(struct sonde_stack *st, struct sonde_if *ifp);
};
extern const struct sonde_layer *const sonde_layers[];
extern const unsigned sonde_n_layers;

int proto_eth_register(struct sonde_stack *st, uint16_t type, pkt_burst_fn fn);
int proto_l3_register(struct sonde_stack *st, int af, pkt_burst_fn input, pkt_burst_fn local);
int proto_ip_register(struct sonde_stack *st, int af, uint8_t proto, ip_upper_fn fn);
int proto_reass_register(struct sonde_stack *st, int af, reass_fn fn);
/* The handler of ICMP errors about packets of protocol proto that this
 * stack sent (struct ip_err). */
int proto_ip_err_register(struct sonde_stack *st, int af, uint8_t proto, ip_err_fn fn);
/* The index of the handler registered for EtherType type, or
 * SONDE_ETH_TYPES if none. */
static inline uint8_t
proto_eth_index(const struct sonde_stack *st, uint16_t type)
{
	for (unsigned i = 0; i < st->n_eth_types; i++)
		if (st->eth_types[i].type == type)
			return (uint8_t)i;
	return SONDE_ETH_TYPES;
}

static inline pkt_burst_fn
proto_eth_find(const struct sonde_stack *st, uint16_t type)
{
	uint8_t i = proto_eth_index(st, type);

	return i < SONDE_ETH_TYPES ? st->eth_types[i].fn : NULL;
}

/* --- core: interfaces (iface.c) --- */

/* A new interface of kind (driver drv, which may be NULL), named name:
 * the lowest free index.  Counts, captures and probes work the same for
 * every kind. */
struct sonde_if *if_create(struct sonde_stack *st, const struct if_kind *kind,
			   const struct if_driver *drv, const char *name);
void if_flush(struct sonde_stack *st, struct sonde_if *ifp);
/* Frame m, queued for ifp and not taken by its driver: uncounted from
 * tx_bytes and dropped (tx-queue-full for IP, link-tx-queue-full else). */
void if_tx_refused(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
/* The kind interfaces of a type the application creates are (a layer's). */
int if_kind_register(struct sonde_stack *st, enum sonde_if_type type, const struct if_kind *kind);

/* Queues a finished frame for transmission. */
static __rte_always_inline void
if_enqueue(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	ifp->tx_bytes += rte_pktmbuf_pkt_len(m); /* if_flush() takes back what the driver refuses */
	ifp->txq[ifp->n_txq++] = m;
	if (ifp->n_txq == SONDE_BURST)
		if_flush(st, ifp);
}

/* What a kind's input does first with each frame of a driver's burst (in
 * its own loop over the burst, rather than one loop more): the packet's
 * metadata written whole, its bytes counted. */
static __rte_always_inline void
if_rx_frame(struct sonde_if *ifp, struct rte_mbuf *m)
{
	pkt_meta_init(m, ifp->index, 0);
	ifp->rx_bytes += rte_pktmbuf_pkt_len(m);
}

/* Hands IP packets (data at the IP header, each to leave by out[i] as its
 * dst said, l2[i] its resolve()) to their interfaces, a run per interface:
 * oix[i] is out[i]'s index, in an array with room for RUN_PAD more. */
void if_send_burst(struct sonde_stack *st, struct rte_mbuf **pkts, struct sonde_if *const *out,
		   void *const *l2, uint8_t *oix, uint16_t n);

/* lo0: fires local-send and queues m (data at the IP header) for the next poll. */
void loop_enqueue(struct sonde_stack *st, struct rte_mbuf *m);
bool ratelimit_ok(struct ratelimit *rl, uint64_t now);

/* --- the IP layer's destination cache (ip/dst.c) --- */

const struct dst *dst_fill(struct sonde_stack *st, uint32_t slot, uint32_t tag,
			   const uint8_t *addr);

/* Everything the cache holds is stale: the one invalidation point. */
static inline void
dst_invalidate(struct sonde_stack *st)
{
	st->dst_gen++;
}

/* A slot (and a bit of the filters of our addresses) by address: a
 * multiplicative hash, whose top byte depends on every bit of the address
 * (a fold by xor, tried first, made 10.77.0.1 and 10.78.0.2 one slot). */
static __rte_always_inline uint32_t
dst_hash4(uint32_t a)
{
	return (a * 0x9e3779b1u) >> 24;
}

static __rte_always_inline uint32_t
dst_hash6(const uint8_t *a)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	return (uint32_t)(((x * 0x9e3779b97f4a7c15ull) ^ y) * 0xc2b2ae3d27d4eb4full >> 56);
}

/* The entry for IPv4 address a (network order). */
static __rte_always_inline const struct dst *
dst4(struct sonde_stack *st, uint32_t a)
{
	uint32_t h = dst_hash4(a);
	const struct dst *d = &st->dst[h];

	if (likely(d->gen == st->dst_gen && d->tag == 4 && wire_load32(d->addr) == a))
		return d;
	d = &st->dst[h ^ 1];
	if (d->gen == st->dst_gen && d->tag == 4 && wire_load32(d->addr) == a)
		return d;
	return dst_fill(st, h, 4, (const uint8_t *)&a);
}

/* The bit of an IPv6 address in the filter of our addresses: a hash of
 * its interface identifier alone (one multiply; the prefix rarely tells
 * our addresses apart from a peer's). */
static __rte_always_inline uint32_t
maybe_hash6(const uint8_t *a)
{
	uint64_t y;

	memcpy(&y, a + 8, 8);
	return (uint32_t)(y * 0x9e3779b97f4a7c15ull >> 56);
}

/* Whether maybe_local[4] has the bit of hash h. */
static __rte_always_inline bool
maybe_local(const uint64_t *bits, uint32_t h)
{
	return (bits[h >> 6 & 3] >> (h & 63)) & 1;
}

/* The scope an IPv6 address is looked up in: the interface, for link-local
 * and multicast addresses (RFC 4007: meaningful on one link only). */
static __rte_always_inline uint32_t
dst_tag6(const uint8_t *a, uint16_t scope)
{
	return ipv6_addr_is_linklocal(a) || ipv6_addr_is_multicast(a)
		       ? (uint32_t)scope << 8 | 6
		       : (uint32_t)SONDE_IF_NONE << 8 | 6;
}

/* The entry for IPv6 address a, link-local and multicast ones on the
 * interface of index scope. */
static __rte_always_inline const struct dst *
dst6(struct sonde_stack *st, const uint8_t *a, uint16_t scope)
{
	uint32_t tag = dst_tag6(a, scope);
	uint32_t h = (dst_hash6(a) ^ tag >> 8) & (DST_SLOTS - 1);
	const struct dst *d = &st->dst[h];

	if (likely(d->gen == st->dst_gen && d->tag == tag && ipv6_addr_eq(d->addr, a)))
		return d;
	d = &st->dst[h ^ 1];
	if (d->gen == st->dst_gen && d->tag == tag && ipv6_addr_eq(d->addr, a))
		return d;
	return dst_fill(st, h, tag, a);
}

#endif
