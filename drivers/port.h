/*
 * port.h: DPDK ethdev ports as sonde interfaces.
 */
#ifndef SONDE_PORT_H
#define SONDE_PORT_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mempool;
struct sonde_if;
struct if_driver;

/* The driver of an interface on a DPDK port's queue pair. */
extern const struct if_driver port_driver;

/* Configures port_id with nb_queues rx and tx queues (RSS over IP, UDP and
 * TCP when there are several and the PMD has it), enables the checksum
 * offloads it offers and starts it. */
int port_setup(uint16_t port_id, uint16_t nb_queues, struct rte_mempool *pool);
/* Fills ifp (MAC, MTU, offloads) to use queue pair queue of a port
 * port_setup() started. */
int port_attach(struct sonde_if *ifp, uint16_t port_id, uint16_t queue);
/* Stops and closes the device (a port_setup() whose interface failed). */
void port_close_device(uint16_t port_id);
/* Sets the port's MTU (rte_eth_dev_set_mtu) and ifp's. */
int port_set_mtu(struct sonde_if *ifp, uint16_t mtu);
/* False once the interface owning the port (queue 0) has closed it. */
bool port_is_open(const struct sonde_if *ifp);

#endif
