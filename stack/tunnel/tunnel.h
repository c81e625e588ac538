/*
 * tunnel.h: tunnel interfaces (tunnel.c), for the list of layers.
 */
#ifndef SONDE_TUNNEL_H
#define SONDE_TUNNEL_H

#include "stack.h"

extern const struct sonde_layer tun_layer;
extern const struct if_kind tun_kind;

#endif
