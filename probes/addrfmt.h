/*
 * addrfmt.h: addresses as text for the probes, fast.
 *
 * Same output as glibc's inet_ntop() (RFC 5952 for IPv6: lowercase, no
 * leading zeros, the longest run of two or more zero groups as "::", the
 * first such run on a tie; IPv4-mapped and -compatible addresses with a
 * dotted quad), at a fraction of its cost: inet_ntop() formats through
 * sprintf(), and a traced probe formats two addresses every time it fires.
 */
#ifndef SONDE_ADDRFMT_H
#define SONDE_ADDRFMT_H

#include <stdint.h>

/* The room out must have: INET6_ADDRSTRLEN, the probes' SONDE_ADDRSTRLEN. */
#define ADDRFMT_LEN 46

/* Write the text into out[ADDRFMT_LEN], then four NULs; the rest of out is
 * left as it was (the probes zero it first: a char[] keys a bpftrace map
 * whole, so what follows the text counts).  Return the length. */
unsigned addrfmt_v4(char *out, const uint8_t *a);
unsigned addrfmt_v6(char *out, const uint8_t *a);

#endif
