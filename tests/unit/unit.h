/*
 * unit.h: the harness shared by sonde's cmocka unit tests.
 *
 * EAL runs without hugepages or PCI (unit_init), one mbuf pool serves every
 * test, and a stack under test gets test links instead of DPDK ports: a
 * link's rx op hands out the frames the test queued with fx_inject(), its tx
 * op keeps what the stack sends in link->tx[] for the test to read (a chain,
 * as fragments leave, checked and gathered into one buffer first).  Time is
 * a fake clock (fx->now) passed to sonde_poll().  fx_finish() destroys the
 * stack and fails the test if any mbuf or injected buffer is still in use:
 * every test ends there.
 *
 * Injected frames sit in malloc'd buffers of exactly their size, attached
 * to the mbufs as external buffers: under ASan a read past a frame's end is
 * reported.  Pool buffers are filled with 0xa5 at start and when the test
 * frees what was sent, so bytes the stack sends without writing show up.
 *
 * Checksums here are computed by ref_cksum(), written from RFC 1071 without
 * DPDK, so they are an independent witness of the stack's own.
 */
#ifndef SONDE_UNIT_H
#define SONDE_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include "stack.h"

#define UNIT_MAX_RX 512
#define UNIT_MAX_TX 1024
#define UNIT_MAX_LINKS 4
#define UNIT_MAX_STATS 256
#define UNIT_FRAME_MAX 2048
#define UNIT_T0 (1000ull * 1000000000ull) /* the fake clock starts at 1000 s */
#define MS (1000000ull)
#define SEC (1000000000ull)

/* The test network of packets.h: us, host A on test0, host B and router R on test1. */
extern const uint8_t MAC_US0[6], MAC_US1[6], MAC_A[6], MAC_B[6], MAC_R[6], MAC_BCAST[6],
	MAC_ZERO[6];

struct unit_link {
	struct sonde_if *ifp;
	struct rte_mbuf *rxq[UNIT_MAX_RX];
	unsigned rx_head, rx_tail;
	struct rte_mbuf *tx[UNIT_MAX_TX];
	unsigned n_tx;
	unsigned tx_budget;  /* frames tx still accepts; UINT_MAX: all */
	unsigned n_gathered; /* chained frames (fragments) tx gathered */
};

struct unit_stat {
	char name[96];
	uint64_t value;
};

struct unit_fx {
	struct sonde_stack *st;
	struct unit_link link[UNIT_MAX_LINKS];
	unsigned n_links;
	unsigned pool_in_use; /* at fx_start */
	unsigned extbufs;     /* fx_inject's buffers alive at fx_start */
	uint64_t now;
	struct unit_stat snap[UNIT_MAX_STATS];
	unsigned n_snap;
};

extern struct rte_mempool *unit_pool;

/* Starts EAL (file prefix sondeunit_<name>_<pid>) and creates the pool. */
void unit_init(const char *name);
/* The same with mb MB of DPDK memory (a stack takes about 132: rte_lpm and
 * rte_lpm6), for tests with two stacks. */
void unit_init_mem(const char *name, unsigned mb);
/* Stops EAL and removes its runtime directory. */
void unit_fini(void);

/* Creates the stack (conf->pool is filled in; conf may be NULL). */
void fx_start(struct unit_fx *fx, const struct sonde_conf *conf);
struct unit_link *fx_link(struct unit_fx *fx, const char *name, const uint8_t *mac, uint16_t mtu);
void fx_addr(struct unit_fx *fx, struct unit_link *l, const char *prefix);
/* sonde_route_add(), which must succeed: dst and gw as text ("fd01::/64"). */
void fx_route(struct unit_fx *fx, const char *dst, const char *gw);
/* Queues a copy of frame p for link l's next rx burst; returns the mbuf.
 * The copy is in an external buffer of exactly len bytes (see unit.c). */
struct rte_mbuf *fx_inject(struct unit_fx *fx, struct unit_link *l, const void *p, size_t len);
/* The same in an ordinary mbuf from the pool, with room around the frame. */
struct rte_mbuf *fx_inject_pool(struct unit_fx *fx, struct unit_link *l, const void *p, size_t len);
unsigned fx_poll(struct unit_fx *fx);
void fx_advance(struct unit_fx *fx, uint64_t ns);
void fx_tx_clear(struct unit_link *l);
/* Frees what the test still holds, destroys the stack, checks for leaks. */
void fx_finish(struct unit_fx *fx);
/* For cmocka teardowns: cleans up after a test that failed before fx_finish. */
int fx_teardown(void **state);

