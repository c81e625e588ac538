/*
 * meta.h: what the stack knows of a packet beyond its bytes, in an mbuf
 * dynamic field (rte_mbuf_dynfield_register).
 *
 * Every layer reads and writes it by name instead of borrowing mbuf fields
 * that mean something else (m->port is the DPDK port, m->hash the RSS hash:
 * both are left as the driver set them).  Written whole when a packet
 * enters the stack (received, or built by a layer), so no field is ever
 * stale from an earlier life of the mbuf.
 *
 * The field is registered at a fixed offset, the last 32 bytes of the
 * mbuf's dynamic field space (rte_mbuf_dynfield_register_offset), so
 * every access is an address the compiler knows: with the offset in a
 * variable, each one was a load the compiler could not keep across the
 * stores to packet bytes (which may alias anything), some ten a packet.
 * DPDK gives dynamic fields the lowest offsets free, so a driver's (a
 * timestamp, say) lands below; if this space is taken, creating a stack
 * fails (EBUSY) and says so.
 */
#ifndef SONDE_META_H
#define SONDE_META_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#define SONDE_IF_NONE UINT16_MAX

/* meta.flags */
#define PKT_L2_GROUP 0x01 /* sent to a link-layer broadcast or multicast address */
#define PKT_IP_BCAST 0x02 /* IPv4: to a broadcast address of the interface */
#define PKT_GROUP (PKT_L2_GROUP | PKT_IP_BCAST) /* never answered (errors, echoes) */
/* Output: IP applies the ESP SA of tunnel xfrm_if between write and send
 * (stack/tunnel/esp.c), once. */
#define PKT_XFRM 0x04

struct pkt_meta {
	/* The socket or connection the packet belongs to (csinfo_t); NULL:
	 * none.  Transport layers set it; probes report it. */
	void *conn;
	uint16_t ifindex; /* arrived on (input) or leaves by (output); SONDE_IF_NONE */
	/* For an upper layer: the IP header and its extension headers, in the
	 * bytes before the data (not the mbuf's l3_len: a bit-field, and the
	 * NIC's for offloads). */
	uint16_t l3_len;
	uint8_t af;    /* 4 or 6 once IP has it; 0 before (ARP, a frame not parsed) */
	uint8_t flags; /* PKT_* */
	uint8_t depth; /* encapsulations the packet has been through (tunnels) */
	union {
		uint8_t spare;	 /* TCP's while in its out-of-order queue (a FIN) */
		uint8_t xfrm_if; /* output, PKT_XFRM: the ESP tunnel's interface index */
	};
	/* A layer's own, while that layer holds the packet (reassembly keeps a
	 * fragment's byte range here; a socket's queues their link in [0..1]
	 * and TCP a segment's sequence number in [2]): meaningless once
	 * handed on. */
	uint32_t scratch[4];
};

#define SONDE_META_OFFSET                                                                   \
	(offsetof(struct rte_mbuf, dynfield1) + sizeof(((struct rte_mbuf *)0)->dynfield1) - \
	 sizeof(struct pkt_meta))

static inline struct pkt_meta *
pkt_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, SONDE_META_OFFSET, struct pkt_meta *);
}

static inline const struct pkt_meta *
pkt_meta_c(const struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, SONDE_META_OFFSET, const struct pkt_meta *);
}

/* A packet entering the stack: every field set. */
static inline void
pkt_meta_init(struct rte_mbuf *m, uint16_t ifindex, uint8_t af)
{
	struct pkt_meta *pm = pkt_meta(m);

	pm->conn = NULL;
	pm->ifindex = ifindex;
	pm->af = af;
	pm->flags = 0;
	pm->depth = 0;
}

/* Registers the field (idempotent); 0 or -rte_errno. */
int meta_register(void);

#endif
