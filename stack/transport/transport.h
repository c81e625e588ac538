/*
 * transport.h: the transport layer (private to libsonde).
 */
#ifndef SONDE_TRANSPORT_H
#define SONDE_TRANSPORT_H

#include "stack.h"

/* The layers this folder gives the stack (stack/layers.c). */
extern const struct sonde_layer sock_layer, udp_layer, tcp_layer;

#endif
