/*
 * eth.c: Ethernet II framing (IEEE 802.3 with EtherType, RFC 894) and the
 * per-interface transmit queue.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "pcap_capture.h"
#include "probes.h"
#include "stack.h"

static const uint8_t eth_bcast[ETH_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

__rte_noinline void
eth_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	struct eth_hdr_view eh;
	int r;

	m->packet_type = RTE_PTYPE_L2_ETHER;
	m->hash.usr = 0;
	r = wire_eth_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &eh);
	if (r)
		goto drop;
	/* Group addresses have the I/G bit set: broadcast and multicast. */
	if (eh.dst[0] & 1) {
		m->hash.usr = 1; /* link-layer broadcast: never answered with ICMP errors */
	} else if (!eth_addr_eq(eh.dst, ifp->mac)) {
		r = DROP_ETH_NOT_FOR_US;
		goto drop;
	}
	rte_pktmbuf_adj(m, ETH_HDR_LEN);
	switch (eh.type) {
	case ETHERTYPE_IPV4:
		m->packet_type |= RTE_PTYPE_L3_IPV4;
		ipv4_input(st, ifp, m);
		return;
	case ETHERTYPE_IPV6:
		m->packet_type |= RTE_PTYPE_L3_IPV6;
		ipv6_input(st, ifp, m);
		return;
	case ETHERTYPE_ARP:
		m->packet_type = RTE_PTYPE_L2_ETHER_ARP;
		arp_input(st, ifp, m);
		return;
	default: r = DROP_ETH_UNKNOWN_TYPE; goto drop;
	}
drop:
	pkt_drop(st, m, (enum drop_reason)r);
}

void
eth_output_ip(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, const uint8_t *dst)
{
	struct eth_hdr_view eh;
	uint8_t *p;

	probe_send(st, m, ifp);
	p = (uint8_t *)rte_pktmbuf_prepend(m, ETH_HDR_LEN);
	if (unlikely(p == NULL)) {
		pkt_drop(st, m, DROP_NO_HEADROOM);
		return;
	}
	memcpy(eh.dst, dst, ETH_ADDR_LEN);
	memcpy(eh.src, ifp->mac, ETH_ADDR_LEN);
	eh.type = (m->packet_type & RTE_PTYPE_L3_MASK) == RTE_PTYPE_L3_IPV6 ? ETHERTYPE_IPV6
									    : ETHERTYPE_IPV4;
	wire_eth_emit(p, &eh);
	m->l2_len = ETH_HDR_LEN;
	if_enqueue(st, ifp, m);
}

__rte_noinline void
if_flush(struct sonde_stack *st, struct sonde_if *ifp)
{
	unsigned n = ifp->n_txq, sent, i;

	if (n == 0)
		return;
	ifp->n_txq = 0;
	if (ifp->pcap)
		for (i = 0; i < n; i++)
			pcap_capture_write(ifp->pcap, ifp->txq[i], st->now);
	for (i = 0; i < n; i++)
		ifp->tx_bytes += rte_pktmbuf_pkt_len(ifp->txq[i]);
	sent = ifp->ops->tx(ifp, ifp->txq, (uint16_t)n);
	ifp->tx_pkts += sent;
	for (i = sent; i < n; i++) {
		struct rte_mbuf *m = ifp->txq[i];

		ifp->tx_bytes -= rte_pktmbuf_pkt_len(m);
		if (m->packet_type & RTE_PTYPE_L3_MASK) {
			rte_pktmbuf_adj(m, ETH_HDR_LEN);
			pkt_drop(st, m, DROP_TX_FULL);
		} else {
			pkt_drop(st, m, DROP_LINK_TX_FULL);
		}
	}
}

const uint8_t *
eth_broadcast_addr(void)
{
	return eth_bcast;
}
