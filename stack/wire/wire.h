/*
 * wire.h: views over packet bytes for Ethernet, ARP, IPv4, ICMP and UDP.
 *
 * Parsing reads network-order bytes into a host-order struct and checks that
 * every byte it reads is there; emitting writes the struct back as bytes.
 * No code in sonde casts packet bytes to packed structs or swaps fields in
 * place (the smoltcp way).  Parsers return 0 or the drop reason that fits.
 *
 * RFC 826 (ARP), RFC 791 (IPv4), RFC 792 (ICMP), RFC 768 (UDP),
 * RFC 1071 / RFC 1624 (the Internet checksum and its incremental update).
 */
#ifndef SONDE_WIRE_H
#define SONDE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_byteorder.h>

#include "drop.h"

#define ETH_HDR_LEN 14
#define ETH_ADDR_LEN 6
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100

#define ARP_PKT_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

#define IPV4_MIN_HDR_LEN 20
#define IPV4_MAX_HDR_LEN 60
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

#define ICMP_HDR_LEN 8
#define ICMP_ECHOREPLY 0
#define ICMP_UNREACH 3
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTOCOL 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_SOURCEQUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIMXCEED 11
#define ICMP_PARAMPROB 12

#define UDP_HDR_LEN 8

struct eth_hdr_view {
	uint8_t dst[ETH_ADDR_LEN];
	uint8_t src[ETH_ADDR_LEN];
	uint16_t type;
};

struct arp_view {
	uint16_t op;
	uint8_t sha[ETH_ADDR_LEN];
	uint32_t spa; /* network order, like every IPv4 address in sonde */
	uint8_t tha[ETH_ADDR_LEN];
	uint32_t tpa;
};

struct ipv4_view {
	uint8_t ihl; /* bytes */
	uint8_t tos;
	uint16_t total_len;
	uint16_t ident;
	uint16_t frag; /* flags and offset field as on the wire, host order */
	uint8_t ttl;
	uint8_t proto;
	uint16_t cksum;
	uint32_t src; /* network order */
	uint32_t dst; /* network order */
};

struct icmp_view {
	uint8_t type;
	uint8_t code;
	uint16_t cksum;
	uint32_t rest; /* id/seq, pointer, next-hop MTU...: host order */
};

struct udp_view {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t cksum;
};

int wire_eth_parse(const uint8_t *p, size_t len, struct eth_hdr_view *v);
void wire_eth_emit(uint8_t *p, const struct eth_hdr_view *v);

int wire_arp_parse(const uint8_t *p, size_t len, struct arp_view *v);
void wire_arp_emit(uint8_t *p, const struct arp_view *v);

/* Validates an IPv4 header per RFC 791 / RFC 1122 3.2.1: version, IHL,
 * total length against the bytes present, checksum (unless csum_ok says the
 * NIC checked it). */
int wire_ipv4_parse(const uint8_t *p, size_t len, int csum_ok, struct ipv4_view *v);
/* Writes a 20-byte header (no options); the checksum is computed unless
 * no_csum (the NIC will). */
void wire_ipv4_emit(uint8_t *p, const struct ipv4_view *v, int no_csum);

/* The whole message is at p, len bytes: checks length and checksum. */
int wire_icmp_parse(const uint8_t *p, size_t len, struct icmp_view *v);
/* Only the 8-byte header (the caller checks the checksum, e.g. over an
 * mbuf chain). */
int wire_icmp_parse_hdr(const uint8_t *p, size_t len, struct icmp_view *v);
/* Writes the 8-byte ICMP header and the checksum over it and the len - 8
 * bytes of body that follow it in p. */
void wire_icmp_emit(uint8_t *p, size_t len, const struct icmp_view *v);

int wire_udp_parse(const uint8_t *p, size_t len, struct udp_view *v);
/* The UDP checksum over the pseudo-header and len bytes at p (RFC 768);
 * 0 means it verifies (when p carries a checksum). */
uint16_t wire_udp4_cksum(uint32_t src, uint32_t dst, const uint8_t *p, size_t len);

/* The RFC 768/793 pseudo-header sum (not folded, not complemented), in
 * rte_raw_cksum()'s terms: 16-bit words as loaded on this host. */
static inline uint32_t
wire_pseudo4_sum(uint32_t src, uint32_t dst, uint16_t len, uint8_t proto)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(len >> 8), (uint8_t)len };
	uint16_t t0, t1;

	memcpy(&t0, tail, 2);
	memcpy(&t1, tail + 2, 2);
	return (src & 0xffff) + (src >> 16) + (dst & 0xffff) + (dst >> 16) + t0 + t1;
}

