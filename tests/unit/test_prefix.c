/*
 * test_prefix.c: sonde_prefix_parse(), the text form of addresses and
 * prefixes used by sonded's command line and the integration scripts:
 * IPv4 and IPv6, with and without /LEN, "default" (of no family), "default4"
 * and "default6", and what it must refuse.
 * No EAL: the parser is pure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "unit.h"

static void
expect_v4(const char *s, const char *addr, uint8_t plen)
{
	struct sonde_prefix p;

	memset(&p, 0xee, sizeof(p));
	assert_int_equal(sonde_prefix_parse(s, &p), 0);
	assert_int_equal(p.af, AF_INET);
	assert_int_equal(p.plen, plen);
	assert_int_equal(p.addr.v4, ip4(addr));
	/* The union's other bytes are cleared, not left over. */
	for (size_t i = 4; i < sizeof(p.addr.v6); i++)
		assert_int_equal(p.addr.v6[i], 0);
}

static void
expect_v6(const char *s, const char *addr, uint8_t plen)
{
	struct sonde_prefix p;
	uint8_t want[16];

	assert_int_equal(inet_pton(AF_INET6, addr, want), 1);
	memset(&p, 0xee, sizeof(p));
	assert_int_equal(sonde_prefix_parse(s, &p), 0);
	assert_int_equal(p.af, AF_INET6);
	assert_int_equal(p.plen, plen);
	assert_memory_equal(p.addr.v6, want, 16);
}

static void
expect_bad(const char *s)
{
	struct sonde_prefix p;
	int r = sonde_prefix_parse(s, &p);

	if (r != -EINVAL)
		fail_msg("\"%s\": %d, want -EINVAL", s, r);
}

static void
test_prefix_ipv4(void **state)
{
	(void)state;
	expect_v4("10.0.0.1", "10.0.0.1", 32);
	expect_v4("10.0.0.0/24", "10.0.0.0", 24);
	/* The host part is kept: "10.0.0.1/24" is an address on a /24. */
	expect_v4("10.0.0.1/24", "10.0.0.1", 24);
	expect_v4("192.168.255.254/32", "192.168.255.254", 32);
	expect_v4("0.0.0.0/0", "0.0.0.0", 0);
	expect_v4("255.255.255.255", "255.255.255.255", 32);
	expect_v4("default4", "0.0.0.0", 0);
	expect_v4("172.16.0.0/12", "172.16.0.0", 12);
	expect_v4("10.0.0.0/8", "10.0.0.0", 8);
}

static void
test_prefix_ipv6(void **state)
{
	(void)state;
	expect_v6("fd00::1/64", "fd00::1", 64);
	expect_v6("fd00::1", "fd00::1", 128);
	expect_v6("::1", "::1", 128);
	expect_v6("::/0", "::", 0);
	expect_v6("2001:db8:0:1:2:3:4:5/128", "2001:db8:0:1:2:3:4:5", 128);
	expect_v6("::ffff:10.0.0.1/96", "::ffff:10.0.0.1", 96);
	expect_v6("fe80::1/10", "fe80::1", 10);
	expect_v6("default6", "::", 0);
}

/* "default" is 0/0 of no family: the route's gateway gives it one
 * (sonde_route_add, tested in test_ipv6.c), so that "--route default via
 * fd00::1" is ::/0. */
static void
test_prefix_default(void **state)
{
	struct sonde_prefix p;

	(void)state;
	memset(&p, 0xee, sizeof(p));
	assert_int_equal(sonde_prefix_parse("default", &p), 0);
	assert_int_equal(p.af, AF_UNSPEC);
	assert_int_equal(p.plen, 0);
	for (size_t i = 0; i < sizeof(p.addr.v6); i++)
		assert_int_equal(p.addr.v6[i], 0);
}

static void
test_prefix_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"/",
		"/24",
		"10.0.0.1/",
		"10.0.0.1/33",
		"10.0.0.1/-1",
		"10.0.0.1/24x",
		"10.0.0.1/x",
		"10.0.0.1/24/8",
		"10.0.0.1/99999999999999999999999",
		"10.0.0.1/ 24",
		"10.0.0.1/+24",
		"10.0.0",
		"10.0.0.256",
		"10.0.0.1.1",
		" 10.0.0.1",
		"10.0.0.1 ",
		"fd00::1/129",
		"fd00:::1",
		"fd00::g",
		"default/0",
		"Default",
		"default4/0",
		"default6/0",
		"default5",
		"default ",
		"localhost",
		"1234567890123456789012345678901234567890123456789012345678901234567890",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_ipv4),
		cmocka_unit_test(test_prefix_ipv6),
		cmocka_unit_test(test_prefix_default),
		cmocka_unit_test(test_prefix_bad),
	};

	return cmocka_run_group_tests_name("prefix", tests, NULL, NULL);
}
