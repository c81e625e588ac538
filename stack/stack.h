/*
 * stack.h: the stack instance and its interfaces (private to libsonde).
 *
 * Buffer rules, for every file in stack/: an input or output function
 * consumes the mbuf it is given (it sends it on, queues it or drops it with
 * pkt_drop()); a function taking a const mbuf pointer only borrows it.  IP
 * code keeps the mbuf's data pointer at the IP header; the Ethernet header is
 * prepended only when the packet is handed to a port.  m->port holds the
 * sonde interface index (not the DPDK port id) and m->packet_type the family
 * (RTE_PTYPE_L3_IPV4), so a drop anywhere can name both.
 *
 * No global mutable state: everything hangs off struct sonde_stack.
 */
#ifndef SONDE_STACK_H
#define SONDE_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "sonde/sonde.h"
#include "drop.h"
#include "wire.h"

#define SONDE_BURST 32
#define SONDE_MAX_IFS 16
#define SONDE_MAX_ADDRS 8
#define SONDE_IF_NONE UINT16_MAX
#define SONDE_LOOPQ 256 /* power of two */
#define SONDE_NAMSIZ 32

struct sonde_if;
struct sonde_pcap;
struct rte_hash;
struct rte_lpm;

/* How packets get in and out of an interface: drivers/ implements these. */
struct sonde_if_ops {
	uint16_t (*rx)(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx)(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n);
	void (*close)(struct sonde_if *ifp);
};

enum sonde_if_kind { IF_KIND_PORT, IF_KIND_LOOP };

struct sonde_if_addr4 {
	uint32_t addr;  /* network order */
	uint32_t mask;  /* network order */
	uint8_t plen;
};

struct sonde_if {
	uint16_t index;
	enum sonde_if_kind kind;
	char name[SONDE_NAMSIZ];
	uint16_t port_id;
	uint8_t mac[ETH_ADDR_LEN];
	uint16_t mtu;
	uint8_t l2_len; /* link header length on the wire */
	bool csum_rx_ipv4; /* the NIC validates IPv4 header checksums */
	bool csum_tx_ipv4; /* the NIC fills IPv4 header checksums */
	const struct sonde_if_ops *ops;
	struct sonde_pcap *pcap;
	struct sonde_if_addr4 v4[SONDE_MAX_ADDRS];
	unsigned n_v4;
	struct rte_mbuf *txq[SONDE_BURST];
	unsigned n_txq;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

/* A next hop, as stored behind an rte_lpm route. */
struct route4_nh {
	uint32_t gw; /* network order; 0 = on-link */
	uint16_t ifindex;
	bool used;
};

struct arp_entry;

struct arp_table {
	struct rte_hash *hash;
	struct arp_entry *entries; /* indexed by the hash's key position */
	struct rte_mbuf **qstore;  /* queue_max held packets per entry */
	uint32_t size, n_slots;
	uint32_t timeout_ms;
	uint32_t queue_max;
	uint64_t next_scan;
};

struct stats {
	uint64_t ipv4_in, ipv4_in_delivered, ipv4_forwarded, ipv4_out;
	uint64_t icmp_in, icmp_out, icmp_echo_replies, icmp_errors_out, icmp_ratelimited;
	uint64_t udp_in;
	uint64_t arp_in, arp_out, arp_requests_out, arp_replies_out;
	uint64_t loop_pkts;
	uint64_t drops[DROP_REASON_MAX];
};

struct sonde_stack {
	uint32_t id;
	uint32_t pid;
	struct rte_mempool *pool;
	bool forwarding;
	uint64_t now; /* ns, set by sonde_poll */

	struct sonde_if *ifs[SONDE_MAX_IFS];
	unsigned n_ifs;
	struct sonde_if *lo;

	struct rte_lpm *lpm4;
	struct route4_nh *nh4;
	uint32_t n_nh4_max;
	bool has_default4; /* 0/0, kept beside rte_lpm (depths 1 to 32 only) */
	uint32_t default4; /* its index in nh4 */

	struct arp_table arp;

	/* lo0: packets to our own addresses wait here for the next poll. */
	struct rte_mbuf *loopq[SONDE_LOOPQ];
	uint32_t loop_head, loop_tail;

	uint16_t ip_ident;

	/* ICMP error token bucket (RFC 1812 4.3.2.8, RFC 4443 2.4(f)). */
	uint32_t icmp_rate, icmp_burst;
	uint64_t icmp_tokens_ns; /* "tokens" kept as ns of credit */
	uint64_t icmp_last;

	struct stats stats;
};

static inline struct sonde_if *
stack_if(const struct sonde_stack *st, uint16_t index)
{
	return index < st->n_ifs ? st->ifs[index] : NULL;
}

/* stack.c: adds an Ethernet interface driven by ops (a test driver, a
 * wrapper around another interface); ops->close may be NULL. */
struct sonde_if *stack_if_attach(struct sonde_stack *st, const struct sonde_if_ops *ops,
				 const char *name, const uint8_t *mac, uint16_t mtu);

/* eth.c */
void eth_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
/* Sends IP packet m (data at the IP header) to neighbour MAC dst on ifp:
 * fires send, prepends the Ethernet header and queues the frame. */
void eth_output_ip(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m,
		   const uint8_t *dst);
/* Queues a finished frame for transmission. */
void if_enqueue(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
void if_flush(struct sonde_stack *st, struct sonde_if *ifp);
const uint8_t *eth_broadcast_addr(void);

/* arp.c */
int arp_init(struct sonde_stack *st, const struct sonde_conf *conf);
void arp_fini(struct sonde_stack *st);
void arp_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
/* Sends IP packet m to next hop nh on ifp, resolving nh first if needed. */
void arp_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh);
void arp_announce(struct sonde_stack *st, struct sonde_if *ifp, uint32_t addr);
void arp_timer(struct sonde_stack *st);

/* ipv4.c */
void ipv4_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m);
/* Prepends an IPv4 header to m (data at the transport header) and sends it.
 * src 0 picks the outgoing interface's address. */
int ipv4_output(struct sonde_stack *st, struct rte_mbuf *m, uint32_t src, uint32_t dst,
		uint8_t proto, uint8_t ttl, uint8_t tos);
void ipv4_loop_input(struct sonde_stack *st, struct rte_mbuf *m);
bool ipv4_is_local(const struct sonde_stack *st, uint32_t addr);
bool ipv4_is_broadcast(const struct sonde_stack *st, const struct sonde_if *ifp, uint32_t addr);
uint32_t ipv4_if_addr(const struct sonde_if *ifp, uint32_t peer);

/* route.c */
int route4_init(struct sonde_stack *st, const struct sonde_conf *conf);
void route4_fini(struct sonde_stack *st);
int route4_add(struct sonde_stack *st, uint32_t dst, uint8_t plen, uint32_t gw, uint16_t ifindex);
/* The next hop for dst, or NULL. */
const struct route4_nh *route4_lookup(const struct sonde_stack *st, uint32_t dst);

/* icmp.c */
void icmp_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip);
/* Sends an ICMP error about m (data at its IP header; borrowed) per RFC 1122
 * 3.2.2 and RFC 1812 4.3.2.7: never about an ICMP error, a broadcast or
 * multicast, a non-initial fragment or a source that is not unicast. */
void icmp_error(struct sonde_stack *st, const struct rte_mbuf *m, uint8_t type, uint8_t code,
		uint32_t info);

/* udp.c */
void udp_input(struct sonde_stack *st, struct rte_mbuf *m, const struct ipv4_view *ip);

#endif
