/*
 * esp.h: ESP over UDP on a tunnel (esp.c), for tunnel.c and the list of
 * layers.
 */
#ifndef SONDE_ESP_H
#define SONDE_ESP_H

#include <stdint.h>

#include <sonde/sonde.h>

#include "stack.h"
#include "tun_int.h"

extern const struct sonde_layer esp_layer;

/* What ESP over UDP adds to an outer packet of an inner one of len bytes:
 * UDP 8, ESP 8, IV 8, padding to 4 with its 2 trailer bytes, ICV 16. */
static inline uint32_t
esp_overhead(uint32_t len)
{
	return 8 + 8 + 8 + ((len + 2 + 3) & ~3u) - len + 16;
}

/* t's ESP state from c (checked: -EINVAL), its crypto sessions made in
 * st's crypto device (made at the first: -ENODEV when DPDK has no
 * OpenSSL PMD); 0 or a negative errno. */
int esp_tun_create(struct sonde_stack *st, struct tunnel *t, const struct sonde_esp_conf *c);
void esp_tun_free(struct sonde_stack *st, struct tunnel *t);

#endif
