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

struct rte_mbuf;
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
	uint32_t frag_max; /* mbufs held for reassembly, all datagrams together, at most (1024) */
	/* Sockets and TCP connections at once (16384); a closed connection in
	 * TIME-WAIT holds one until the pool runs out, then the oldest goes
	 * (counter tcp.tw_recycled). */
	uint32_t max_sockets;
	uint32_t sock_mbufs; /* mbufs all socket buffers hold together, at most (half the pool) */
	uint32_t sndbuf;     /* a socket's send buffer, bytes (262144) */
	uint32_t rcvbuf;     /* a socket's receive buffer, bytes (262144) */
	/* ESP's crypto: the DPDK vdev driver the stack makes its device of
	 * (sonde_tunnel_conf's esp): NULL "crypto_openssl" (OpenSSL's
	 * PMD); "crypto_aesni_gcm" (intel-ipsec-mb's) is two to three
	 * times faster where the CPU has AES-NI (BENCHMARKS.md). */
	const char *crypto_pmd;
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

/* NULL on failure, with rte_errno saying why: EINVAL (no pool), ENOMEM,
 * ENOSPC or EEXIST from a table DPDK could not make (rte_lpm, rte_hash: a
 * name in use, memory), and the cause is logged with the layer it stopped
 * at. */
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

/* Interfaces are objects of a type: a DPDK port's queue pair, frames the
 * application moves itself through callbacks (Ethernet II framing: a
 * pcap replay, an AF_XDP socket, a test), or a tunnel (IP packets in an
 * outer IP header, sent and received through the other interfaces).
 * Every type gets the same addresses, MTU, counters, capture and probes;
 * the name is what the probes show (if_name). */
enum sonde_if_type {
	SONDE_IF_PORT,	 /* port_id's queue pair queue, set up by sonde_port_setup */
	SONDE_IF_DRIVER, /* the callbacks in driver */
	SONDE_IF_TUNNEL, /* the tunnel in tunnel */
	SONDE_IF_TYPES
};

/* A tunnel's encapsulation; each interoperates with the Linux device named. */
enum sonde_tunnel_mode {
	SONDE_TUNNEL_IPIP,   /* IPv4 in IPv4, RFC 2003 (Linux: ipip) */
	SONDE_TUNNEL_SIT,    /* IPv6 in IPv4, RFC 4213 (sit) */
	SONDE_TUNNEL_IP6IP6, /* IPv6 in IPv6, RFC 2473 (ip6tnl mode ip6ip6) */
	SONDE_TUNNEL_IPIP6,  /* IPv4 in IPv6, RFC 2473 (ip6tnl mode ipip6) */
	SONDE_TUNNEL_GRE,    /* IPv4 or IPv6 in GRE in IPv4, RFC 2784/2890 (gre) */
	SONDE_TUNNEL_IP6GRE, /* IPv4 or IPv6 in GRE in IPv6 (ip6gre) */
	SONDE_TUNNEL_MODES
};

/*
 * ESP over UDP (RFC 4303 in RFC 3948's UDP encapsulation) on a tunnel of
 * mode ipip, sit, ip6ip6 or ipip6: what leaves the tunnel is encrypted
 * between IP output's write and send of the outer packet, which goes in
 * UDP from port to port (on the wire: tunnel-mode ESP with next header 4
 * or 41, as Linux's XFRM puts it); what comes in on that UDP port with the
 * inbound SPI, from remote to local, is checked (anti-replay, ICV),
 * decrypted and comes in on the tunnel.  Plain IP-in-IP packets are not
 * taken on such a tunnel.  Static SAs, one a direction.
 */
enum sonde_esp_alg {
	SONDE_ESP_AES_GCM_128 = 1, /* RFC 4106, 16-byte ICV: key 16 bytes + salt 4 */
	SONDE_ESP_AES_GCM_256,	   /* key 32 bytes + salt 4 */
};

struct sonde_esp_sa {
	uint32_t spi; /* host order; not 0..255 (RFC 4303 2.1) */
	enum sonde_esp_alg alg;
	uint8_t key[36]; /* the key, then the 4-byte salt (RFC 4106 8.1) */
	/* Outbound: the last sequence number sent (0: none yet); the SA
	 * stops at 2^32 - 1 (RFC 4303 3.3.3: never cycles, no extended
	 * sequence numbers).  Inbound: ignored. */
	uint32_t seq;
	/* Inbound: the anti-replay window in packets (RFC 4303 3.4.3), 0 the
	 * default (64), at most 1024.  Outbound: ignored. */
	uint16_t replay_window;
};

struct sonde_esp_conf {
	struct sonde_esp_sa out, in;
	uint16_t port;	    /* UDP port, both ends; 0: 4500 */
	uint16_t keepalive; /* RFC 3948 2.2 NAT keepalive after this many idle
			     * seconds; 0: 20; 0xffff: never */
};

