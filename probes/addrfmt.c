/*
 * addrfmt.c: IPv4 and IPv6 addresses as text (see addrfmt.h).  RFC 5952.
 *
 * Branch-light: a traced probe formats two addresses every time it fires,
 * and the stack's share of a traced probe is a published figure (bench/run).
 * Digits are made four at a time in a 32-bit word and stored whole; the
 * pointer then moves past the ones that count, so a store may run up to
 * three bytes past the text: the end writes four NULs over them.
 */
#include <string.h>

#include "addrfmt.h"

/* 0..255 in decimal and a dot, as the bytes of a word, first digit lowest:
 * one load a byte instead of two divisions.  Filled once, at load time. */
static uint32_t addrfmt_dec[256];

/* For each pattern of zero groups (bit i: group i is zero), where the
 * groups to compress start (8: none) and how many: RFC 5952 4.2.3, the
 * longest run of two or more, the first on a tie. */
static uint8_t addrfmt_run_at[256], addrfmt_run_len[256];

static void __attribute__((constructor)) addrfmt_init(void)
{
	for (unsigned zero = 0; zero < 256; zero++) {
		unsigned best = 8, best_len = 0, len = 0;

		for (unsigned i = 0; i < 8; i++) {
			len = zero >> i & 1 ? len + 1 : 0;
			if (len > best_len && len >= 2)
				best = i + 1 - len, best_len = len;
		}
		addrfmt_run_at[zero] = (uint8_t)best;
		addrfmt_run_len[zero] = (uint8_t)best_len;
	}
	for (unsigned v = 0; v < 256; v++) {
		uint32_t w = 0, n = 0;

		if (v >= 100)
			w |= (uint32_t)('0' + v / 100) << (8 * n++);
		if (v >= 10)
			w |= (uint32_t)('0' + v / 10 % 10) << (8 * n++);
		w |= (uint32_t)('0' + v % 10) << (8 * n++);
		addrfmt_dec[v] = w | (uint32_t)'.' << (8 * n);
	}
}

static char *
addrfmt_quad(char *p, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		/* the dot is overwritten by the next byte's digits, or by
		 * the NULs after the last */
		memcpy(p, &addrfmt_dec[a[i]], 4);
		p += 2 + (a[i] >= 10) + (a[i] >= 100);
	}
	return p - 1;
}

/* The NUL, and zeros over what the last word store wrote past the text. */
static inline void
addrfmt_end(char *p)
{
	memset(p, 0, 4);
}

unsigned
addrfmt_v4(char *out, const uint8_t *a)
{
	char *p = addrfmt_quad(out, a);

	addrfmt_end(p);
	return (unsigned)(p - out);
}

/* A group in hex, no leading zeros: the four nibbles spread one a byte,
 * most significant first, turned into '0'-'9' and 'a'-'f' together. */
static inline char *
addrfmt_hex(char *p, uint16_t w)
{
	uint32_t x = (uint32_t)(w >> 12) | (uint32_t)(w >> 8 & 0xf) << 8 |
		     (uint32_t)(w >> 4 & 0xf) << 16 | (uint32_t)(w & 0xf) << 24;
	/* leading zero digits, but the last digit always stays */
	unsigned skip = w ? ((unsigned)__builtin_clz(w) - 16u) / 4u : 3u;

	x += 0x30303030u + ((x + 0x06060606u) >> 4 & 0x01010101u) * ('a' - '0' - 10);
	x >>= 8 * skip;
	memcpy(p, &x, 4);
	return p + 4 - skip;
}

/* Which of the four 16-bit groups at a are zero, as bits 0-3: a lane's top
 * bit is set after the sum only if its low 15 bits were not all zero, and
 * no carry crosses lanes. */
static inline unsigned
addrfmt_zero4(const uint8_t *a)
{
	const uint64_t low = 0x7fff7fff7fff7fffull;
	uint64_t x, y;

	memcpy(&x, a, 8);
	y = ~(((x & low) + low) | x | low) >> 15;
	return (unsigned)((y | y >> 15 | y >> 30 | y >> 45) & 0xf);
}

unsigned
addrfmt_v6(char *out, const uint8_t *a)
{
	unsigned zero = addrfmt_zero4(a) | addrfmt_zero4(a + 8) << 4;
	int best = addrfmt_run_at[zero];
	unsigned len = addrfmt_run_len[zero];
	char *p = out;

	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (best + (int)len == 8)
				*p++ = ':';
			i += (int)len - 1;
			continue;
		}
		if (i)
			*p++ = ':';
		/* ::a.b.c.d and ::ffff:a.b.c.d, as glibc writes them. */
		if (i == 6 && best == 0 &&
		    (len == 6 || (len == 5 && a[10] == 0xff && a[11] == 0xff))) {
			p = addrfmt_quad(p, a + 12);
			break;
		}
		p = addrfmt_hex(p, (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]));
	}
	addrfmt_end(p);
	return (unsigned)(p - out);
}
