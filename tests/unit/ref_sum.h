/*
 * ref_sum.h: the RFC 1071 sum, written from the RFC without DPDK or the
 * stack's wire helpers: the independent witness of the stack's checksums
 * in the unit tests (unit.c) and the fuzz target (tests/fuzz).
 */
#ifndef SONDE_REF_SUM_H
#define SONDE_REF_SUM_H

#include <stddef.h>
#include <stdint.h>

/* The unfolded sum of len bytes as 16-bit big-endian words (an odd last
 * byte padded with zero), continuing sum: 32768 words of 0xffff on top of
 * a pseudo-header's sum fit in 32 bits, so no fold is needed on the way. */
static inline uint32_t
ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* The one's complement sum: the carries folded back in. */
static inline uint16_t
ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

#endif
