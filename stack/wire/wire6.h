/*
 * wire6.h: views over IPv6, its extension headers, ICMPv6 and ND options.
 * Same rules as wire.h: parse into host-order structs, check every byte is
 * there, return 0 or a drop reason.
 *
 * RFC 8200 (IPv6), RFC 4443 (ICMPv6), RFC 4861 4.6 (ND options).
 */
#ifndef SONDE_WIRE6_H
#define SONDE_WIRE6_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "drop.h"
#include "wire.h"

#define IPV6_HDR_LEN 40
#define IPV6_FRAG_HDR_LEN 8

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_IPV6_ 41
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_NONE_ 59
#define IPPROTO_DSTOPTS_ 60

#define ICMP6_DST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROB 4
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ND_ROUTER_SOLICIT 133
#define ND_ROUTER_ADVERT 134
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_REDIRECT 137

#define ICMP6_DST_UNREACH_NOROUTE 0
#define ICMP6_DST_UNREACH_ADDR 3
#define ICMP6_DST_UNREACH_NOPORT 4
#define ICMP6_PARAMPROB_HEADER 0
#define ICMP6_PARAMPROB_NEXTHEADER 1
#define ICMP6_PARAMPROB_OPTION 2
#define ICMP6_PARAMPROB_FIRSTFRAG 3 /* RFC 7112 */

#define ND_OPT_SOURCE_LINKADDR 1
#define ND_OPT_TARGET_LINKADDR 2
#define ND_OPT_MTU 5

#define ND_NA_FLAG_ROUTER 0x80000000u
#define ND_NA_FLAG_SOLICITED 0x40000000u
#define ND_NA_FLAG_OVERRIDE 0x20000000u

struct ipv6_view {
	uint8_t tclass;
	uint32_t flow;
	uint16_t plen;
	uint8_t nxt;
	uint8_t hlim;
	uint8_t src[16];
	uint8_t dst[16];
};

struct frag6_view {
	uint8_t nxt;
	uint16_t offset; /* bytes */
	uint8_t more;
	uint32_t ident;
};

struct nd_opts {
	const uint8_t *sllao; /* 6 bytes, or NULL */
	const uint8_t *tllao;
	uint32_t mtu; /* 0 if absent */
};

/* Checks version and that payload length fits the bytes present (RFC 8200
 * section 3); a zero payload length (a jumbogram, RFC 2675) is refused. */
int wire_ipv6_parse(const uint8_t *p, size_t len, struct ipv6_view *v);
void wire_ipv6_emit(uint8_t *p, const struct ipv6_view *v);
int wire_frag6_parse(const uint8_t *p, size_t len, struct frag6_view *v);
/* RFC 4861 4.6: every option has a non-zero length and fits. */
int wire_nd_opts_parse(const uint8_t *p, size_t len, struct nd_opts *o);

/* The RFC 8200 8.1 pseudo-header sum (not complemented, not folded) for an
 * upper-layer packet of len bytes and protocol nxt. */
static inline uint32_t
wire_pseudo6_sum(const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t nxt)
{
	/* The addresses straight-line, and the length and next-header words
	 * as wire_sum() would load them from the pseudo-header's bytes;
	 * folded, so that callers can add to it in 32 bits. */
	uint64_t sum = (uint64_t)wire_load32(src) + wire_load32(src + 4) + wire_load32(src + 8) +
		       wire_load32(src + 12) + wire_load32(dst) + wire_load32(dst + 4) +
		       wire_load32(dst + 8) + wire_load32(dst + 12);

	return wire_sum_fold(sum + rte_cpu_to_be_32(len) + rte_cpu_to_be_32((uint32_t)nxt));
}

static inline int
ipv6_addr_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

/* Addresses compared as two 64-bit words: no call to memcmp(). */
static inline int
ipv6_addr_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static inline int
ipv6_addr_is_unspecified(const uint8_t *a)
{
	uint64_t a0, a1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	return (a0 | a1) == 0;
}

static inline int
ipv6_addr_is_loopback(const uint8_t *a)
{
	uint64_t a0, a1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	return (a0 | (a1 ^ rte_cpu_to_be_64(1))) == 0;
}

static inline int
ipv6_addr_is_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ff02::1:ffXX:XXXX for target a (RFC 4291 2.7.1). */
void ipv6_solicited_node(uint8_t *out, const uint8_t *a);
/* 33:33 + the low 32 bits (RFC 2464 7). */
void ipv6_mcast_mac(uint8_t *mac, const uint8_t *a);

#endif