/* A tunnel: packets routed to it leave in an outer header from local to
 * remote (the outer family: IPv4 for ipip, sit, gre; IPv6 for the
 * others), by the route to remote; packets from remote to local of its
 * mode (and key) come in on it.  Its MTU (sonde_if_set_mtu changes it)
 * is 1500 less the outer headers. */
struct sonde_tunnel_conf {
	enum sonde_tunnel_mode mode;
	struct sonde_prefix local, remote; /* addresses (the prefix length is not looked at) */
	bool has_key;			   /* GRE: a key (RFC 2890), sent and required */
	uint32_t key;			   /* host order */
	uint8_t ttl;			   /* outer TTL or hop limit; 0: 64 */
	/* ip6ip6, ipip6, ip6gre: the RFC 2473 tunnel encapsulation limit
	 * option put in front, as Linux does: 0 the default (4), -1 none,
	 * 1..255 that limit.  Received packets may carry one or not. */
	int16_t encap_limit;
	/* ESP over UDP (above; not for gre, ip6gre), or NULL.  The SAs are
	 * copied: the caller may wipe its keys once the call returns.  The
	 * first ESP tunnel of a stack creates its crypto device (DPDK's
	 * OpenSSL PMD, crypto_openssl): from the main lcore, like any vdev. */
	const struct sonde_esp_conf *esp;
};

/* The callbacks of a SONDE_IF_DRIVER interface, called from sonde_poll()
 * only.  rx fills pkts with at most n received frames (data at the
 * Ethernet header) and returns how many; the stack owns them.  tx takes
 * frames to send and returns how many it took (it owns those); the stack
 * drops the rest (tx-queue-full).  close, if set, runs when the interface
 * is destroyed. */
struct sonde_if_driver {
	uint16_t (*rx)(void *arg, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx)(void *arg, struct rte_mbuf **pkts, uint16_t n);
	void (*close)(void *arg);
	void *arg;
};

struct sonde_if_conf {
	enum sonde_if_type type;
	const char *name;	 /* default for ports "dpdkN", N the port id; drivers need one */
	uint16_t port_id, queue; /* SONDE_IF_PORT */
	struct sonde_if_driver driver;	 /* SONDE_IF_DRIVER */
	uint8_t mac[6];			 /* SONDE_IF_DRIVER: its unicast MAC */
	uint16_t mtu;			 /* SONDE_IF_DRIVER: default 1500 */
	bool no_linklocal;		 /* no fe80:: address from the MAC (and no DAD for it) */
	struct sonde_tunnel_conf tunnel; /* SONDE_IF_TUNNEL */
};

/* Creates an interface; returns its index (the lowest free: linked stacks
 * that create the same interfaces in the same order agree on indexes).
 * An Ethernet interface gets a link-local IPv6 address from its MAC (RFC
 * 4291 modified EUI-64) unless no_linklocal. */
int sonde_if_create(struct sonde_stack *st, const struct sonde_if_conf *conf);
/* Removes an interface at run time (a tunnel too): its addresses, the routes through it,
 * its neighbours and the packets it holds go with it (counted drops); a
 * driver's close is called.  Not lo0.  Not passed to linked stacks (each
 * has its own queue of a port). */
int sonde_if_destroy(struct sonde_stack *st, int ifindex);

/* Interface index by name ("dpdk0", "lo0"), or -ENOENT. */
int sonde_if_find(const struct sonde_stack *st, const char *name);
const char *sonde_if_name(const struct sonde_stack *st, int ifindex);

/*
 * Changes at run time.  Each call applies to st at once and returns its
 * result; on linked stacks (sonde_stacks_link) it is also queued to every
 * other stack, which makes the same change at its next sonde_poll(): an
 * application configures one stack, not one per lcore.  A stack that
 * cannot make a change it was sent counts it (peer.cmd_failed) and logs
 * it.
 */

/* Adds an address with its on-link prefix (a connected route).  An IPv6
 * address is tentative until Duplicate Address Detection (about a second of
 * polling) finds no other owner. */
int sonde_addr_add(struct sonde_stack *st, int ifindex, const struct sonde_prefix *p);
/* Removes the address p->addr (the prefix length is not looked at) and,
 * with the last address of its prefix on the interface, the connected
 * route.  -EADDRNOTAVAIL if the interface has no such address. */
int sonde_addr_del(struct sonde_stack *st, int ifindex, const struct sonde_prefix *p);
/* Adds (or replaces) a route to dst via gateway gw (which must be on-link).  A dst of
 * family AF_UNSPEC (and prefix length 0), as sonde_prefix_parse() makes of
 * "default", is the default route of gw's family: 0.0.0.0/0 via an IPv4
 * gateway, ::/0 via an IPv6 one.  -EAFNOSUPPORT if dst and gw are of
 * different families, or gw of none. */
int sonde_route_add(struct sonde_stack *st, const struct sonde_prefix *dst,
		    const struct sonde_prefix *gw);
