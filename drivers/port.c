/*
 * port.c: any DPDK ethdev port (net_tap, net_ring, net_memif, net_pcap, a
 * real NIC) as a sonde interface: configure, start, burst rx/tx.  Checksum
 * offloads are enabled when the PMD has them; the stack computes in software
 * what the port cannot.
 *
 * A port is set up once with N rx/tx queue pairs (port_setup) and each
 * queue is then attached to one stack as an interface of its own
 * (port_attach): stack i polls and sends on queue i only, so no two lcores
 * touch one queue.  Who spreads the flows over the rx queues depends on the
 * PMD: RSS where it has it (a real NIC), the kernel's tun multiqueue flow
 * hash for net_tap, PACKET_FANOUT_HASH for net_af_packet, the peer for
 * net_memif.  The interface on queue 0 owns the port: only it stops and
 * closes the device.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "port.h"
#include "stack.h"

#define PORT_RX_DESC 1024
#define PORT_TX_DESC 1024

static uint16_t
port_rx(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(ifp->port_id, ifp->queue_id, pkts, n);
}

static uint16_t
port_tx(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(ifp->port_id, ifp->queue_id, pkts, n);
}

static void
port_close(struct sonde_if *ifp)
{
	/* The device is shared by every stack holding one of its queues:
	 * the one on queue 0 closes it, once. */
	if (ifp->queue_id != 0 || !port_is_open(ifp))
		return;
	rte_eth_dev_stop(ifp->port_id);
	rte_eth_dev_close(ifp->port_id);
}

const struct if_driver port_driver = {
	.rx = port_rx,
	.tx = port_tx,
	.close = port_close,
};

void
port_close_device(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}

bool
port_is_open(const struct sonde_if *ifp)
{
	/* rte_eth_dev_close() releases the port: its id is no longer valid. */
	return rte_eth_dev_is_valid_port(ifp->port_id) != 0;
}

/* The offloads sonde uses, of those the PMD offers. */
static void
port_offloads(const struct rte_eth_dev_info *info, struct rte_eth_conf *conf)
{
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	/* Fragments leave as mbuf chains (rte_ip_frag's indirect mbufs): a
	 * PMD with a simple or vector TX path only takes them if asked. */
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
}

int
port_setup(uint16_t port_id, uint16_t nb_queues, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = PORT_RX_DESC, nb_txd = PORT_TX_DESC;
	int socket = rte_eth_dev_socket_id(port_id);
	int r;

	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	if (nb_queues == 0 || pool == NULL)
		return -EINVAL;
	r = rte_eth_dev_info_get(port_id, &info);
	if (r)
		return r;
	if (nb_queues > info.max_rx_queues || nb_queues > info.max_tx_queues)
		return -EINVAL;
	if (socket < 0)
		socket = (int)rte_socket_id();
	port_offloads(&info, &conf);
	/* Flows to queues by a hash of addresses and ports, so that every
	 * packet of a flow meets the same stack.  Without RSS the PMD (or the
	 * kernel behind it) chooses; see the top of this file. */
	if (nb_queues > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) &
			info.flow_type_rss_offloads;
	}
	r = rte_eth_dev_configure(port_id, nb_queues, nb_queues, &conf);
	if (r)
		return r;
	r = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (r)
		return r;
	for (uint16_t q = 0; q < nb_queues; q++) {
		r = rte_eth_rx_queue_setup(port_id, q, nb_rxd, (unsigned)socket, NULL, pool);
		if (r)
			return r;
		r = rte_eth_tx_queue_setup(port_id, q, nb_txd, (unsigned)socket, NULL);
		if (r)
			return r;
	}
	r = rte_eth_dev_start(port_id);
	if (r)
		return r;
	/* IPv6 needs the all-nodes and solicited-node groups (RFC 4861 7.2.1);
	 * a PMD without multicast filtering gets them all. */
	rte_eth_allmulticast_enable(port_id);
	return 0;
}

/* The port's RSS key and redirection table, for TCP's active opens
 * (sock.c); NULL when the PMD does not say (then replies land where the
 * PMD puts them: see the top of this file). */
static struct if_rss *
port_rss(uint16_t port_id, const struct rte_eth_dev_info *info)
{
	struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_rss_conf rc = { 0 };
	struct if_rss *rss;
	uint16_t n = info->reta_size;

	if (n == 0 || n > RTE_ETH_RSS_RETA_SIZE_512 || info->hash_key_size == 0 ||
	    info->hash_key_size > sizeof(rss->key))
		return NULL;
	rss = rte_zmalloc("sonde_rss", sizeof(*rss) + n * sizeof(rss->reta[0]), 0);
	if (rss == NULL)
		return NULL;
	rc.rss_key = rss->key;
	rc.rss_key_len = info->hash_key_size;
	memset(reta, 0, sizeof(reta));
	for (unsigned i = 0; i < (n + RTE_ETH_RETA_GROUP_SIZE - 1u) / RTE_ETH_RETA_GROUP_SIZE; i++)
		reta[i].mask = UINT64_MAX;
	if (rte_eth_dev_rss_hash_conf_get(port_id, &rc) != 0 ||
	    rte_eth_dev_rss_reta_query(port_id, reta, n) != 0) {
		rte_free(rss);
		return NULL;
	}
	rss->key_len = rc.rss_key_len;
	rss->reta_size = n;
	for (unsigned i = 0; i < n; i++)
		rss->reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	return rss;
}

int
port_attach(struct sonde_if *ifp, uint16_t port_id, uint16_t queue)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	uint16_t mtu = RTE_ETHER_MTU;
	int r;

	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	r = rte_eth_dev_info_get(port_id, &info);
	if (r)
		return r;
	r = rte_eth_dev_conf_get(port_id, &conf);
	if (r)
		return r;
	if (queue >= info.nb_rx_queues || queue >= info.nb_tx_queues)
		return -EINVAL;
	r = rte_eth_macaddr_get(port_id, &mac);
	if (r)
		return r;
	if (rte_eth_dev_get_mtu(port_id, &mtu) != 0)
		mtu = RTE_ETHER_MTU;
	ifp->port_id = port_id;
	ifp->queue_id = queue;
	memcpy(ifp->mac, mac.addr_bytes, ETH_ADDR_LEN);
	ifp->mtu = mtu;
	ifp->csum_rx_ipv4 = !!(conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM);
	ifp->csum_tx_ipv4 = !!(conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
	if (conf.rxmode.mq_mode & RTE_ETH_MQ_RX_RSS_FLAG && info.nb_rx_queues > 1)
		ifp->rss = port_rss(port_id, &info);
	return 0;
}

int
port_set_mtu(struct sonde_if *ifp, uint16_t mtu)
{
	int r = rte_eth_dev_set_mtu(ifp->port_id, mtu);

	if (r)
		return r;
	ifp->mtu = mtu;
	return 0;
}
