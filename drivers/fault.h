/*
 * fault.h: the fault injector (fault.c), for the core.
 */
#ifndef SONDE_FAULT_H
#define SONDE_FAULT_H

#include "sonde/sonde.h"

struct sonde_if;
struct sonde_stack;

/* Interface ifp is going: what its fault injector holds is dropped
 * (fault-flushed) and the injector removed.  Nothing without one. */
void fault_release(struct sonde_stack *st, struct sonde_if *ifp);
/* The injector's counters, if.NAME.fault.*, when ifp has one. */
void fault_stats(const struct sonde_if *ifp, sonde_stat_fn fn, void *arg);

#endif
