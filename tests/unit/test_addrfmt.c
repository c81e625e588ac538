/*
 * test_addrfmt.c: the probes' address formatters against glibc's
 * inet_ntop(), byte for byte: every IPv4 octet value, IPv6 addresses with
 * every pattern of zero groups (RFC 5952 4.2: the longest run of two or
 * more, the first on a tie, a single zero group never compressed), random
 * group values, and the embedded-IPv4 forms.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addrfmt.h"

/* Four NULs after the text, and nothing touched after them. */
static void
check_tail(const char *got, unsigned n)
{
	for (unsigned i = n; i < n + 4; i++)
		assert_int_equal(got[i], 0);
	for (unsigned i = n + 4; i <= ADDRFMT_LEN; i++)
		assert_int_equal(got[i], 'X');
}

static void
check6(const uint8_t *a)
{
	char want[INET6_ADDRSTRLEN], got[ADDRFMT_LEN + 1];
	unsigned n;

	assert_non_null(inet_ntop(AF_INET6, a, want, sizeof(want)));
	memset(got, 'X', sizeof(got));
	n = addrfmt_v6(got, a);
	assert_string_equal(got, want);
	assert_int_equal(n, strlen(want));
	check_tail(got, n);
}

static void
test_v4_all_octets(void **state)
{
	char want[INET_ADDRSTRLEN], got[ADDRFMT_LEN + 1];
	uint8_t a[4];

	(void)state;
	for (unsigned v = 0; v < 256; v++) {
		a[0] = (uint8_t)v;
		a[1] = (uint8_t)(255 - v);
		a[2] = (uint8_t)(v * 7);
		a[3] = (uint8_t)(v ^ 0x5a);
		inet_ntop(AF_INET, a, want, sizeof(want));
		memset(got, 'X', sizeof(got));
		assert_int_equal(addrfmt_v4(got, a), strlen(want));
		assert_string_equal(got, want);
		check_tail(got, (unsigned)strlen(want));
	}
}

/* Every one of the 256 patterns of zero and non-zero groups, with small,
 * large and leading-zero group values. */
static void
test_v6_zero_patterns(void **state)
{
	static const uint16_t vals[] = { 1, 0xa, 0xab, 0xabc, 0xabcd, 0xffff, 0x100, 0x10 };
	uint8_t a[16];

	(void)state;
	for (unsigned pat = 0; pat < 256; pat++)
		for (unsigned v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			for (int i = 0; i < 8; i++) {
				uint16_t w = (pat >> i) & 1 ? vals[(v + (unsigned)i) % 8] : 0;

				a[2 * i] = (uint8_t)(w >> 8);
				a[2 * i + 1] = (uint8_t)w;
			}
			check6(a);
		}
}

static void
test_v6_random_and_special(void **state)
{
	static const char *const special[] = {
		"::",
		"::1",
		"::ffff:10.1.2.3",
		"::10.1.2.3",
		"::ffff:0.0.0.0",
		"fe80::1",
		"ff02::1:ff00:2",
		"2001:db8::1:0:0:1",
		"2001:db8:0:0:1::1",
		"1::",
		"1:0:0:2::",
		"::2:0:0:3",
		"0:0:1::",
		"fd00::2",
	};
	uint8_t a[16];

	(void)state;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, special[i], a), 1);
		check6(a);
	}
	srand(42);
	for (int n = 0; n < 100000; n++) {
		for (int i = 0; i < 16; i++)
			a[i] = (uint8_t)(rand() % 4 == 0 ? rand() : 0);
		check6(a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_all_octets),
		cmocka_unit_test(test_v6_zero_patterns),
		cmocka_unit_test(test_v6_random_and_special),
	};

	return cmocka_run_group_tests_name("addrfmt", tests, NULL, NULL);
}
