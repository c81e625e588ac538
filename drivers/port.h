/*
 * port.h: DPDK ethdev ports as sonde interfaces.
 */
#ifndef SONDE_PORT_H
#define SONDE_PORT_H

#include <stdint.h>

struct rte_mempool;
struct sonde_if;

/* Configures port_id with one rx and one tx queue, enables the checksum
 * offloads it offers, starts it, and fills ifp (ops, MAC, MTU, offloads). */
int port_open(struct sonde_if *ifp, uint16_t port_id, struct rte_mempool *pool);
/* Sets the port's MTU (rte_eth_dev_set_mtu) and ifp's. */
int port_set_mtu(struct sonde_if *ifp, uint16_t mtu);

#endif
