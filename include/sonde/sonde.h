/*
 * sonde.h: the public API of libsonde, a userspace IPv4/IPv6 stack on DPDK
 * whose packets are visible through USDT probes (see probes/ip_provider.h).
 *
 * The model is DPDK's: the application initialises EAL and creates an mbuf
 * pool, then creates a stack, adds ports and addresses, and calls
 * sonde_poll() in its loop on one lcore.  A stack is not thread-safe; run one
 * stack per lcore.  Control calls return 0 (or an index) on success and a
 * negative errno on failure.
 *
 * Several lcores: create one stack per lcore, link them
 * (sonde_stacks_link), set each port up once with as many queue pairs as
 * stacks (sonde_port_setup) and give stack i queue i of it
 * (sonde_port_add_queue), configure every stack alike, then poll each on
 * its own lcore.  Linked stacks share no mutable state: what one learns
 * about a neighbour reaches the others by message.
 */
#ifndef SONDE_H
#define SONDE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct rte_mempool;
struct sonde_stack;

/* Stack configuration; zero means "the default" for every number. */
struct sonde_conf {
	struct rte_mempool *pool; /* mbufs for everything the stack builds */
	uint32_t stack_id;	  /* reported as if_ipstack / cs_zoneid */
	bool forwarding;	  /* route packets not addressed to us (RFC 1812) */
	uint32_t arp_entries;	  /* neighbour table size, ARP and ND (default 1024) */
	uint32_t arp_timeout_ms;  /* ReachableTime: confirmed entries go stale after (30000) */
	uint32_t arp_queue;	  /* packets held per unresolved neighbour (4) */
	uint32_t icmp_rate;	  /* ICMP errors per second (100) */
	uint32_t icmp_burst;	  /* ICMP error bucket depth (50) */
	uint32_t routes;	  /* routes per family (1024) */
	uint32_t frag_timeout_ms; /* reassembly timeout (30000) */
	uint32_t frag_max;	  /* fragments held for reassembly, at most (1024) */
	bool no_fastpath; /* every frame through the layers, even untraced (see stack/fast.c) */
};

/* An address or prefix of either family. */
struct sonde_prefix {
	int af; /* AF_INET or AF_INET6; AF_UNSPEC: "default", see sonde_route_add */
	uint8_t plen;
	union {
		uint8_t v6[16];
		uint32_t v4; /* network order */
	} addr;
};

struct sonde_stack *sonde_stack_create(const struct sonde_conf *conf);
/* Frees everything the stack holds (queued packets included); does not stop
 * or close the DPDK ports: the caller owns them. */
void sonde_stack_destroy(struct sonde_stack *st);

/* Configures and starts DPDK port port_id (one rx and one tx queue) and adds
 * it as interface "dpdkN".  Returns the interface index. */
int sonde_port_add(struct sonde_stack *st, uint16_t port_id);
/* Configures and starts DPDK port port_id with nb_queues rx and tx queue
 * pairs, their receive buffers from pool, for as many stacks.  With more
 * than one queue and a PMD that has RSS, flows are spread by a hash of
 * addresses and ports (IP, UDP, TCP); net_tap, net_af_packet and net_memif
 * spread (or not) by themselves (see README, "Several cores"). */
int sonde_port_setup(uint16_t port_id, uint16_t nb_queues, struct rte_mempool *pool);
/* Adds queue pair queue of port port_id (started by sonde_port_setup) to
 * the stack as interface "dpdkN": the stack receives and sends on that
 * queue only.  Returns the interface index.  Linked stacks must add their
 * ports in the same order, so that an interface has one index in all. */
int sonde_port_add_queue(struct sonde_stack *st, uint16_t port_id, uint16_t queue);
/* Flushes the stack's transmit queues; stops and closes every DPDK port on
 * which the stack holds queue 0.  With linked stacks on one port, call it
 * for every stack once none polls any more, the one holding queue 0 last
 * (the others' queued frames would otherwise be freed unsent). */
void sonde_ports_close(struct sonde_stack *st);

/* Links n stacks (n >= 2), to be polled on different lcores over the
 * queues of the same ports: each gets a ring (multi-producer, single
 * consumer) on which the others post what a packet taught them about a
 * neighbour (ARP, NS, NA), applied at its next sonde_poll(); stacks[0]
 * alone sends Duplicate Address Detection probes and ARP announcements and
 * tells the others the outcome.  Call it before any port is added;
 * -EBUSY otherwise, -EALREADY if a stack is linked already.  Destroy
 * linked stacks only once none of them polls any more. */
