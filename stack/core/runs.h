/*
 * runs.h: runs of packets that go the same way.
 *
 * Every layer hands its burst on as runs: stretches of consecutive packets
 * with one key (a handler, a class, an interface), so the burst keeps its
 * order and each handler is called once per stretch.  Finding where a run
 * ends is on every packet's path, once per layer: sixteen keys are compared
 * at once where the CPU has SSE2 (a compare of one byte a packet cost six
 * instructions a packet a layer, measured with bench/replay).
 */
#ifndef SONDE_RUNS_H
#define SONDE_RUNS_H

#include <stdint.h>

#include <rte_common.h>
#ifdef __SSE2__
#include <emmintrin.h>

#endif

/* A key array has room for this many keys past the burst, so that the
 * compare may read sixteen at a time (run_close() fills them). */
#define RUN_PAD 16

/* After the last of n keys: keys that match none, so no run goes past n. */
static __rte_always_inline void
run_close(uint8_t *key, uint16_t n)
{
	uint8_t stop = (uint8_t)(n ? ~key[n - 1] : 0);

	for (unsigned i = 0; i < RUN_PAD; i++)
		key[n + i] = stop;
}

/* How many keys from key[i] on equal key[i]; key closed by run_close(). */
static __rte_always_inline uint16_t
run_len(const uint8_t *key, uint16_t i)
{
#ifdef __SSE2__
	__m128i k = _mm_set1_epi8((char)key[i]);
	uint16_t j = i;

	for (;;) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(key + j));
		uint32_t ne = ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, k)) & 0xffff;

		if (ne)
			return (uint16_t)(j + (uint16_t)__builtin_ctz(ne) - i);
		j += 16;
	}
#else
	uint16_t j = i + 1;

	while (key[j] == key[i])
		j++;
	return (uint16_t)(j - i);
#endif
}

/* The same for 16-bit keys (eight at a time), in an array with room for
 * RUN_PAD16 more. */
#define RUN_PAD16 8

static __rte_always_inline void
run_close16(uint16_t *key, uint16_t n)
{
	uint16_t stop = (uint16_t)(n ? ~key[n - 1] : 0);

	for (unsigned i = 0; i < RUN_PAD16; i++)
		key[n + i] = stop;
}

static __rte_always_inline uint16_t
run_len16(const uint16_t *key, uint16_t i)
{
#ifdef __SSE2__
	__m128i k = _mm_set1_epi16((short)key[i]);
	uint16_t j = i;

	for (;;) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(key + j));
		uint32_t ne = ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(v, k)) & 0xffff;

		if (ne)
			return (uint16_t)(j + (uint16_t)(__builtin_ctz(ne) / 2) - i);
		j += 8;
	}
#else
	uint16_t j = i + 1;

	while (key[j] == key[i])
		j++;
	return (uint16_t)(j - i);
#endif
}

#endif
