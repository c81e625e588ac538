/*
 * ip_provider.h: the arguments of sonde's ip, ipv4 and ipv6 probes.
 *
 * This header is for USDT consumers: #include it in a bpftrace script
 * (bpftrace -I, or installed as <sonde/ip_provider.h>) and cast the probe
 * arguments to these types:
 *
 *   arg0 struct pktinfo_t *   arg1 struct csinfo_t * (NULL: no connection)
 *   arg2 struct ipinfo_t *    arg3 struct ifinfo_t *
 *   arg4 struct ipv4info_t * (NULL for IPv6)
 *   arg5 struct ipv6info_t * (NULL for IPv4)
 *
 * The names and members are those of the DTrace network providers (illumos,
 * FreeBSD, Oracle Linux), so D scripts port member for member.  Everything
 * has a fixed size: strings are NUL-terminated char arrays (print them with
 * %s or use them as map keys; bpftrace 0.17's str() refuses arrays),
 * addresses are also given as raw network-order bytes (usable with ntop()),
 * pointers are uint64_t.  The layout is part of sonde's ABI: members are only
 * ever added at the end.
 *
 * docs/probes.md, in sonde's sources, says where each probe fires and what
 * each member holds.  Self-contained: needs nothing but <stdint.h>.
 */
#ifndef SONDE_IP_PROVIDER_H
#define SONDE_IP_PROVIDER_H

#include <stdint.h>

#define SONDE_ADDRSTRLEN 46 /* INET6_ADDRSTRLEN */
#define SONDE_IFNAMSIZ 32
#define SONDE_REASONSIZ 32
#define SONDE_PROTOSTRLEN 16

/* The packet. */
struct pktinfo_t {
	uint64_t pkt_addr; /* the packet buffer (struct rte_mbuf *): same at write and send */
	uint32_t pkt_len;  /* bytes on the wire, link header included */
	uint32_t pkt_pad;
	char pkt_reason[SONDE_REASONSIZ]; /* drop probes: kebab-case reason; else "" */
};

/* The connection or socket, when there is one. */
struct csinfo_t {
	uint64_t cs_addr;   /* the socket/connection object */
	uint64_t cs_cid;    /* connection id, unique for the life of the stack */
	uint32_t cs_pid;    /* this process */
	uint32_t cs_zoneid; /* stack instance (lcore) id */
};

/* Version-independent IP information. */
struct ipinfo_t {
	uint8_t ip_ver;                  /* 4 or 6 */
	uint8_t ip_pad[3];
	uint32_t ip_plength;             /* payload length, IP header excluded */
	char ip_saddr[SONDE_ADDRSTRLEN]; /* dotted quad or RFC 5952 text */
	char ip_daddr[SONDE_ADDRSTRLEN];
};

/* The interface. */
struct ifinfo_t {
	char if_name[SONDE_IFNAMSIZ]; /* "dpdk0", "ip.tun0", "lo0", ... */
	int8_t if_local;              /* 1 for lo0, 0 otherwise */
	int8_t if_pad[3];
	int32_t if_ipstack;           /* stack instance id */
	uint64_t if_addr;             /* the interface object */
};

/* The IPv4 header, host order unless said otherwise. */
struct ipv4info_t {
	uint8_t ipv4_ver;       /* 4 */
	uint8_t ipv4_ihl;       /* header length, bytes */
	uint8_t ipv4_tos;
	uint8_t ipv4_ttl;
	uint16_t ipv4_length;   /* total length */
	uint16_t ipv4_ident;
	uint8_t ipv4_flags;     /* DF = 4, MF = 2, as DTrace */
	uint8_t ipv4_protocol;
	uint16_t ipv4_offset;   /* fragment offset, bytes */
	uint16_t ipv4_checksum;
	uint16_t ipv4_pad;
	uint32_t ipv4_src;      /* network order */
	uint32_t ipv4_dst;      /* network order */
	char ipv4_protostr[SONDE_PROTOSTRLEN]; /* "TCP", "UDP", "ICMP", ... or the number */
	char ipv4_saddr[SONDE_ADDRSTRLEN];
	char ipv4_daddr[SONDE_ADDRSTRLEN];
	uint64_t ipv4_hdr;      /* address of the IPv4 header */
};

/* The IPv6 header, host order unless said otherwise. */
struct ipv6info_t {
	uint8_t ipv6_ver;       /* 6 */
	uint8_t ipv6_tclass;    /* traffic class (DSCP and ECN) */
	uint8_t ipv6_nexthdr;   /* next header */
	uint8_t ipv6_hlim;      /* hop limit */
	uint32_t ipv6_flow;     /* flow label, 20 bits */
	uint16_t ipv6_plen;     /* payload length */
	uint16_t ipv6_pad;
	uint8_t ipv6_src[16];   /* network order */
	uint8_t ipv6_dst[16];
	char ipv6_nextstr[SONDE_PROTOSTRLEN];
	char ipv6_saddr[SONDE_ADDRSTRLEN];
	char ipv6_daddr[SONDE_ADDRSTRLEN];
	uint64_t ipv6_hdr;      /* address of the IPv6 header */
};

typedef struct pktinfo_t pktinfo_t;
typedef struct csinfo_t csinfo_t;
typedef struct ipinfo_t ipinfo_t;
typedef struct ifinfo_t ifinfo_t;
typedef struct ipv4info_t ipv4info_t;
typedef struct ipv6info_t ipv6info_t;

#endif