/* A host: test0 (MAC_US0) with 10.0.0.1/24, its announcement consumed. */
void fx_host(struct unit_fx *fx, const struct sonde_conf *conf);
/* A router: fx_host plus test1 (MAC_US1, mtu) with 10.1.0.1/24, forwarding on. */
void fx_router(struct unit_fx *fx, struct sonde_conf *conf, uint16_t mtu1);
/* Host A asks for 10.0.0.1 and gets its reply: the stack knows A's MAC. */
void fx_learn_a(struct unit_fx *fx);
/* Host B asks for 10.1.0.1 on test1 and gets its reply. */
void fx_learn_b(struct unit_fx *fx);

uint64_t fx_stat(const struct unit_fx *fx, const char *name);
/* Remembers every counter; fx_delta() is a counter's change since. */
void fx_snap(struct unit_fx *fx);
uint64_t fx_delta(const struct unit_fx *fx, const char *name);
/* Prints every counter that changed since fx_snap(). */
void fx_print_delta(const struct unit_fx *fx);
/* The change of all drop.* counters together. */
uint64_t fx_drops_delta(const struct unit_fx *fx);

/* Exactly one drop since fx_snap(), under the counter name. */
#define assert_one_drop(fx, name)                        \
	do {                                             \
		assert_int_equal(fx_delta(fx, name), 1); \
		assert_int_equal(fx_drops_delta(fx), 1); \
	} while (0)

/* Frames, as the tests build them from the reference packets. */
struct frame {
	uint8_t b[UNIT_FRAME_MAX];
	size_t len;
};

void frame_init(struct frame *f, const uint8_t *p, size_t len);
#define FRAME(f, pkt) frame_init(f, pkt, sizeof(pkt))
/* Recomputes the IPv4 header checksum and the ICMP or UDP one (a zero UDP
 * checksum stays zero, and so does one whose UDP length is out of bounds),
 * from the header's own lengths. */
void frame_fix(struct frame *f);
static inline uint8_t *
frame_ip(struct frame *f)
{
	return f->b + ETH_HDR_LEN;
}
void frame_set_ip4(uint8_t *p, const char *addr);
/* Cuts the IP packet to total length tot (updating the header; the payload
 * shrinks) and fixes the checksums. */
void frame_ip_resize(struct frame *f, uint16_t tot);

/* RFC 1071 from scratch: 0 over data that carries its valid checksum. */
uint16_t ref_cksum(const uint8_t *p, size_t len);
/* The UDP checksum a datagram should carry (RFC 768), 0 mapped to 0xffff. */
uint16_t ref_udp_cksum(const uint8_t *ip);
uint32_t ip4(const char *s); /* network order */
/* The 4 bytes at p are IPv4 address s. */
#define assert_ip4(p, s) assert_memory_equal(p, &(uint32_t){ ip4(s) }, 4)

/* Transmitted frame i of link l, as bytes; checks its Ethernet source is
 * the link's MAC. */
const uint8_t *tx_frame(struct unit_link *l, unsigned i, size_t *len);
/* Transmitted frame i must be IPv4 to eth_dst with a valid header checksum;
 * returns its IP header and the IP packet length (= total length). */
const uint8_t *tx_ipv4(struct unit_link *l, unsigned i, const uint8_t *eth_dst, size_t *len);
/* Transmitted frame i must be an ARP packet of op to eth_dst; returns the
 * ARP header. */
const uint8_t *tx_arp(struct unit_link *l, unsigned i, uint16_t op, const uint8_t *eth_dst);
/* Transmitted frame i must be an ICMP error (type, code and the 32 bits
 * after the checksum, rest) from src to dst, quoting exactly qlen bytes of
 * quote; returns its IP header. */
const uint8_t *tx_icmp_error(struct unit_link *l, unsigned i, const uint8_t *eth_dst,
			     const char *src, const char *dst, uint8_t type, uint8_t code,
			     uint32_t rest, const uint8_t *quote, size_t qlen);

