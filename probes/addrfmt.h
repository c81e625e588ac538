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

/* out has room for 16 bytes ("255.255.255.255" and NUL); returns the length. */
unsigned addrfmt_v4(char *out, const uint8_t *a);
/* out has room for 46 bytes (INET6_ADDRSTRLEN); returns the length. */
unsigned addrfmt_v6(char *out, const uint8_t *a);

#endif
