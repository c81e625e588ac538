/*
 * layers.c: the stack as assembled, its layers in the order they are set
 * up (and, backwards, taken down).  Each layer's init registers what it
 * handles with the core (stack/core/proto.c): the core itself names no
 * layer, so a protocol (TCP) or an interface kind (a tunnel) joins the
 * stack by a line here.
 *
 * The order matters only where one layer's init uses another's tables:
 * routes and neighbours exist before anything can add an address, and the
 * link layer before the IP layer above it; and where one layer's fini
 * drops what may hold another's buffers: reassembly's held fragments go
 * before fragmentation's indirect pool.
 */
#include "ip.h"
#include "link.h"
#include "stack.h"
#include "transport.h"
#include "esp.h"
#include "tunnel.h"

const struct sonde_layer *const sonde_layers[] = {
	&route_layer, &neigh_layer, &eth_layer,	 &arp_layer,   &nd6_layer,  &addr_layer,
	&ipv4_layer,  &ipv6_layer,  &icmp_layer, &icmp6_layer, &frag_layer, &reass_layer,
	&sock_layer,  &udp_layer,   &tcp_layer,	 &esp_layer,   &tun_layer,
};

const unsigned sonde_n_layers = RTE_DIM(sonde_layers);
