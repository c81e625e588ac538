/*
 * gen_tcp.h: sonde-gen's TCP modes (gen_tcp.c), on libsonde.
 */
#ifndef SONDE_GEN_TCP_H
#define SONDE_GEN_TCP_H

#include <stdbool.h>

/* True if the arguments (after EAL's) ask for a TCP mode. */
bool gen_tcp_wanted(int argc, char **argv);
/* Runs it, EAL initialised; returns the exit status. */
int gen_tcp_main(int argc, char **argv);

#endif