/* Removes the route to dst (its family's 0/0 for a default); -ESRCH if none. */
int sonde_route_del(struct sonde_stack *st, const struct sonde_prefix *dst);
/* A permanent neighbour: addr is at mac on Ethernet interface ifindex,
 * never asked, never changed by a packet, until sonde_neigh_del. */
int sonde_neigh_add(struct sonde_stack *st, int ifindex, const struct sonde_prefix *addr,
		    const uint8_t mac[6]);
/* Forgets neighbour addr on ifindex (learnt or permanent); what waited for
 * it is dropped.  -ENOENT if unknown. */
int sonde_neigh_del(struct sonde_stack *st, int ifindex, const struct sonde_prefix *addr);
/* Forwarding (RFC 1812) on or off. */
int sonde_forwarding(struct sonde_stack *st, bool on);

/* Built-in services on a UDP port, both families: echo (RFC 862) sends
 * each datagram back; discard (RFC 863) takes it and says nothing. */
enum sonde_service { SONDE_SERVICE_NONE, SONDE_SERVICE_ECHO, SONDE_SERVICE_DISCARD };
int sonde_udp_service(struct sonde_stack *st, uint16_t port, enum sonde_service kind);

/* Sets the MTU of interface ifindex, a DPDK port: the port's own
 * (rte_eth_dev_set_mtu) and the one IP fragments to, forwards up to and
 * sends ICMP "packet too big" / "fragmentation needed" about.  At least
 * 1280 (RFC 8200 5: every port has IPv6). */
int sonde_if_set_mtu(struct sonde_stack *st, int ifindex, uint16_t mtu);

/*
 * A fault injector on interface ifindex: the link made lossy in software,
 * for tests on machines without netem.  It wraps the interface's driver
 * (a port or callbacks alike) and, in each direction on its own, draws
 * for every frame from a PRNG seeded by seed and the direction, so the
 * same seed and the same traffic give the same faults.  Rates are parts
 * per million (1000000: every frame).  A frame is, in this order: lost
 * (dropped as fault-loss, in or out); corrupted (one bit of one byte
 * anywhere in the frame flipped); duplicated (a deep copy from the
 * stack's pool follows it; none when the pool is empty, counted);
 * reordered (held back until the next frame of its direction has gone,
 * or at most SONDE_FAULT_REORDER_MAX_US); delayed by delay_us on the
 * stack's clock (sonde_poll's now), in order.  At most limit frames (0 or
 * more than SONDE_FAULT_QUEUE: SONDE_FAULT_QUEUE) wait per direction, as
 * netem's limit; one more is dropped (fault-queue-full).  Received
 * frames are seen by the stack and its capture after the faults; sent
 * ones are captured before them (the stack's view).  A sent frame whose
 * IPv4 header checksum the NIC was to fill gets it from the injector
 * before its bit is flipped, so that the NIC does not hide the flip.
 * Counters:
 * if.NAME.fault.{rx,tx}_{lost,corrupted,duplicated,dup_failed,reordered,
 * delayed}.
 */
#define SONDE_FAULT_QUEUE 1024
#define SONDE_FAULT_REORDER_MAX_US 10000
#define SONDE_FAULT_DELAY_MAX_US 10000000 /* 10 s */
struct sonde_fault_dir {
	uint32_t loss_ppm, corrupt_ppm, dup_ppm, reorder_ppm;
	uint32_t delay_us; /* at most SONDE_FAULT_DELAY_MAX_US */
	uint32_t limit;	   /* frames waiting, at most; 0: SONDE_FAULT_QUEUE */
};

struct sonde_fault_conf {
	uint64_t seed;
	struct sonde_fault_dir rx, tx;
};

/* Installs (or, on an interface that has one, replaces: frames held stay
 * held, the PRNGs start again from the seed) the fault injector conf on
 * ifindex, of this stack only (not passed to linked stacks: each has its
 * own queue of a port).  A NULL conf removes it: frames held for sending
 * are sent at once, those held on receipt dropped (fault-flushed).
 * Destroying the interface or the stack drops what it holds
 * (fault-flushed).  -ENODEV: no such interface, or lo0; -EINVAL: a rate
 * above a million or a delay above the maximum; -ENOENT: removing where
 * there is none; -ENOMEM. */
int sonde_if_fault(struct sonde_stack *st, int ifindex, const struct sonde_fault_conf *conf);

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

/* Sends one ICMP or ICMPv6 echo request of len payload bytes from the
 * stack.  0 once handed to IP (it may still wait for the neighbour);
 * -EHOSTUNREACH with no route, -EADDRNOTAVAIL with no source address on
 * the way out (both a counted drop-out: no-route, no-source-address),
 * -ENOBUFS with no mbuf, -EMSGSIZE when len does not fit one,
 * -EAFNOSUPPORT for a family other than AF_INET and AF_INET6. */
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
