/*
 * eth.c: Ethernet II framing (IEEE 802.3 with EtherType, RFC 894; IPv6
 * multicast mapping, RFC 2464 7; IPv4 multicast, RFC 1112 6.4): the
 * interface kind of every DPDK port and driver interface.
 *
 * Input takes a driver's burst, checks each frame's destination, strips the
 * header and hands runs of frames with one EtherType to the handler
 * registered for it (IPv4, IPv6, ARP).  Output prepends the header: at
 * once for a packet whose next hop is resolved (the destination cache
 * holds its neighbour entry), else through the neighbour table, which
 * solicits and queues.
 */
#include <string.h>

#include <pcap/pcap.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "ip.h"
#include "link.h"
#include "probes.h"
#include "stack.h"

static const uint8_t eth_bcast[ETH_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* The frame at p (len bytes) for interface ifp: its EtherType, or 0 with
 * *why set when it is not ours to take. */
static __rte_always_inline uint16_t
eth_check(const struct sonde_if *ifp, const uint8_t *p, uint32_t len, struct pkt_meta *pm, int *why)
{
	if (unlikely(len < ETH_HDR_LEN)) {
		*why = DROP_ETH_TRUNCATED;
		return 0;
	}
	/* Group addresses have the I/G bit set: broadcast and multicast. */
	if (unlikely(p[0] & 1)) {
		pm->flags |= PKT_L2_GROUP; /* never answered with errors or echoes */
	} else if (unlikely(!eth_addr_eq(p, ifp->mac))) {
		*why = DROP_ETH_NOT_FOR_US;
		return 0;
	}
	return wire_get16(p + 12);
}

static void
eth_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint8_t key[SONDE_BURST + RUN_PAD], lk = SONDE_ETH_TYPES;
	uint16_t i, j, k = 0, lt = 0;
	int why = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t t;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if_rx_frame(ifp, m);
		t = eth_check(ifp, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			      pkt_meta(m), &why);
		if (unlikely(t == 0)) {
			pkt_drop(st, m, (enum drop_reason)why);
			continue;
		}
		/* The handler of the frame before, most often. */
		if (unlikely(t != lt)) {
			lt = t;
			lk = proto_eth_index(st, t);
		}
		pkt_adj(m, ETH_HDR_LEN); /* eth_check saw it there */
		pkts[k] = m;
		key[k++] = lk;
	}
	run_close(key, k);
	for (i = 0; i < k; i += j) {
		j = run_len(key, i);
		if (likely(key[i] < SONDE_ETH_TYPES)) {
			st->eth_types[key[i]].fn(st, ifp, pkts + i, j);
			continue;
		}
		for (uint16_t x = i; x < i + j; x++)
			pkt_drop(st, pkts[x], DROP_ETH_UNKNOWN_TYPE);
	}
}

/* The MAC a packet to group address nh (IPv6 multicast, IPv4 broadcast or
 * multicast) goes to, without asking anyone. */
static void
eth_group_mac(int af, const uint8_t *nh, uint8_t *mac)
{
	if (af == 6) {
		ipv6_mcast_mac(mac, nh);
	} else if (IN_MULTICAST_H(wire_get32(nh))) {
		/* RFC 1112 6.4: 01:00:5e and the low 23 bits. */
		mac[0] = 0x01;
		mac[1] = 0x00;
		mac[2] = 0x5e;
		mac[3] = nh[1] & 0x7f;
		mac[4] = nh[2];
		mac[5] = nh[3];
	} else {
		memcpy(mac, eth_bcast, ETH_ADDR_LEN);
	}
}

static bool
eth_is_group(const struct sonde_stack *st, const struct sonde_if *ifp, int af, const uint8_t *nh)
{
	uint32_t a;

	if (af == 6)
		return ipv6_addr_is_multicast(nh);
	memcpy(&a, nh, 4);
	return IN_MULTICAST_H(rte_be_to_cpu_32(a)) || ipv4_is_broadcast(st, ifp, a);
}

