/*
 * tun_int.h: a tunnel as tunnel.c and esp.c see it (not the API's).
 */
#ifndef SONDE_TUN_INT_H
#define SONDE_TUN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "stack.h"

#define IPPROTO_IPIP_ 4
#define IPPROTO_GRE_ 47

struct esp_tun;

struct tunnel {
	struct sonde_if *ifp;
	uint8_t mode;
	uint8_t oaf;   /* the outer family, 4 or 6 */
	uint8_t proto; /* the outer header's next protocol: 4, 41 or 47 */
	uint8_t inner; /* the inner families it carries: bit 0 IPv4, bit 1 IPv6 */
	uint8_t ttl;
	int16_t tel;  /* RFC 2473 encapsulation limit put in front; -1: none */
	bool has_key; /* RFC 2890 */
	uint32_t key; /* network order */
	uint8_t local[16], remote[16];
	struct esp_tun *esp; /* ESP over UDP (esp.c); NULL: plain */
	/* The MTU learnt from the underlay's path MTU (tun_pmtu), the one
	 * before it, and when it goes back (RFC 1191 6.3: ten minutes). */
	uint16_t pmtu, mtu_before;
	struct timer pmtu_timer;
};

struct tun_state {
	struct tunnel *t[SONDE_MAX_IFS];
	unsigned n;
};

/* tunnel.c's decapsulation, for esp.c: t's inner packet of m, off bytes
 * after the outer IP header, checked and made the tunnel's (NULL when
 * dropped); then such packets counted and into IP input on their
 * tunnels ifs. */
struct tunnel *tun_strip(struct sonde_stack *st, struct tunnel *t, struct rte_mbuf *m, uint32_t off,
			 uint8_t iaf);
void tun_rx(struct sonde_stack *st, struct rte_mbuf **pkts, struct sonde_if **ifs, uint16_t k);
/* The underlay's path to t's remote end takes path bytes: t's MTU lowered
 * to fit (for ten minutes), its new value returned; 0 if it did not go
 * down (tunnel.c). */
uint16_t tun_pmtu(struct sonde_stack *st, struct tunnel *t, uint32_t path);

#endif
