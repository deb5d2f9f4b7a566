/* Unit tests for core/ep.c: IPv4-mapped endpoints, wire form, text form. */
#include "test_util.h"

#include "core/ep.h"
#include "core/err.h"

#define ITERS 5000

static void test_ipv4(void **state)
{
	(void)state;
	rn_ep ep;
	rn_ep_from_ipv4(&ep, 0xC0A80102u, 4000); /* 192.168.1.2 */
	static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0xff, 0xff, 192, 168, 1, 2};
	assert_memory_equal(ep.addr, want, 16);
	assert_int_equal(ep.port, 4000);
	assert_true(rn_ep_is_ipv4(&ep));
	assert_int_equal(rn_ep_ipv4(&ep), 0xC0A80102u);
	assert_false(rn_ep_is_zero(&ep));

	/* an IPv6 address is not IPv4 and has no IPv4 value */
	memset(&ep, 0, sizeof ep);
	ep.addr[0] = 0x20;
	ep.addr[1] = 0x01;
	assert_false(rn_ep_is_ipv4(&ep));
	assert_int_equal(rn_ep_ipv4(&ep), 0);
	/* ::ffff:0:0 style prefix with one byte off is not IPv4-mapped */
	rn_ep_from_ipv4(&ep, 0x01020304u, 1);
	ep.addr[9] = 1;
	assert_false(rn_ep_is_ipv4(&ep));
}

static void test_eq_zero(void **state)
{
	(void)state;
	rn_ep a, b;
	memset(&a, 0, sizeof a);
	assert_true(rn_ep_is_zero(&a));
	b = a;
	b.port = 1;
	assert_false(rn_ep_is_zero(&b));
	assert_false(rn_ep_eq(&a, &b));
	b = a;
	b.addr[15] = 1;
	assert_false(rn_ep_is_zero(&b));
	assert_false(rn_ep_eq(&a, &b));
	for (int i = 0; i < 16; i++) {
		rn_ep_from_ipv4(&a, 0x0a000001u, 80);
		b = a;
		assert_true(rn_ep_eq(&a, &b));
		b.addr[i] ^= 0x10;
		assert_false(rn_ep_eq(&a, &b));
	}
}

static void test_wire(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	rn_ep ep;
	uint8_t w[RN_EP_WIRE_LEN];
	rn_ep_from_ipv4(&ep, 0x01020304u, 0xABCD);
	rn_ep_to_wire(&ep, w);
	static const uint8_t want[RN_EP_WIRE_LEN] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4, 0xAB, 0xCD};
	assert_memory_equal(w, want, RN_EP_WIRE_LEN);
	for (uint64_t it = 0; it < ITERS; it++) {
		rn_ep a, b;
		trng_bytes(&r, a.addr, 16);
		a.port = (uint16_t)trng_u64(&r);
		rn_ep_to_wire(&a, w);
		PCHECK(memcmp(w, a.addr, 16) == 0, seed, it);
		PCHECK(w[16] == (uint8_t)(a.port >> 8) && w[17] == (uint8_t)a.port,
		       seed, it);
		rn_ep_from_wire(&b, w);
		PCHECK(rn_ep_eq(&a, &b), seed, it);
	}
}

static void test_to_str(void **state)
{
	(void)state;
	char s[RN_EP_STR_MAX];
	rn_ep ep;
	rn_ep_from_ipv4(&ep, 0x7f000001u, 8080);
	assert_string_equal(rn_ep_to_str(&ep, s, sizeof s), "127.0.0.1:8080");
	rn_ep_from_ipv4(&ep, 0xffffffffu, 65535);
	assert_string_equal(rn_ep_to_str(&ep, s, sizeof s),
			    "255.255.255.255:65535");
	memset(&ep, 0, sizeof ep);
	ep.addr[15] = 1;
	ep.port = 443;
	assert_string_equal(rn_ep_to_str(&ep, s, sizeof s), "[::1]:443");
	/* the longest form fits RN_EP_STR_MAX */
	memset(ep.addr, 0xff, 16);
	ep.port = 65535;
	rn_ep_to_str(&ep, s, sizeof s);
	assert_string_equal(s, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	assert_true(strlen(s) < RN_EP_STR_MAX);
	/* a short buffer truncates without overflow */
	char small[8];
	memset(small, 'x', sizeof small);
	rn_ep_to_str(&ep, small, sizeof small);
	assert_int_equal(small[sizeof small - 1], '\0');
}

static void test_from_str(void **state)
{
	(void)state;
	rn_ep ep, want;
	assert_int_equal(rn_ep_from_str(&ep, "10.1.2.3:4000"), 0);
	rn_ep_from_ipv4(&want, 0x0a010203u, 4000);
	assert_true(rn_ep_eq(&ep, &want));
	assert_int_equal(rn_ep_from_str(&ep, "0.0.0.0:0"), 0);
	assert_true(rn_ep_is_ipv4(&ep));
	assert_int_equal(ep.port, 0);
	assert_int_equal(rn_ep_from_str(&ep, "[2001:db8::7]:65535"), 0);
	memset(&want, 0, sizeof want);
	want.addr[0] = 0x20;
	want.addr[1] = 0x01;
	want.addr[2] = 0x0d;
	want.addr[3] = 0xb8;
	want.addr[15] = 7;
	want.port = 65535;
	assert_true(rn_ep_eq(&ep, &want));

	static const char *bad[] = {
		"",
		"10.1.2.3",
		"10.1.2.3:",
		"10.1.2.3:65536",
		"10.1.2.3:-1",
		"10.1.2.3:+1",
		"10.1.2.3: 1",
		"10.1.2.3:80x",
		"10.1.2.3:99999999999999999999999",
		"10.1.2:80",
		"256.1.2.3:80",
		"host.example:80",
		":80",
		"::1:80",
		"[::1]",
		"[::1]:",
		"[::1]80",
		"[::1:80",
		"[::1]:65536",
		"[zz::1]:80",
		"[10.1.2.3]:80",
		"[::1]:80:",
		"10.1.2.3:80:",
		"[0000:0000:0000:0000:0000:0000:0000:0000:0000]:1",
		"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:655350000000000000",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = rn_ep_from_str(&ep, bad[i]);
		if (rc != RN_ERR_INVAL)
			fail_msg("accepted bad endpoint \"%s\" (rc %d)", bad[i], rc);
	}
}

static void test_str_round_trip(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	char s[RN_EP_STR_MAX];
	for (uint64_t it = 0; it < ITERS; it++) {
		rn_ep a, b;
		if (trng_below(&r, 2))
			rn_ep_from_ipv4(&a, (uint32_t)trng_u64(&r),
					(uint16_t)trng_u64(&r));
		else {
			trng_bytes(&r, a.addr, 16);
			/* zero runs exercise "::" compression */
			size_t z = trng_below(&r, 17), at = trng_below(&r, 17 - z);
			memset(a.addr + at, 0, z);
			a.port = (uint16_t)trng_u64(&r);
		}
		rn_ep_to_str(&a, s, sizeof s);
		memset(&b, 0x77, sizeof b);
		PCHECK(rn_ep_from_str(&b, s) == 0, seed, it);
		PCHECK(rn_ep_eq(&a, &b), seed, it);
		PCHECK((s[0] == '[') == !rn_ep_is_ipv4(&a), seed, it);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_eq_zero),
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_to_str),
		cmocka_unit_test(test_from_str),
		cmocka_unit_test(test_str_round_trip),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