static bool
eth_resolve(struct sonde_stack *st, struct sonde_if *ifp, int af, const uint8_t *nh, void **l2)
{
	struct neigh_entry *e;

	*l2 = NULL;
	if (eth_is_group(st, ifp, af, nh))
		return true;
	e = neigh_lookup(st, ifp->index, af, nh);
	/* Not when unknown or INCOMPLETE (output queues and solicits), nor
	 * STALE (RFC 4861 7.3.3: using it starts DELAY): neigh_output() is
	 * the one to see those. */
	if (e == NULL || (e->state != NEIGH_REACHABLE && e->state != NEIGH_DELAY &&
			  e->state != NEIGH_PROBE && e->state != NEIGH_PERMANENT))
		return false;
	*l2 = e;
	return true;
}

static __rte_always_inline void
eth_frame(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, const uint8_t *dst)
{
	uint8_t *p;

	if (unlikely(m->data_off < ETH_HDR_LEN)) {
		pkt_drop(st, m, DROP_NO_HEADROOM);
		return;
	}
	pkt_prepend(m, ETH_HDR_LEN);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(p, dst, 4);
	memcpy(p + 4, dst + 4, 2);
	memcpy(p + 6, ifp->eth_tail[pkt_meta(m)->af == 6], 8);
	/* What a NIC filling checksums (and the capture of its frames) reads. */
	if (unlikely(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM))
		m->l2_len = ETH_HDR_LEN;
	if_enqueue(st, ifp, m);
}

static void
eth_xmit(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, void *const *l2,
	 uint16_t n)
{
	probe_burst_if(st, PROBE_SEND, pkts, n, ifp);
	for (uint16_t i = 0; i < n; i++) {
		const struct neigh_entry *e = l2[i];
		uint8_t mac[ETH_ADDR_LEN];

		if (likely(e != NULL)) {
			eth_frame(st, ifp, pkts[i], e->mac);
			continue;
		}
		/* A group address: the MAC from the packet's destination. */
		if (pkt_meta(pkts[i])->af == 6)
			eth_group_mac(6, rte_pktmbuf_mtod_offset(pkts[i], uint8_t *, 24), mac);
		else
			eth_group_mac(4, rte_pktmbuf_mtod_offset(pkts[i], uint8_t *, 16), mac);
		eth_frame(st, ifp, pkts[i], mac);
	}
}

void
eth_output_ip(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, const uint8_t *dst)
{
	probe_send(st, m, ifp);
	eth_frame(st, ifp, m, dst);
}

static void
eth_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, int af,
	   const uint8_t *nh)
{
	uint8_t mac[ETH_ADDR_LEN];

	if (eth_is_group(st, ifp, af, nh)) {
		eth_group_mac(af, nh, mac);
		eth_output_ip(st, ifp, m, mac);
		return;
	}
	neigh_output(st, neigh_family_of(af), ifp, m, af, nh);
}

static void
eth_attach(struct sonde_if *ifp)
{
	for (int v6 = 0; v6 < 2; v6++) {
		memcpy(ifp->eth_tail[v6], ifp->mac, ETH_ADDR_LEN);
		wire_put16(ifp->eth_tail[v6] + 6, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	}
}

const struct if_kind eth_kind = {
	.name = "ethernet",
	.l2_len = ETH_HDR_LEN,
	.dlt = DLT_EN10MB,
	.input = eth_input,
	.resolve = eth_resolve,
	.xmit = eth_xmit,
	.output = eth_output,
	.attach = eth_attach,
};

const uint8_t *
eth_broadcast_addr(void)
{
	return eth_bcast;
}

/* Ports and drivers' interfaces carry Ethernet frames. */
static int
eth_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	return if_kind_register(st, SONDE_IF_PORT, &eth_kind)
		       ?: if_kind_register(st, SONDE_IF_DRIVER, &eth_kind);
}

const struct sonde_layer eth_layer = {
	.name = "eth",
	.init = eth_init,
};