/* The IPv6 side of the test network (packets.h): us fe80::ff:fe00:1 and
 * fd00::1/64 on test0, host A fe80::ff:fe00:2 and fd00::2. */
extern const uint8_t MAC_ALLNODES[6], MAC_SN1[6], MAC_SN2[6];

/* fx_host plus fe80::ff:fe00:1/64 and fd00::1/64 on test0, Duplicate
 * Address Detection done: its two probes checked and consumed, the clock
 * one second on, both addresses preferred. */
void fx_host6(struct unit_fx *fx, const struct sonde_conf *conf);
/* Host A solicits fd00::1 with its MAC and gets our advertisement: the
 * stack knows A (a STALE entry, RFC 4861 7.2.3). */
void fx_learn6_a(struct unit_fx *fx);

struct in6 {
	uint8_t a[16];
};
struct in6 ip6(const char *s);
/* The 16 bytes at p are IPv6 address s. */
#define assert_ip6(p, s) assert_memory_equal(p, ip6(s).a, 16)

/* RFC 1071 over the RFC 8200 8.1 pseudo-header and len bytes at p: 0 when
 * p carries its valid checksum. */
uint16_t ref_cksum6(const uint8_t *src, const uint8_t *dst, uint8_t nxt, const uint8_t *p,
		    size_t len);
/* Walks IPv6 packet ip's Hop-by-Hop, Routing, Destination Options and
 * first-fragment headers: the upper-layer header's offset (or that of a
 * non-first fragment header), and its protocol in *nxt. */
size_t ip6_upper(const uint8_t *ip, size_t len, uint8_t *nxt);
/* Recomputes the ICMPv6 or UDP checksum of IPv6 frame f over its payload
 * length (nothing for a non-first fragment or an unknown protocol). */
void frame6_fix(struct frame *f);
/* Sets the payload length (the frame follows it) and fixes the checksum. */
void frame6_resize(struct frame *f, uint16_t plen);
void frame6_set_src(struct frame *f, const char *addr);
void frame6_set_dst(struct frame *f, const char *addr);

/* Transmitted frame i must be IPv6 to eth_dst whose payload length fills
 * the frame; returns its IPv6 header and the packet length. */
const uint8_t *tx_ipv6(struct unit_link *l, unsigned i, const uint8_t *eth_dst, size_t *len);
/* Transmitted frame i must be an ICMPv6 error as tx_icmp_error() checks
 * for IPv4 (hop limit 64, class 0, checksum with the pseudo-header). */
const uint8_t *tx_icmp6_error(struct unit_link *l, unsigned i, const uint8_t *eth_dst,
			      const char *src, const char *dst, uint8_t type, uint8_t code,
			      uint32_t rest, const uint8_t *quote, size_t qlen);
/* Transmitted frame i must be a neighbour solicitation or advertisement
 * (type) of ours: hop limit 255 (RFC 4861 7.1), code 0, valid checksum,
 * flags (the word after the checksum), target, and one link-layer address
 * option of type opt with our MAC, or no option at all (opt 0). */
const uint8_t *tx_nd6(struct unit_link *l, unsigned i, const uint8_t *eth_dst, uint8_t type,
		      uint32_t flags, const char *src, const char *dst, const char *target,
		      uint8_t opt);

/* Frames first..first+n-1 of l must be the IPv4 fragments, to eth_dst, of
 * datagram ip (a 20-byte header) for an MTU of mtu: ip's header but for
 * the total length, MF, the offset and the checksum (valid); payloads the
 * largest multiple of 8 that fits, but the last, together exactly ip's. */
void tx_ipv4_fragments(struct unit_link *l, unsigned first, unsigned n, const uint8_t *eth_dst,
		       const uint8_t *ip, uint16_t mtu);
/* The same for IPv6 datagram ip (no extension headers): a fragment header
 * after the fixed one, ip's next header in it, one identification for all
 * (returned), payloads of the largest multiple of 8 within mtu - 48. */
uint32_t tx_ipv6_fragments(struct unit_link *l, unsigned first, unsigned n, const uint8_t *eth_dst,
			   const uint8_t *ip, uint16_t mtu);

#endif
