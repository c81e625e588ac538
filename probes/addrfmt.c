/*
 * addrfmt.c: IPv4 and IPv6 addresses as text (see addrfmt.h).  RFC 5952.
 */
#include "addrfmt.h"

static char *
addrfmt_dec(char *p, uint8_t v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *
addrfmt_quad(char *p, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = addrfmt_dec(p, a[i]);
	}
	return p;
}

unsigned
addrfmt_v4(char *out, const uint8_t *a)
{
	char *p = addrfmt_quad(out, a);

	*p = '\0';
	return (unsigned)(p - out);
}

static char *
addrfmt_hex(char *p, uint16_t w)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 12;

	while (shift > 0 && (w >> shift) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hex[(w >> shift) & 0xf];
	return p;
}

unsigned
addrfmt_v6(char *out, const uint8_t *a)
{
	uint16_t w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	char *p = out;

	for (int i = 0; i < 8; i++) {
		w[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			if (++cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (best + best_len == 8)
				*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i)
			*p++ = ':';
		/* ::a.b.c.d and ::ffff:a.b.c.d, as glibc writes them. */
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			p = addrfmt_quad(p, a + 12);
			break;
		}
		p = addrfmt_hex(p, w[i]);
	}
	*p = '\0';
	return (unsigned)(p - out);
}
