/*
 * iface.h: what the core does with interfaces (iface.c), for stack.c.
 */
#ifndef SONDE_IFACE_H
#define SONDE_IFACE_H

#include "stack.h"

/* A driver's burst into the stack, to the kind's input; how many. */
unsigned if_rx(struct sonde_stack *st, struct sonde_if *ifp);
/* Drops what an interface holds and closes its capture. */
void if_release(struct sonde_stack *st, struct sonde_if *ifp);
int if_loop_create(struct sonde_stack *st);
/* lo0's turn of a poll: what was queued before it. */
void if_loop_poll(struct sonde_stack *st);
/* Drops what lo0 holds. */
void if_loop_drain(struct sonde_stack *st);

#endif