/* RFC 1071 one's-complement sum, folded and complemented. */
uint16_t wire_cksum(const void *p, size_t len);
static inline int
eth_addr_eq(const uint8_t *a, const uint8_t *b)
{
	uint32_t a0, b0;
	uint16_t a1, b1;

	memcpy(&a0, a, 4);
	memcpy(&a1, a + 4, 2);
	memcpy(&b0, b, 4);
	memcpy(&b1, b + 4, 2);
	return ((a0 ^ b0) | (uint32_t)(a1 ^ b1)) == 0;
}

static inline uint32_t
wire_load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* The one's-complement sum of len bytes at p added to sum, unfolded, in
 * rte_raw_cksum()'s terms (16-bit words as loaded on this host).  Read 32
 * bits at a time into 64: RFC 1071 2(C) allows any word size, as 2^16 is 1
 * modulo 2^16 - 1, and no carry is lost for 2^32 words.  (Eight bytes at a
 * time into 128 bits, with add-with-carry, was measured: it costs more for
 * the short headers and packets this sums.) */
static inline uint64_t
wire_sum(const uint8_t *p, size_t len, uint64_t sum)
{
	size_t i = 0;

	/* Sixteen bytes a turn: four independent loads, a quarter of the
	 * loop overhead. */
	for (; i + 16 <= len; i += 16)
		sum += (uint64_t)wire_load32(p + i) + wire_load32(p + i + 4) +
		       wire_load32(p + i + 8) + wire_load32(p + i + 12);
	/* What is left, under sixteen bytes, with no loop. */
	if (len & 8) {
		sum += (uint64_t)wire_load32(p + i) + wire_load32(p + i + 4);
		i += 8;
	}
	if (len & 4) {
		sum += wire_load32(p + i);
		i += 4;
	}
	if (len & 2) {
		uint16_t w;

		memcpy(&w, p + i, 2);
		sum += w;
		i += 2;
	}
	if (len & 1) /* the last byte, as the first of a word padded with zero */
		sum += RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

/* Folds a wire_sum() to 16 bits (not complemented). */
static inline uint16_t
wire_sum_fold(uint64_t sum)
{
	uint32_t lo = (uint32_t)sum, s = lo + (uint32_t)(sum >> 32);

	s += s < lo; /* the end-around carry: s cannot overflow again */
	/* 32 to 16 bits: the high half of s + (s rotated by 16) is the two
	 * halves' sum with its carry already added back (RFC 1071 2(C)). */
	return (uint16_t)((s + (s >> 16 | s << 16)) >> 16);
}

/* wire_cksum() of an IP header: len a multiple of 4, summed a 32-bit word
 * at a time (RFC 1071 2(C): the sum can be taken in wider words and
 * folded). */
static inline uint16_t
wire_cksum_hdr(const uint8_t *p, size_t len)
{
	uint64_t sum;

	if (likely(len == 20)) /* no options: straight-line */
		sum = (uint64_t)wire_load32(p) + wire_load32(p + 4) + wire_load32(p + 8) +
		      wire_load32(p + 12) + wire_load32(p + 16);
	else
		sum = wire_sum(p, len, 0);
	return rte_be_to_cpu_16((uint16_t)~wire_sum_fold(sum));
}
/* A checksum after one 16-bit word of what it covers changed from old to
 * new_ (RFC 1624 3, eqn. 3: HC' = ~(~HC + ~m + m')); inline: forwarding
 * and echoes rewrite one word per packet. */
static inline uint16_t
wire_cksum_adjust(uint16_t cksum, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint16_t)~cksum + (uint16_t)~old + new_;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Network-order fields as one load or store and a byte swap: byte by
 * byte, GCC kept them as bytes (bench/replay counted them). */
/* The same when only the high byte of the word changed, from old to new_
 * (an ICMP type beside its code): ~m + m' is then a constant, the code
 * cancelling out. */
static inline uint16_t
wire_cksum_adjust_hi(uint16_t cksum, uint8_t old, uint8_t new_)
{
	uint32_t sum = (uint16_t)~cksum + (uint32_t)(uint16_t) ~(old << 8) + (uint32_t)(new_ << 8);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The IPv4 header checksum after the TTL went down by one (RFC 1624:
 * the TTL/protocol word less 0x0100, whatever the protocol). */
static inline uint16_t
wire_cksum_ttl_dec(uint16_t cksum)
{
	uint32_t sum = (uint16_t)~cksum + 0xfeffu;

	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint16_t
wire_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return rte_be_to_cpu_16(v);
}

static inline void
wire_put16(uint8_t *p, uint16_t v)
{
	v = rte_cpu_to_be_16(v);
	memcpy(p, &v, 2);
}

static inline uint32_t
wire_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

static inline void
wire_put32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, 4);
}

#endif