int sonde_stacks_link(struct sonde_stack **stacks, unsigned n);

/* Interface index by name ("dpdk0", "lo0"), or -ENOENT. */
int sonde_if_find(const struct sonde_stack *st, const char *name);
const char *sonde_if_name(const struct sonde_stack *st, int ifindex);

/* Adds an address with its on-link prefix (a connected route).  An IPv6
 * address is tentative until Duplicate Address Detection (about a second of
 * polling) finds no other owner.  Ports get a link-local address from their
 * MAC (RFC 4291 modified EUI-64) when added. */
int sonde_addr_add(struct sonde_stack *st, int ifindex, const struct sonde_prefix *p);
/* Adds a route to dst via gateway gw (which must be on-link).  A dst of
 * family AF_UNSPEC (and prefix length 0), as sonde_prefix_parse() makes of
 * "default", is the default route of gw's family: 0.0.0.0/0 via an IPv4
 * gateway, ::/0 via an IPv6 one.  -EAFNOSUPPORT if dst and gw are of
 * different families, or gw of none. */
int sonde_route_add(struct sonde_stack *st, const struct sonde_prefix *dst,
		    const struct sonde_prefix *gw);

/* Built-in services on a UDP port, both families: echo (RFC 862) sends
 * each datagram back; discard (RFC 863) takes it and says nothing. */
enum sonde_service { SONDE_SERVICE_NONE, SONDE_SERVICE_ECHO, SONDE_SERVICE_DISCARD };
int sonde_udp_service(struct sonde_stack *st, uint16_t port, enum sonde_service kind);

/* Sets the MTU of interface ifindex, a DPDK port: the port's own
 * (rte_eth_dev_set_mtu) and the one IP fragments to, forwards up to and
 * sends ICMP "packet too big" / "fragmentation needed" about.  At least
 * 1280 (RFC 8200 5: every port has IPv6). */
int sonde_if_set_mtu(struct sonde_stack *st, int ifindex, uint16_t mtu);

/* Records every frame interface ifindex sends or receives to a pcap file. */
int sonde_pcap_open(struct sonde_stack *st, int ifindex, const char *path);

/* One turn of the stack: receive a burst per port, process it, run timers,
 * flush transmit queues.  now_ns is a monotonic clock in nanoseconds (the
 * stack reads none itself: sonde_now() is a cheap one); poll.busy_ns is
 * measured by it.  Returns the number of packets received. */
unsigned sonde_poll(struct sonde_stack *st, uint64_t now_ns);

/* True once no address is tentative any more (DAD done; for a linked
 * stack other than the first, once the first's verdict has arrived). */
bool sonde_ready(const struct sonde_stack *st);

/* Sends one ICMP or ICMPv6 echo request of len payload bytes from the stack. */
int sonde_ping(struct sonde_stack *st, const struct sonde_prefix *dst, uint16_t id, uint16_t seq,
	       uint16_t len);

/* Parses "10.0.0.1", "10.0.0.0/24", "fd00::1/64".  Without /LEN the prefix
 * length is the full address.  "default" is 0/0 of no family yet (af
 * AF_UNSPEC, plen 0: sonde_route_add() gives it the gateway's); "default4"
 * is 0.0.0.0/0 and "default6" ::/0, like those two spelt out.  Returns 0 or
 * -EINVAL. */
int sonde_prefix_parse(const char *s, struct sonde_prefix *p);

/* Calls fn for each counter: "drop.in.bad-checksum", "ipv4.in", ... */
typedef void (*sonde_stat_fn)(const char *name, uint64_t value, void *arg);
void sonde_stats_foreach(const struct sonde_stack *st, sonde_stat_fn fn, void *arg);
/* The value of one counter by name, or 0. */
uint64_t sonde_stat(const struct sonde_stack *st, const char *name);

/* A monotonic clock for sonde_poll, from the TSC. */
uint64_t sonde_clock_ns(void);
/* The same clock without a division, for a poll loop: ns from the TSC by
 * a multiplier the stack computed once.  It drifts from sonde_clock_ns()
 * by up to 0.2 us a day of TSC uptime: give a stack one or the other. */
uint64_t sonde_now(const struct sonde_stack *st);

#endif
